//! Chart thinning keeps what the eye sees: every column's extremes and both ends.

use firefly_playground::chart::thin;

#[test]
fn a_long_curve_keeps_four_points_per_pixel_and_every_extreme() {
    // 100,000 epochs over 300 pixels: a decaying loss with noise and one spike.
    let n = 100_000;
    let points: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let x = 300.0 * i as f64 / n as f64;
            let noise = ((i * 7919) % 101) as f64 / 1000.0;
            let spike = if i == 54_321 { 5.0 } else { 0.0 };
            (x, 1.0 / (1.0 + x) + noise + spike)
        })
        .collect();
    let thinned = thin(&points);
    assert!(thinned.len() <= 4 * 300, "{} points", thinned.len());
    assert_eq!(thinned.first(), points.first());
    assert_eq!(thinned.last(), points.last());
    let max = |p: &[(f64, f64)]| p.iter().map(|q| q.1).fold(f64::MIN, f64::max);
    let min = |p: &[(f64, f64)]| p.iter().map(|q| q.1).fold(f64::MAX, f64::min);
    assert_eq!(max(&thinned), max(&points), "the spike is kept");
    assert_eq!(min(&thinned), min(&points));
    // Per column, the extremes survive and x stays in order.
    assert!(thinned.windows(2).all(|w| w[0].0 <= w[1].0));
    for column in [0.0, 150.0, 299.0] {
        let inside = |p: &&(f64, f64)| p.0.floor() == column;
        let orig: Vec<_> = points.iter().filter(inside).copied().collect();
        let kept: Vec<_> = thinned.iter().filter(inside).copied().collect();
        assert_eq!(max(&kept), max(&orig));
        assert_eq!(min(&kept), min(&orig));
    }
}

#[test]
fn a_short_curve_is_untouched() {
    let points = vec![(0.0, 1.0), (0.5, 2.0), (10.0, 0.5), (10.2, 0.7)];
    assert_eq!(thin(&points), points);
    assert!(thin(&[]).is_empty());
}
