//! `categorical_features = "from_dtype"`: what scikit-learn's HistGradientBoosting does to a
//! pandas categorical column before binning, done to runner's one-hot design matrix. Each
//! categorical column's code is its level's rank among the levels its training rows hold
//! (`OrdinalEncoder(categories="auto")`); a row with no indicator set (a level the training
//! rows lack, a kept gap) is NaN, which the trees send the missing side. The coded columns come
//! first, then the numeric ones in order (the `ColumnTransformer`'s output).

use super::{FitError, Fitted, LossCurve, ModelState, Prediction};
use crate::preprocess::ColumnSpan;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// One categorical column of the design matrix, as model.json saves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoricalColumn {
    pub name: String,
    /// Its first indicator column and how many it has.
    pub first: usize,
    pub levels: usize,
    /// The levels (indicator offsets) the training rows hold, increasing: `seen[c]` has code c.
    pub seen: Vec<usize>,
}

/// The fitted coding of every categorical column of a `width`-column design matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordinal {
    columns: Vec<CategoricalColumn>,
    /// The design-matrix columns that pass through, in order.
    numeric: Vec<usize>,
    width: usize,
}

impl Ordinal {
    /// The coding `spans` (the categorical columns' indicators) get from the training rows `x`.
    pub fn fit(spans: &[ColumnSpan], x: &Array2<f64>) -> Ordinal {
        let columns = spans
            .iter()
            .map(|s| {
                let seen =
                    s.columns.clone().filter(|&j| x.column(j).iter().any(|&v| v != 0.0)).map(|j| j - s.columns.start);
                CategoricalColumn {
                    name: s.name.clone(),
                    first: s.columns.start,
                    levels: s.columns.len(),
                    seen: seen.collect(),
                }
            })
            .collect();
        Ordinal::new(columns, x.ncols())
    }

    fn new(columns: Vec<CategoricalColumn>, width: usize) -> Ordinal {
        let coded = |j: usize| columns.iter().any(|c| (c.first..c.first + c.levels).contains(&j));
        let numeric = (0..width).filter(|&j| !coded(j)).collect();
        Ordinal { columns, numeric, width }
    }

    /// A saved coding, checked against a `width`-column design matrix: spans in order, inside
    /// it and apart, each seen level once, increasing, among the column's levels.
    pub fn from_saved(columns: Vec<CategoricalColumn>, width: usize) -> Result<Ordinal, String> {
        let mut end = 0;
        for (i, c) in columns.iter().enumerate() {
            let at = format!("model.categorical[{i}]");
            if c.first < end || c.levels == 0 || c.first.checked_add(c.levels).is_none_or(|e| e > width) {
                return Err(format!(
                    "{at} spans columns {}..{}, which must be non-empty, after the previous span and within the {width} columns",
                    c.first,
                    c.first.saturating_add(c.levels)
                ));
            }
            if c.seen.windows(2).any(|w| w[0] >= w[1]) || c.seen.last().is_some_and(|&l| l >= c.levels) {
                return Err(format!("{at}.seen must increase and stay below its {} levels", c.levels));
            }
            end = c.first + c.levels;
        }
        Ok(Ordinal::new(columns, width))
    }

    /// The coded columns' category counts, then `None` for each numeric column: what the fit
    /// takes as `categories`.
    pub fn categories(&self) -> Vec<Option<usize>> {
        let coded = self.columns.iter().map(|c| Some(c.seen.len()));
        coded.chain(self.numeric.iter().map(|_| None)).collect()
    }

    /// The categorical columns with more seen levels than `max_bins` (scikit-learn refuses them).
    pub fn too_many_levels(&self, max_bins: usize) -> Option<FitError> {
        let c = self.columns.iter().find(|c| c.seen.len() > max_bins)?;
        Some(FitError::Solver(format!(
            "categorical_features = \"from_dtype\": column `{}` has {} levels in the training rows, more than max_bins = {max_bins}; \
             raise max_bins (at most 255), or use categorical_features = \"one_hot\"",
            c.name,
            c.seen.len()
        )))
    }

    /// `x` (the design matrix) coded: the categorical columns' codes, then the numeric columns.
    pub fn transform(&self, x: &Array2<f64>) -> Array2<f64> {
        let codes: Vec<Vec<f64>> = self
            .columns
            .iter()
            .map(|c| {
                let mut code = vec![f64::NAN; c.levels];
                for (k, &l) in c.seen.iter().enumerate() {
                    code[l] = k as f64;
                }
                code
            })
            .collect();
        let width = self.columns.len() + self.numeric.len();
        Array2::from_shape_fn((x.nrows(), width), |(r, j)| match self.columns.get(j) {
            Some(c) => (0..c.levels).find(|&l| x[[r, c.first + l]] != 0.0).map_or(f64::NAN, |l| codes[j][l]),
            None => x[[r, self.numeric[j - self.columns.len()]]],
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn columns(&self) -> &[CategoricalColumn] {
        &self.columns
    }
}

/// A boosted ensemble fitted on coded columns; it takes and predicts the design matrix.
pub struct OnCodes {
    pub ordinal: Ordinal,
    pub model: Box<dyn Fitted>,
}

impl Fitted for OnCodes {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        self.model.predict(&self.ordinal.transform(x))
    }

    fn fitted_prediction(&self) -> Option<Prediction> {
        self.model.fitted_prediction()
    }

    fn loss_curve(&self) -> Option<LossCurve> {
        self.model.loss_curve()
    }

    fn state(&self) -> Option<ModelState> {
        match self.model.state()? {
            ModelState::Hgb { classes, baseline, trees, .. } => {
                Some(ModelState::Hgb { classes, categorical: self.ordinal.columns.clone(), baseline, trees })
            }
            other => Some(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(name: &str, columns: std::ops::Range<usize>) -> ColumnSpan {
        ColumnSpan { name: name.into(), columns, categorical: true }
    }

    /// Levels absent from the training rows get no code; a row without an indicator is NaN;
    /// the coded columns come first.
    #[test]
    fn codes_rank_the_seen_levels_and_go_first() {
        // columns: a (numeric), colour_{red, green, blue}, b (numeric)
        let train = ndarray::array![[1.0, 0.0, 0.0, 1.0, 5.0], [2.0, 1.0, 0.0, 0.0, 6.0]];
        let ordinal = Ordinal::fit(&[span("colour", 1..4)], &train);
        assert_eq!(ordinal.columns()[0].seen, vec![0, 2]);
        assert_eq!(ordinal.categories(), vec![Some(2), None, None]);
        let test = ndarray::array![[3.0, 0.0, 0.0, 1.0, 7.0], [4.0, 0.0, 1.0, 0.0, 8.0], [5.0, 0.0, 0.0, 0.0, 9.0]];
        let coded = ordinal.transform(&test);
        assert_eq!(coded.row(0).to_vec(), vec![1.0, 3.0, 7.0]);
        assert!(coded[[1, 0]].is_nan() && coded[[2, 0]].is_nan());
        assert_eq!(coded.column(2).to_vec(), vec![7.0, 8.0, 9.0]);
    }

    /// scikit-learn's "expected to have a cardinality <= max_bins", counted on the training rows.
    #[test]
    fn more_seen_levels_than_bins_fail_the_fit() {
        let train = ndarray::array![[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];
        let ordinal = Ordinal::fit(&[span("colour", 0..4)], &train);
        assert!(ordinal.too_many_levels(3).is_none());
        let e = ordinal.too_many_levels(2).map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("column `colour` has 3 levels in the training rows, more than max_bins = 2"), "{e}");
    }

    #[test]
    fn a_saved_coding_is_checked() {
        let column = |first, levels, seen: Vec<usize>| CategoricalColumn { name: "c".into(), first, levels, seen };
        assert!(Ordinal::from_saved(vec![column(1, 3, vec![0, 2])], 4).is_ok());
        assert!(Ordinal::from_saved(vec![column(2, 3, vec![0])], 4).is_err());
        assert!(Ordinal::from_saved(vec![column(0, 3, vec![2, 1])], 4).is_err());
        assert!(Ordinal::from_saved(vec![column(0, 3, vec![3])], 4).is_err());
        assert!(Ordinal::from_saved(vec![column(0, 2, vec![0]), column(1, 2, vec![0])], 4).is_err());
        assert!(Ordinal::from_saved(vec![column(usize::MAX, 2, vec![0])], 4).is_err());
    }
}
