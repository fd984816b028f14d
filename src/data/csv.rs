//! Reading CSV text (`x,y,label`) into points, with 1-based line numbers in every error.

use super::{DataError, MAX_POINTS, Sample};

/// Whether `text` (a file read as UTF-8) is really binary: a NUL, or more than one character
/// in twenty of its first 1,024 replacement characters (bytes that were not UTF-8) or control
/// characters other than line breaks and tabs.
fn looks_binary(text: &str) -> bool {
    let mut seen = 0usize;
    let mut odd = 0usize;
    for c in text.chars().take(1024) {
        if c == '\0' {
            return true;
        }
        seen += 1;
        if c == '\u{fffd}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            odd += 1;
        }
    }
    odd * 20 > seen
}

pub(super) fn parse_csv(text: &str) -> Result<Vec<Sample>, DataError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if looks_binary(text) {
        return Err(DataError::NotText);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    // The csv crate's own line count ignores blank lines, so the 1-based line
    // is worked out from the record's byte offset, which may point at blank
    // lines skipped before the record.
    let line_at = |pos: Option<&csv::Position>| {
        pos.map_or(0, |p| {
            let byte = usize::try_from(p.byte()).unwrap_or(usize::MAX);
            let blank = text.get(byte..).map_or(0, |rest| {
                rest.len() - rest.trim_start_matches(['\r', '\n']).len()
            });
            let before = text.get(..byte + blank).unwrap_or(text);
            before.bytes().filter(|&b| b == b'\n').count() + 1
        })
    };
    let csv_error = |e: csv::Error| DataError::Csv {
        line: line_at(e.position()),
        message: e.to_string(),
    };
    let line_of = |r: &csv::StringRecord| line_at(r.position());

    let header = match records.next() {
        None => return Err(DataError::Empty),
        Some(r) => r.map_err(csv_error)?,
    };
    let header_ok = header.len() == 3
        && header
            .iter()
            .zip(["x", "y", "label"])
            .all(|(got, want)| got.eq_ignore_ascii_case(want));
    if !header_ok {
        return Err(DataError::Csv {
            line: line_of(&header),
            message: {
                let found = header.iter().collect::<Vec<_>>().join(",");
                let shown: String = found.chars().take(40).collect();
                let more = if shown.len() < found.len() { "…" } else { "" };
                format!("header must be x,y,label, found \"{shown}{more}\"")
            },
        });
    }

    let mut points = Vec::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        // Line numbers are worked out only for an error: counting lines for every record would
        // make loading quadratic in the file's length.
        let line = || line_of(&record);
        // A line holding only whitespace trims to a single empty field.
        if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
            continue;
        }
        if record.len() != 3 {
            return Err(DataError::Csv {
                line: line(),
                message: format!("expected 3 fields (x,y,label), found {}", record.len()),
            });
        }
        let mut values = [0.0_f32; 3];
        for ((slot, field), column) in values
            .iter_mut()
            .zip(record.iter())
            .zip(["x", "y", "label"])
        {
            let value: f32 = field.parse().map_err(|_| DataError::Csv {
                line: line(),
                message: format!("\"{field}\" is not a number in column {column}"),
            })?;
            if !value.is_finite() {
                return Err(DataError::Csv {
                    line: line(),
                    message: format!("\"{field}\" in column {column} is not a finite number"),
                });
            }
            *slot = value;
        }
        if points.len() == MAX_POINTS {
            return Err(DataError::TooManyPoints);
        }
        points.push(Sample {
            x: values[0],
            y: values[1],
            label: values[2],
        });
    }
    if points.is_empty() {
        return Err(DataError::Empty);
    }
    Ok(points)
}
