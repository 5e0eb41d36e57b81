//! Imputation fitted on training rows: a numeric column's fill (mean, median, mode, constant,
//! interpolation) and a categorical column's.

use super::PreprocessError;
use crate::config::{FillValue, Impute};

/// How missing numeric values of one column are filled in a fold.
pub(super) enum NumericFill {
    None,
    Value(f64),
    /// Train rows with a value, in file order: (dataset row, value).
    Interpolate(Vec<(usize, f64)>),
}

impl NumericFill {
    pub(super) fn value_at(&self, row: usize) -> f64 {
        match self {
            NumericFill::None => f64::NAN,
            NumericFill::Value(v) => *v,
            NumericFill::Interpolate(points) => interpolate(points, row),
        }
    }
}

/// Linear interpolation by row position between the nearest known rows; the nearest value
/// beyond either end.
pub(super) fn interpolate(points: &[(usize, f64)], row: usize) -> f64 {
    let after = points.partition_point(|(r, _)| *r < row);
    match (after.checked_sub(1).map(|i| points[i]), points.get(after)) {
        (Some((r0, v0)), Some(&(r1, v1))) => v0 + (v1 - v0) * (row - r0) as f64 / (r1 - r0) as f64,
        (Some((_, v)), None) | (None, Some(&(_, v))) => v,
        (None, None) => f64::NAN,
    }
}

/// numpy's median of sorted values (the mean of the middle two for an even count).
pub fn median_of_sorted(sorted: &[f64]) -> f64 {
    let m = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[m]
    } else {
        (sorted[m - 1] + sorted[m]) / 2.0
    }
}

pub(super) fn fit_fill(
    name: &str,
    values: &[f64],
    train: &[usize],
    impute: Impute,
    fill: Option<&FillValue>,
) -> Result<NumericFill, PreprocessError> {
    // The fill is fitted whenever the column has a gap anywhere: a gap that only the test
    // rows hold must be filled too (from the training rows, as SimpleImputer does).
    if !values.iter().any(|v| v.is_nan()) {
        return Ok(NumericFill::None);
    }
    fit_fill_always(name, values, train, impute, fill)
}

/// The fill of a column from its training rows, whether or not the column has gaps (a
/// saved model fills the gaps of data it has not seen).
pub(super) fn fit_fill_always(
    name: &str,
    values: &[f64],
    train: &[usize],
    impute: Impute,
    fill: Option<&FillValue>,
) -> Result<NumericFill, PreprocessError> {
    let mut known: Vec<f64> = train.iter().map(|&r| values[r]).filter(|v| !v.is_nan()).collect();
    let nothing = |what| PreprocessError::NothingToImpute { column: name.to_string(), what };
    Ok(match impute {
        Impute::Error | Impute::Drop | Impute::Keep => NumericFill::None,
        Impute::Mean => {
            if known.is_empty() {
                return Err(nothing("mean"));
            }
            NumericFill::Value(known.iter().sum::<f64>() / known.len() as f64)
        }
        Impute::Median => {
            if known.is_empty() {
                return Err(nothing("median"));
            }
            known.sort_by(f64::total_cmp);
            NumericFill::Value(median_of_sorted(&known))
        }
        Impute::Mode => {
            if known.is_empty() {
                return Err(nothing("mode"));
            }
            known.sort_by(f64::total_cmp);
            // Most frequent; ties go to the smallest value, as in scikit-learn.
            let (mut best, mut best_count) = (known[0], 0);
            let mut i = 0;
            while i < known.len() {
                let run = known[i..].iter().take_while(|v| **v == known[i]).count();
                if run > best_count {
                    best = known[i];
                    best_count = run;
                }
                i += run;
            }
            NumericFill::Value(best)
        }
        Impute::Constant => match fill {
            Some(FillValue::Number(x)) => NumericFill::Value(*x),
            _ => NumericFill::None,
        },
        Impute::Interpolate => {
            let mut points: Vec<(usize, f64)> =
                train.iter().map(|&r| (r, values[r])).filter(|(_, v)| !v.is_nan()).collect();
            if points.is_empty() {
                return Err(nothing("interpolation"));
            }
            points.sort_by_key(|(r, _)| *r);
            NumericFill::Interpolate(points)
        }
    })
}

pub(super) fn fit_category_fill(
    codes: &[Option<u32>],
    categories: &[String],
    train: &[usize],
    impute: Impute,
    fill: Option<&FillValue>,
) -> Option<u32> {
    match impute {
        Impute::Mode => {
            let mut counts = vec![0usize; categories.len()];
            for &r in train {
                if let Some(c) = codes[r] {
                    counts[c as usize] += 1;
                }
            }
            most_frequent(&counts).map(|c| c as u32)
        }
        // An unseen fill value has no indicator column: the row gets all zeros.
        Impute::Constant => match fill {
            Some(FillValue::Text(t)) => categories.iter().position(|c| c == t).map(|c| c as u32),
            _ => None,
        },
        _ => None,
    }
}

/// The most frequent category by its count (`None` when every count is 0); ties go to the
/// first in sorted order, as scikit-learn's most_frequent.
pub fn most_frequent<T: PartialOrd + Default>(counts: &[T]) -> Option<usize> {
    let best = counts.iter().enumerate().fold(None, |best: Option<(usize, &T)>, (c, n)| match best {
        Some((_, bn)) if bn >= n => best,
        _ if *n > T::default() => Some((c, n)),
        _ => best,
    });
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_linearly_between_known_rows() {
        let points = vec![(0, 1.0), (4, 5.0)];
        assert_eq!(interpolate(&points, 2), 3.0);
        assert_eq!(interpolate(&points, 6), 5.0);
    }

    #[test]
    fn mode_breaks_ties_toward_the_smallest_value() {
        let values = vec![3.0, 1.0, 3.0, 1.0, f64::NAN];
        let fill = fit_fill("x", &values, &[0, 1, 2, 3, 4], Impute::Mode, None).unwrap();
        assert_eq!(fill.value_at(4), 1.0);
    }
}
