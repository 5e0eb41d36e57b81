//! scikit-learn's class weights as per-class and per-row factors (`compute_class_weight`,
//! `compute_sample_weight`), shared by every kind that takes `class_weight`.

use crate::spec::ClassWeight;

/// `compute_class_weight(class_weight, classes=unique(y), y, sample_weight)`: one factor per
/// class index. "balanced" gives a class present `total / (present · its total)`, counting
/// the rows drawn (`indices`, with repetition, for a bootstrap) or every row, each by its
/// `sample_weight` when given; a table gives a class its weight (1 when left out); `None`
/// when there are no class weights.
pub fn per_class(
    class_weight: &ClassWeight,
    y: &[usize],
    classes: &[String],
    sample_weight: Option<&[f64]>,
    indices: Option<&[usize]>,
) -> Option<Vec<f64>> {
    match class_weight {
        ClassWeight::None => None,
        ClassWeight::Table(entries) => Some(
            classes.iter().map(|label| entries.iter().find(|(k, _)| k == label).map_or(1.0, |&(_, w)| w)).collect(),
        ),
        ClassWeight::Balanced | ClassWeight::BalancedSubsample => {
            let mut totals = vec![0.0f64; classes.len()];
            let mut present = vec![false; classes.len()];
            let mut add = |r: usize| {
                totals[y[r]] += sample_weight.map_or(1.0, |w| w[r]);
                present[y[r]] = true;
            };
            match indices {
                Some(rows) => rows.iter().for_each(|&r| add(r)),
                None => (0..y.len()).for_each(add),
            }
            let total: f64 = totals.iter().sum();
            let k = present.iter().filter(|&&p| p).count() as f64;
            Some(totals.iter().zip(&present).map(|(&t, &p)| if p { total / (k * t) } else { 0.0 }).collect())
        }
    }
}

/// `compute_sample_weight(class_weight, y, indices)`: `per_class` (counting rows
/// unweighted) spread over the rows, each row's class factor.
pub fn per_row(
    class_weight: &ClassWeight,
    y: &[usize],
    classes: &[String],
    indices: Option<&[usize]>,
) -> Option<Vec<f64>> {
    let factors = per_class(class_weight, y, classes, None, indices)?;
    Some(y.iter().map(|&c| factors[c]).collect())
}

/// A fit's row weights: the sample weights `sw` times each row's class factor (`factors`,
/// by class index); `None` when there are neither.
pub fn times(factors: Option<Vec<f64>>, y: &[usize], sw: Option<&[f64]>) -> Option<Vec<f64>> {
    match (factors, sw) {
        (None, None) => None,
        (None, Some(w)) => Some(w.to_vec()),
        (Some(f), sw) => Some(y.iter().enumerate().map(|(i, &c)| f[c] * sw.map_or(1.0, |w| w[i])).collect()),
    }
}

/// A fit's row weights from per-row class factors (`per_row`): each times its sample weight
/// (scikit-learn's `sample_weight * expanded_class_weight`); `None` when there are neither.
pub fn times_rows(rows: Option<Vec<f64>>, sw: Option<&[f64]>) -> Option<Vec<f64>> {
    match (rows, sw) {
        (rows, None) => rows,
        (None, Some(w)) => Some(w.to_vec()),
        (Some(r), Some(w)) => Some(w.iter().zip(r).map(|(w, r)| w * r).collect()),
    }
}

/// The labels of a class_weight table that name no class, for the error before training.
pub fn unknown_labels<'a>(class_weight: &'a ClassWeight, classes: &[String]) -> Vec<&'a str> {
    match class_weight {
        ClassWeight::Table(entries) => {
            entries.iter().filter(|(k, _)| !classes.contains(k)).map(|(k, _)| k.as_str()).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(k: usize) -> Vec<String> {
        (0..k).map(|c| format!("c{c}")).collect()
    }

    #[test]
    fn balanced_is_n_over_k_times_count() {
        // sklearn: compute_class_weight("balanced", classes=[0,1], y=[0,0,0,1]) = [2/3, 2].
        let w = per_class(&ClassWeight::Balanced, &[0, 0, 0, 1], &names(2), None, None).unwrap();
        assert_eq!(w, [4.0 / 6.0, 2.0]);
        // With sample weights the counts are weighted: totals 3 and 3.
        let w = per_class(&ClassWeight::Balanced, &[0, 0, 0, 1], &names(2), Some(&[1.0, 1.0, 1.0, 3.0]), None);
        assert_eq!(w.unwrap(), [1.0, 1.0]);
    }

    #[test]
    fn a_table_weighs_by_label_and_a_missing_label_weighs_one() {
        let table = ClassWeight::Table(vec![("c1".into(), 3.0)]);
        assert_eq!(per_row(&table, &[0, 1, 2], &names(3), None).unwrap(), [1.0, 3.0, 1.0]);
        let unknown = ClassWeight::Table(vec![("c1".into(), 3.0), ("yes".into(), 2.0)]);
        assert_eq!(unknown_labels(&unknown, &names(2)), ["yes"]);
    }
}
