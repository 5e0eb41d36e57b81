//! CSV cells shared by predictions.csv and `runner predict`'s output.

/// A text cell: quoted when it holds a comma, a quote or a line break.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A number in its shortest form that reads back exactly; exponent notation outside
/// [1e-5, 1e16), so that 1e-300 is not written with 300 zeros.
pub fn number(v: f64) -> String {
    let mut out = String::new();
    push_number(&mut out, v);
    out
}

/// [`number`] appended to `out` (predictions.csv writes hundreds of thousands).
pub fn push_number(out: &mut String, v: f64) {
    use std::fmt::Write;
    let _ = if v == 0.0 || !v.is_finite() || (1e-5..1e16).contains(&v.abs()) {
        write!(out, "{v}")
    } else {
        write!(out, "{v:e}")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_exactly_and_stay_short() {
        for v in [0.0, 1.0, -2.5, 0.1, 1e-300, 7.080523235181823e-5, 1e300, 123456789.125, f64::MIN_POSITIVE] {
            let s = number(v);
            assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
            assert!(s.len() <= 24, "{s}");
        }
        assert_eq!(number(1.0), "1");
        assert_eq!(field("a,b"), "\"a,b\"");
    }
}
