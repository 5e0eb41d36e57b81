//! A model's own preprocessing steps (`steps = ["poly", "standard"]` in a `[[model]]`): each
//! fitted on a fold's training design matrix, after the experiment's `[preprocess]`, in the
//! order written, and applied to both parts (as a scikit-learn `Pipeline`).
//!
//! The interface every step implements (one file per step in this folder):
//! - `pub struct <Step>Params`, declared with `spec::value::params!` (field, type, default,
//!   range, help on one line), so the file's validation, `runner schema` and the step agree;
//! - `pub fn fit(params: &<Step>Params, x: ArrayView2<f64>, y: Option<ArrayView1<f64>>)
//!   -> Result<Fitted<Step>, String>` (y: the regression target, or class indices as f64);
//! - `Fitted<Step>`: [`FittedStep`] + `Serialize` + `Deserialize` (model.json carries it).
//!
//! Adding a step is that file and one line in the `steps!` table below.

use crate::spec::catalog::StepEntry;
use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

/// A step's fitted state: maps a design matrix (rows × features) to a new one.
pub trait FittedStep {
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64>;
    /// The output columns' names from the input's (scikit-learn's `get_feature_names_out`).
    fn feature_names(&self, input: &[String]) -> Vec<String>;
    /// A loaded file's values are ones a fit gives, for an input `width` columns wide; the
    /// error names the field (model.json's `steps[i]` is prefixed by the caller).
    fn check(&self, width: usize) -> Result<(), String>;
}

mod log1p;
mod optimize;
pub mod pca;
mod poly;
pub mod power;
mod scalers;
pub mod select_k_best;
pub mod spline;
pub mod target;
#[cfg(test)]
mod fixtures;

pub use log1p::{FittedLog1p, Log1pParams};
pub use pca::{FittedPca, PcaParams};
pub use poly::{FittedPoly, PolyParams};
pub use power::{FittedPower, PowerParams};
pub use scalers::{affine_from_sums, Affine, MaxabsParams, MinmaxParams, RobustParams, StandardParams};
pub use select_k_best::{FittedSelectKBest, SelectKBestParams};
pub use spline::{FittedSpline, SplineParams};

/// Declares the steps from one table: `Variant name Params Fitted "summary" |params, x, y,
/// names| fit;`. Makes `STEPS` (the catalog the file is checked against), `StepSpec` (a
/// step with typed parameters), `SavedStep` (a fitted step as model.json holds it,
/// `{"step": "poly", ...}`) and their dispatch.
macro_rules! steps {
    ($($variant:ident $name:literal $params:ident $fitted:ty, $summary:literal, $fit:expr;)*) => {
        /// Every step the file may name, with its parameters.
        pub const STEPS: &[StepEntry] =
            &[$(StepEntry { name: $name, summary: $summary, params: $params::SPECS },)*];

        /// One step with its parameters typed and checked.
        #[derive(Debug, Clone, PartialEq)]
        pub enum StepSpec { $($variant($params),)* }

        /// A fitted step, as model.json saves it.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "step", rename_all = "snake_case")]
        pub enum SavedStep { $($variant($fitted),)* }

        impl StepSpec {
            /// The step `name` with `values` (every parameter's, defaults filled in).
            pub fn check(name: &str, values: &ParamValues) -> Result<StepSpec, String> {
                match name {
                    $($name => $params::read(values).map(StepSpec::$variant),)*
                    _ => Err(format!("unknown step `{name}`")),
                }
            }

            pub fn name(&self) -> &'static str {
                match self { $(StepSpec::$variant(_) => $name,)* }
            }

            /// Fitted on `x` (whose columns are `names`) and the training target `y`.
            pub fn fit(&self, x: ArrayView2<f64>, y: Option<ArrayView1<f64>>, names: &[String]) -> Result<SavedStep, String> {
                match self { $(StepSpec::$variant(p) => ($fit)(p, x, y, names).map(SavedStep::$variant),)* }
            }
        }

        impl SavedStep {
            fn fitted(&self) -> &dyn FittedStep {
                match self { $(SavedStep::$variant(f) => f,)* }
            }

            pub fn name(&self) -> &'static str {
                match self { $(SavedStep::$variant(_) => $name,)* }
            }
        }
    };
}

steps! {
    Poly "poly" PolyParams FittedPoly, "PolynomialFeatures: every product of up to `degree` columns, in scikit-learn's order",
        |p, x, _, _| poly::fit(p, x);
    Standard "standard" StandardParams Affine, "StandardScaler: (x - mean) / population std; a constant column keeps scale 1",
        |p, x, _, _| scalers::fit_standard(p, x);
    Minmax "minmax" MinmaxParams Affine, "MinMaxScaler: (x - min) / (max - min) onto [0, 1]",
        |p, x, _, _| scalers::fit_minmax(p, x);
    Maxabs "maxabs" MaxabsParams Affine, "MaxAbsScaler: x / max |x|",
        |p, x, _, _| scalers::fit_maxabs(p, x);
    Robust "robust" RobustParams Affine, "RobustScaler: (x - median) / (q_high - q_low), numpy's linear percentiles",
        |p, x, _, _| scalers::fit_robust(p, x);
    Log1p "log1p" Log1pParams FittedLog1p, "log(1 + x) of the listed columns (all when `columns` is empty)",
        |p, x, _, names| log1p::fit(p, x, names);
    Spline "spline" SplineParams FittedSpline, "SplineTransformer: B-spline bases of each column (uniform or quantile knots)",
        |p, x, _, _| spline::fit(p, x, None);
    Power "power" PowerParams FittedPower, "PowerTransformer: yeo-johnson or box-cox with scipy's maximum-likelihood lambda, then standardized",
        |p, x, _, names| power::fit(p, x, names);
    Pca "pca" PcaParams FittedPca, "PCA (full SVD): n_components as a count or a variance fraction, whiten; scikit-learn's signs",
        |p, x, _, _| pca::fit(p, x, None);
    SelectKBest "select_k_best" SelectKBestParams FittedSelectKBest, "SelectKBest: the k columns with the highest f_regression or f_classif scores",
        |p, x, y, _| select_k_best::fit(p, x, y);
}

use crate::spec::ParamValues;

/// How a step can be fitted without a fold's rows, from sums over fold blocks (the ridge
/// shortcut, `sweep::ridge_path`; docs/SPEC.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FromSums {
    /// A fixed function of a row: fitted on any rows it accepts, it is the same fitted step
    /// (`poly` reads only its input's width; `log1p` the names, and refuses a value below -1).
    RowFunction,
    /// A per-column scaler whose shift and scale follow from each column's count, sums of
    /// values and squares, least and greatest value (`scalers::affine_from_sums`).
    Scaler,
    /// It needs the training values themselves (quantiles, knots, an SVD, a likelihood, F scores).
    Rows,
}

impl StepSpec {
    pub fn from_sums(&self) -> FromSums {
        match self {
            StepSpec::Poly(_) | StepSpec::Log1p(_) => FromSums::RowFunction,
            StepSpec::Standard(_) | StepSpec::Minmax(_) | StepSpec::Maxabs(_) => FromSums::Scaler,
            StepSpec::Robust(_)
            | StepSpec::Spline(_)
            | StepSpec::Power(_)
            | StepSpec::Pca(_)
            | StepSpec::SelectKBest(_) => FromSums::Rows,
        }
    }
}

/// A model's steps as sums can fit them: first any number of row functions, then at most one
/// scaler; `None` for any other shape (the ridge shortcut and the streamed closed forms take them).
pub fn split_from_sums(steps: &[StepSpec]) -> Option<(&[StepSpec], Option<&StepSpec>)> {
    let k = steps.iter().take_while(|s| s.from_sums() == FromSums::RowFunction).count();
    match &steps[k..] {
        [] => Some((steps, None)),
        [last] if last.from_sums() == FromSums::Scaler => Some((&steps[..k], Some(last))),
        _ => None,
    }
}

impl StepSpec {
    /// A scaler fitted from sums (`affine_from_sums`) as model.json saves it; `None` for a
    /// step that is not one of those scalers.
    pub fn saved_scaler(&self, fitted: Affine) -> Option<SavedStep> {
        match self {
            StepSpec::Standard(_) => Some(SavedStep::Standard(fitted)),
            StepSpec::Minmax(_) => Some(SavedStep::Minmax(fitted)),
            StepSpec::Maxabs(_) => Some(SavedStep::Maxabs(fitted)),
            _ => None,
        }
    }
}

impl FittedStep for SavedStep {
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        self.fitted().transform(x)
    }

    fn feature_names(&self, input: &[String]) -> Vec<String> {
        self.fitted().feature_names(input)
    }

    fn check(&self, width: usize) -> Result<(), String> {
        self.fitted().check(width)
    }
}

/// The steps fitted one after another on a training matrix (each on the one before's
/// output): the fitted steps and the transformed matrix.
pub fn fit_all(
    steps: &[StepSpec],
    x: Array2<f64>,
    y: Option<ArrayView1<f64>>,
    names: &[String],
) -> Result<(Vec<SavedStep>, Array2<f64>), String> {
    let mut x = x;
    let mut names = names.to_vec();
    let mut saved = Vec::with_capacity(steps.len());
    for step in steps {
        let fitted = step.fit(x.view(), y, &names).map_err(|e| format!("step `{}`: {e}", step.name()))?;
        x = fitted.transform(x.view());
        names = fitted.feature_names(&names);
        saved.push(fitted);
    }
    Ok((saved, x))
}

impl SavedStep {
    /// The first value of `x` (columns `names`) this step cannot take, as (row, message):
    /// spline's `extrapolation = "error"` outside the training range, box-cox's non-positive
    /// values (each would be NaN, or scikit-learn's ValueError).
    fn data_problem(&self, x: ArrayView2<f64>, names: &[String]) -> Option<String> {
        let ((i, j), why) = match self {
            SavedStep::Spline(s) => {
                (s.out_of_range(x)?, "outside the range spline was fitted on (extrapolation = \"error\")")
            }
            SavedStep::Power(p) if p.method == power::PowerMethod::BoxCox => {
                (power::first_non_positive(x)?, "not strictly positive, as box-cox needs")
            }
            _ => return None,
        };
        let column = names.get(j).cloned().unwrap_or_else(|| format!("x{j}"));
        Some(format!("column `{column}` is {} at row {}, {why}", x[[i, j]], i + 1))
    }
}

/// Rows through fitted steps (`names`: the columns of `x`), refusing a value a step cannot
/// take: the error names the step, the column as that step sees it and the row (from 1).
pub fn apply_checked(saved: &[SavedStep], x: Array2<f64>, names: &[String]) -> Result<Array2<f64>, String> {
    let mut x = x;
    let mut names = names.to_vec();
    for step in saved {
        if let Some(problem) = step.data_problem(x.view(), &names) {
            return Err(format!("step `{}`: {problem}", step.name()));
        }
        x = step.transform(x.view());
        names = step.feature_names(&names);
    }
    Ok(x)
}

/// New rows through fitted steps.
pub fn apply_all(saved: &[SavedStep], x: Array2<f64>) -> Array2<f64> {
    saved.iter().fold(x, |x, step| step.transform(x.view()))
}

/// The names of the columns the fitted steps make from `input`.
pub fn names_after(saved: &[SavedStep], input: &[String]) -> Vec<String> {
    saved.iter().fold(input.to_vec(), |names, step| step.feature_names(&names))
}

/// Loaded steps checked in order, each against the width the one before makes; `at` names
/// the list in model.json (`steps`).
pub fn check_all(saved: &[SavedStep], input: &[String], at: &str) -> Result<(), String> {
    let mut names = input.to_vec();
    for (i, step) in saved.iter().enumerate() {
        step.check(names.len()).map_err(|e| format!("{at}[{i}] ({}): {e}", step.name()))?;
        names = step.feature_names(&names);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_pipeline_fits_in_order_and_round_trips_through_json() {
        let spec = |name, values: &[(&str, crate::spec::ParamValue)]| {
            let entry = STEPS.iter().find(|s| s.name == name).unwrap();
            let mut all: ParamValues = entry.params.iter().map(|p| (p.name.to_string(), p.default.value())).collect();
            all.extend(values.iter().map(|(k, v)| (k.to_string(), v.clone())));
            StepSpec::check(name, &all).unwrap()
        };
        let steps = [spec("poly", &[("include_bias", crate::spec::ParamValue::Bool(false))]), spec("standard", &[])];
        let x = array![[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]];
        let (saved, out) = fit_all(&steps, x.clone(), None, &["a".into(), "b".into()]).unwrap();
        assert_eq!(names_after(&saved, &["a".into(), "b".into()]), ["a", "b", "a^2", "a b", "b^2"]);
        assert_eq!(apply_all(&saved, x), out);
        let json = serde_json::to_string(&saved).unwrap();
        assert!(json.starts_with(r#"[{"step":"poly","degree":2,"#), "{json}");
        let back: Vec<SavedStep> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, saved);
        assert!(check_all(&back, &["a".into(), "b".into()], "steps").is_ok());
        let e = check_all(&back, &["a".into()], "steps").unwrap_err();
        assert_eq!(e, "steps[0] (poly): n_features_in is 2, but its input has 1 columns");
        let unknown = json.replacen(r#""degree":2"#, r#""degre":2"#, 1);
        assert!(serde_json::from_str::<Vec<SavedStep>>(&unknown).is_err());
    }
}
