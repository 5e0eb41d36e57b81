//! The best model's partial dependence on its two most important features, as scikit-learn's
//! `partial_dependence(pipeline, X, [feature], method="brute", grid_resolution=100,
//! percentiles=(0.05, 0.95))` computes it for the refitted model: X is the input columns of
//! the rows the refit learned from, each passed through the refit's saved preprocessing and
//! steps (a Pipeline's), one grid value at a time, and the predictions are averaged.

use super::explain::Explanation;
use super::refit::{refit_fold, Refit};
use crate::data::Feature;
use crate::models::{flat::Outputs, tree::numpy_sum, Fitted, LinearParts, Prediction};
use crate::plan::RunPlan;
use ndarray::Array2;
use rayon::prelude::*;
use serde::Serialize;

/// scikit-learn's defaults.
const GRID_RESOLUTION: usize = 100;
const PERCENTILES: (f64, f64) = (0.05, 0.95);

#[derive(Debug, Clone, Serialize)]
pub struct PartialDependence {
    pub trial: String,
    /// What is averaged: "prediction" (regression), "probability of class X" (two classes:
    /// the second, scikit-learn's positive class), "probability of each class" (more).
    pub response: String,
    /// The two most important input features by permutation importance, most important first.
    pub features: Vec<FeatureDependence>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureDependence {
    pub feature: String,
    /// scikit-learn's `grid_values`: the sorted distinct values when there are fewer than
    /// 100, else 100 evenly spaced between the 5th and 95th percentiles (`mquantiles`).
    pub grid: Vec<f64>,
    /// One curve per output (`average`): the values at the grid points.
    pub curves: Vec<Curve>,
    /// Why this feature has no curve (a categorical column, percentiles too close).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Curve {
    /// The class whose probability this is; absent for regression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    pub average: Vec<f64>,
}

/// The refitted model's partial dependence on the two input features of largest mean
/// permutation importance. `None` when the data is streamed (no rows in memory).
pub fn partial_dependence(
    plan: &RunPlan,
    refit: &Refit,
    explanation: &Explanation,
) -> Option<Result<PartialDependence, String>> {
    if plan.stream().is_some() {
        return None;
    }
    let classes = plan.dataset.class_names();
    let width = refit.features.len();
    let kind = plan.trials.iter().find(|t| t.id == refit.trial)?.spec.kind();
    let model = match crate::kinds::load(kind, refit.state.clone(), width, classes.len()) {
        Ok(m) => crate::models::target::with_target(m, refit.target.as_ref()),
        Err(e) => return Some(Err(e)),
    };
    let rows = refit_fold(plan).0.train;
    let features = &plan.dataset.loaded().features;
    // A refit on every row in order (k-fold) reads the dataset's columns as they are: no copy.
    let every_row = rows.len() == plan.dataset.rows() && rows.iter().enumerate().all(|(i, &r)| i == r);
    let input: std::borrow::Cow<[Feature]> = match every_row {
        true => std::borrow::Cow::Borrowed(features),
        false => std::borrow::Cow::Owned(features.iter().map(|f| subset(f, &rows)).collect()),
    };
    let response = match classes.len() {
        0 => "prediction".to_string(),
        2 => format!("probability of class {}", classes[1]),
        _ => "probability of each class".to_string(),
    };
    let design = match Design::new(refit, model.as_ref(), &input) {
        Ok(d) => d,
        Err(e) => return Some(Err(e)),
    };
    let groups = super::explain::column_groups(plan);
    let mut features = Vec::new();
    for importance in explanation.permutation_importance.iter().take(2) {
        let Some(j) = input.iter().position(|f| f.name() == importance.feature) else { continue };
        let cols = groups.get(j).map(|(_, c)| c.as_slice()).unwrap_or(&[]);
        match feature_dependence(&design, j, cols, classes) {
            Ok(d) => features.push(d),
            Err(e) => return Some(Err(e)),
        }
    }
    Some(Ok(PartialDependence { trial: refit.trial.clone(), response, features }))
}

/// The refit's rows as the model sees them, built once: a grid value of feature `j` only
/// overwrites `j`'s design columns (preprocessing is column by column), and a linear model's
/// scores then move by those columns' weights, O(n) per grid value instead of a predict.
struct Design<'a> {
    refit: &'a Refit,
    model: &'a dyn Fitted,
    input: &'a [Feature],
    /// `input` through the saved preprocessing (before the model's steps).
    x: Array2<f64>,
    /// No steps and no target transform: the model takes `x` itself.
    plain: bool,
    /// A plain linear model: its parts and the rows' scores.
    linear: Option<(LinearParts, Array2<f64>)>,
}

impl<'a> Design<'a> {
    fn new(refit: &'a Refit, model: &'a dyn Fitted, input: &'a [Feature]) -> Result<Design<'a>, String> {
        let x = crate::preprocess::apply_saved(&refit.preprocessing, input).map_err(|e| e.to_string())?;
        let plain = refit.steps.is_empty() && refit.target.is_none();
        let linear = model.linear().filter(|_| plain).map(|parts| {
            let z = parts.scores(&x);
            (parts, z)
        });
        Ok(Design { refit, model, input, x, plain, linear })
    }

    /// The design row of feature `j` at value `v` (its columns are `cols`), from a one-row probe.
    fn probe(&self, j: usize, v: f64) -> Result<Array2<f64>, String> {
        let mut row: Vec<Feature> = self.input.iter().map(|f| subset(f, &[0])).collect();
        if let Feature::Numeric { values, .. } = &mut row[j] {
            values.fill(v);
        }
        crate::preprocess::apply_saved(&self.refit.preprocessing, &row).map_err(|e| e.to_string())
    }

    /// The averaged predictions of every row with feature `j` (design columns `cols`) set to
    /// each grid value in turn (each prediction is averaged as it is made, so only a few are
    /// alive at once). A plain tree model's rows each walk each tree once, the grid values
    /// parting only at nodes testing `j` (`TreeSum::with_columns_set`, the same bits as a predict);
    /// a boosted model's likewise (`Coded::dependence`).
    fn averages(&self, j: usize, cols: &[usize], grid: &[f64], classes: &[String]) -> Result<Vec<Vec<f64>>, String> {
        let probes: Vec<Array2<f64>> = grid.iter().map(|&v| self.probe(j, v)).collect::<Result<_, _>>()?;
        // A boosted model walks each row once per tree with the column free.
        if let (Some(coded), true, &[c]) = (self.model.coded(), self.plain, cols) {
            let values: Vec<f64> = probes.iter().map(|p| p[[0, c]]).collect();
            return Ok(coded.dependence(&self.x, c, &values).iter().map(|p| average(p, classes)).collect());
        }
        // An rbf kernel model factors each kernel value into the column's part and the rest's.
        if let (Some(kernel), true, &[c]) = (self.model.kernel_model(), self.plain, cols) {
            let values: Vec<f64> = probes.iter().map(|p| p[[0, c]]).collect();
            if let Some(predictions) = crate::models::svm::predictions_with_column(kernel, &self.x, c, &values) {
                return Ok(predictions.iter().map(|p| average(p, classes)).collect());
            }
        }
        if let Some((parts, z)) = &self.linear {
            // The changed columns read once, contiguously (a column of the row-major `x` is
            // strided: a cache miss per row and grid value).
            let columns: Vec<(usize, Vec<f64>)> = cols.iter().map(|&c| (c, self.x.column(c).to_vec())).collect();
            let at = |probe: &Array2<f64>| average(&linear_at(parts, z, &columns, probe), classes);
            return Ok(probes.par_iter().map(at).collect());
        }
        let Some(trees) = self.model.tree_sum().filter(|_| self.plain) else {
            return Ok(probes.par_iter().map(|probe| average(&self.predict_at(cols, probe), classes)).collect());
        };
        let values: Vec<Vec<f64>> = probes.iter().map(|probe| cols.iter().map(|&c| probe[[0, c]]).collect()).collect();
        // Two classes: only the positive class's probability is averaged, so only it is summed.
        let outputs = if classes.len() == 2 { Outputs::Class(1) } else { Outputs::All };
        Ok(trees.with_columns_set(&self.x, cols, &values, outputs).iter().map(|p| average(p, classes)).collect())
    }

    /// The model's predictions of every row with design columns `cols` taken from `probe`.
    fn predict_at(&self, cols: &[usize], probe: &Array2<f64>) -> Prediction {
        let mut x = self.x.clone();
        for &c in cols {
            x.column_mut(c).fill(probe[[0, c]]);
        }
        let x = crate::preprocess::steps::apply_all(&self.refit.steps, x);
        self.model.predict(&x)
    }
}

/// A plain linear model's predictions of every row with the design `columns` (each with its
/// values) taken from `probe`: the rows' scores `z` moved by those columns' weights.
fn linear_at(parts: &LinearParts, z: &Array2<f64>, columns: &[(usize, Vec<f64>)], probe: &Array2<f64>) -> Prediction {
    let mut z = z.as_standard_layout().into_owned();
    if let Some(z_flat) = z.as_slice_mut() {
        for (c, column) in columns {
            let v = probe[[0, *c]];
            parts.shift_scores(z_flat, *c, column.iter().map(|x| v - x));
        }
    }
    parts.head.apply(z)
}

/// One feature's grid and averaged predictions.
fn feature_dependence(
    design: &Design<'_>,
    j: usize,
    cols: &[usize],
    classes: &[String],
) -> Result<FeatureDependence, String> {
    let input = design.input;
    let feature = input[j].name().to_string();
    let skipped = |why: &str| FeatureDependence {
        feature: feature.clone(),
        grid: Vec::new(),
        curves: Vec::new(),
        skipped: Some(why.to_string()),
    };
    let Feature::Numeric { values, .. } = &input[j] else {
        return Ok(skipped("a categorical column (runner draws numeric columns only)"));
    };
    let grid = match grid_values(values) {
        Grid::Values(grid) => grid,
        Grid::TooClose => {
            return Ok(skipped("its 5th and 95th percentiles are too close to build a grid (scikit-learn's error)"))
        }
        Grid::Gap => {
            return Ok(skipped("its gaps reach its 5th or 95th percentile (scikit-learn's grid would be all NaN)"))
        }
    };
    let mut curves: Vec<Curve> = Vec::new();
    for (g, averages) in design.averages(j, cols, &grid, classes)?.into_iter().enumerate() {
        for (c, value) in averages.into_iter().enumerate() {
            if g == 0 {
                let class = (classes.len() > 2)
                    .then(|| classes[c].clone())
                    .or_else(|| (classes.len() == 2).then(|| classes[1].clone()));
                curves.push(Curve { class, average: Vec::with_capacity(grid.len()) });
            }
            curves[c].average.push(value);
        }
    }
    Ok(FeatureDependence { feature, grid, curves, skipped: None })
}

/// `np.average(pred, axis=0)` of scikit-learn's response: the values, the positive class's
/// probability (both 1-D: numpy's pairwise sum), or each class's (2-D along axis 0: row by row).
fn average(prediction: &Prediction, classes: &[String]) -> Vec<f64> {
    match prediction {
        Prediction::Values(v) => match v.as_slice() {
            Some(values) => vec![numpy_sum(values) / v.len() as f64],
            None => vec![numpy_sum(&v.to_vec()) / v.len() as f64],
        },
        Prediction::Probabilities(p) if classes.len() == 2 => {
            let positive: Vec<f64> = p.column(1).to_vec();
            vec![numpy_sum(&positive) / positive.len() as f64]
        }
        Prediction::Probabilities(p) => {
            let mut sums = vec![0.0; p.ncols()];
            for row in p.rows() {
                for (s, v) in sums.iter_mut().zip(row) {
                    *s += v;
                }
            }
            sums.into_iter().map(|s| s / p.nrows() as f64).collect()
        }
    }
}

/// A numeric column's partial-dependence grid.
#[derive(Debug, PartialEq)]
enum Grid {
    Values(Vec<f64>),
    /// The percentiles are `np.allclose` (scikit-learn raises).
    TooClose,
    /// A percentile falls on a gap (scikit-learn's grid would be NaN throughout).
    Gap,
}

/// `_grid_from_X` for one numeric column: `np.unique` when it has fewer than 100 distinct
/// values (a gap counting as one, as `np.unique` counts NaN), else `linspace` between its
/// `mquantiles` at (0.05, 0.95) of every value, the gaps sorted last as numpy sorts NaN. A gap
/// is not a grid point (scikit-learn's `np.unique` keeps one NaN as the last point).
fn grid_values(values: &[f64]) -> Grid {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let gaps = values.len() - sorted.len();
    let mut uniques = sorted.clone();
    uniques.dedup();
    if uniques.len() + usize::from(gaps > 0) < GRID_RESOLUTION {
        return Grid::Values(uniques);
    }
    let n = values.len();
    let (low, high) = (mquantile(&sorted, n, PERCENTILES.0), mquantile(&sorted, n, PERCENTILES.1));
    match (low, high) {
        (Some(low), Some(high)) if (low - high).abs() <= 1e-8 + 1e-5 * high.abs() => Grid::TooClose,
        // np.allclose: |a - b| <= 1e-8 + 1e-5 * |b|.
        (Some(low), Some(high)) => Grid::Values(crate::config::grid::linspace(low, high, GRID_RESOLUTION)),
        _ => Grid::Gap,
    }
}

/// scipy's `mstats.mquantiles(x, prob=[p])` with its defaults `alphap = betap = 0.4`, of `n`
/// values (at least 100 here) whose first are `sorted` and the rest gaps; `None` when it reads a gap.
fn mquantile(sorted: &[f64], n: usize, p: f64) -> Option<f64> {
    let m = 0.4 + p * (1.0 - 0.4 - 0.4);
    let aleph = n as f64 * p + m;
    let k = aleph.clamp(1.0, n as f64 - 1.0).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    Some((1.0 - gamma) * sorted.get(k - 1)? + gamma * sorted.get(k)?)
}

/// A column's values at `rows`, in that order.
fn subset(feature: &Feature, rows: &[usize]) -> Feature {
    match feature {
        Feature::Numeric { name, values } => {
            Feature::Numeric { name: name.clone(), values: rows.iter().map(|&r| values[r]).collect() }
        }
        Feature::Categorical { name, codes, categories } => Feature::Categorical {
            name: name.clone(),
            codes: rows.iter().map(|&r| codes[r]).collect(),
            categories: categories.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scipy's `mquantiles(np.arange(1, 201) ** 1.5, prob=(0.05, 0.95))`, and the grid of
    /// few distinct values.
    #[test]
    fn grids_are_scikit_learns() {
        let values: Vec<f64> = (1..=200).map(|i| f64::from(i).powf(1.5)).collect();
        let Grid::Values(grid) = grid_values(&values) else { panic!() };
        assert_eq!(grid.len(), 100);
        assert!((grid[0] - 33.615_415_999_496_29).abs() < 1e-9, "{}", grid[0]);
        assert!((grid[99] - 2_631.184_183_152_525_3).abs() < 1e-9, "{}", grid[99]);
        assert_eq!(grid_values(&[3.0, f64::NAN, 1.0, 3.0]), Grid::Values(vec![1.0, 3.0]));
        let Grid::Values(grid) =
            grid_values(&[2.0; 150].into_iter().chain((0..100).map(f64::from)).collect::<Vec<_>>())
        else {
            panic!()
        };
        assert_eq!(grid.len(), 100);
        let close: Vec<f64> = [5.0; 10_000].into_iter().chain((0..100).map(f64::from)).collect();
        assert_eq!(grid_values(&close), Grid::TooClose);
    }

    /// Gaps count as values sorted last, as numpy sorts NaN: `_grid_from_X` of
    /// `[(i * i) % 211 for i in range(200)]` with 2 NaN (quantiles of 202 values) and with 10
    /// (the 95th percentile is NaN, so is scikit-learn's whole grid).
    #[test]
    fn gaps_are_sorted_last_in_the_percentiles() {
        let values = |gaps: usize| -> Vec<f64> {
            (0..200).map(|i| f64::from(i * i % 211)).chain(std::iter::repeat_n(f64::NAN, gaps)).collect()
        };
        let Grid::Values(grid) = grid_values(&values(2)) else { panic!() };
        assert_eq!((grid[0], grid[99]), (12.020000000000003, 201.97999999999996));
        assert_eq!(grid_values(&values(10)), Grid::Gap);
    }
}
