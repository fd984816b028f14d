//! Chart helpers the view uses before drawing: plain functions over numbers, tested natively.

/// Thins a polyline for drawing: within each one-pixel column of `x` it keeps the first, lowest,
/// highest and last point, in their order. A curve of a million epochs then costs at most four
/// points per pixel of width, and looks the same: every extreme is kept.
pub fn thin(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len().min(4096));
    let mut start = 0;
    while start < points.len() {
        let column = points[start].0.floor();
        let mut end = start + 1;
        while end < points.len() && points[end].0.floor() == column {
            end += 1;
        }
        let group = &points[start..end];
        if group.len() <= 4 {
            out.extend_from_slice(group);
        } else {
            let by_y = |better: fn(f64, f64) -> bool| {
                (1..group.len()).fold(0, |best, i| {
                    if better(group[i].1, group[best].1) {
                        i
                    } else {
                        best
                    }
                })
            };
            let (low, high) = (by_y(|a, b| a < b), by_y(|a, b| a > b));
            let mut keep = [0, low, high, group.len() - 1];
            keep.sort_unstable();
            let mut last = usize::MAX;
            for i in keep {
                if i != last {
                    out.push(group[i]);
                    last = i;
                }
            }
        }
        start = end;
    }
    out
}
