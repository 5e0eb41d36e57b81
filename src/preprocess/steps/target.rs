//! The regression target transform: scikit-learn's TransformedTargetRegressor with
//! `func=np.log1p, inverse_func=np.expm1` or with `transformer=PowerTransformer(...)`. The
//! model fits `forward(y)`; its predictions go back through `inverse` before any metric, so
//! metrics are on the original scale, as scikit-learn's are.

use super::power::PowerMethod;
use super::power::{self, FittedPower, PowerParams};
use super::FittedStep;
use crate::spec::value::{choice_param, params, DefaultValue::*, FromParam, ParamType, ParamValue};
use ndarray::{Array1, ArrayView1, Axis};
use serde::{Deserialize, Serialize};
use strum::{AsRefStr, EnumString, VariantNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, VariantNames, AsRefStr)]
#[strum(serialize_all = "kebab-case")]
pub enum TargetFunc {
    /// The model fits the target as it is.
    None,
    /// `func=np.log1p, inverse_func=np.expm1`.
    Log1p,
    /// `transformer=PowerTransformer()` (yeo-johnson, standardized).
    Power,
    /// `transformer=PowerTransformer(method="box-cox")` (strictly positive targets, standardized).
    BoxCox,
}

choice_param!(TargetFunc);

params! {
    /// A regression model's target transform (TransformedTargetRegressor): `target = "log1p"`.
    TargetParams {
        target: TargetFunc = S("none"), ParamType::Choice(TargetFunc::VARIANTS), "regression: the target the model fits (log1p, power, box-cox or none); predictions and metrics are on the original scale";
    }
}

/// A fitted target transform, as model.json saves it (`target.transform`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetTransform {
    Log1p,
    Power(FittedPower),
}

/// The first training target the transform cannot take, as (row index, why): NaN or at most
/// -1 for log1p, not strictly positive for box-cox.
pub fn first_refused(func: TargetFunc, y: ArrayView1<f64>) -> Option<(usize, &'static str)> {
    let refused = |v: f64| match func {
        TargetFunc::Log1p => v.is_nan() || v <= -1.0,
        TargetFunc::BoxCox => v.is_nan() || v <= 0.0,
        TargetFunc::None | TargetFunc::Power => false,
    };
    let why = match func {
        TargetFunc::BoxCox => "box-cox needs strictly positive targets",
        _ => "log1p needs targets above -1",
    };
    y.iter().position(|&v| refused(v)).map(|i| (i, why))
}

/// Fitted on the training targets (`None` for `target = "none"`); an error names the first
/// row the transform cannot take.
pub fn fit(func: TargetFunc, y: ArrayView1<f64>) -> Result<Option<TargetTransform>, String> {
    if let Some((i, why)) = first_refused(func, y) {
        return Err(format!("{why}; training row {i} has {}", y[i]));
    }
    let method = match func {
        TargetFunc::None => return Ok(None),
        TargetFunc::Log1p => return Ok(Some(TargetTransform::Log1p)),
        TargetFunc::Power => PowerMethod::YeoJohnson,
        TargetFunc::BoxCox => PowerMethod::BoxCox,
    };
    let p = PowerParams { method, standardize: true };
    let fitted = power::fit(&p, y.insert_axis(Axis(1)), &["target".to_string()]);
    fitted.map(|f| Some(TargetTransform::Power(f))).map_err(|e| format!("the target's power transform: {e}"))
}

impl TargetTransform {
    /// The values the model fits.
    pub fn forward(&self, y: ArrayView1<f64>) -> Array1<f64> {
        match self {
            TargetTransform::Log1p => y.mapv(f64::ln_1p),
            TargetTransform::Power(p) => p.transform(y.insert_axis(Axis(1))).remove_axis(Axis(1)),
        }
    }

    /// A prediction back on the target's scale.
    pub fn inverse(&self, pred: ArrayView1<f64>) -> Array1<f64> {
        match self {
            TargetTransform::Log1p => pred.mapv(f64::exp_m1),
            TargetTransform::Power(p) => p.inverse(pred.insert_axis(Axis(1))).remove_axis(Axis(1)),
        }
    }

    /// A loaded model's state.
    pub fn check(&self) -> Result<(), String> {
        match self {
            TargetTransform::Log1p => Ok(()),
            TargetTransform::Power(p) => p.check(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{cases, vector};
    use super::*;

    #[test]
    fn equals_scikit_learn() {
        for case in cases("target") {
            let func = case["kind"].as_str().unwrap().parse().unwrap();
            let y = Array1::from(vector(&case["y"]));
            let fitted = fit(func, y.view()).unwrap().unwrap();
            fitted.check().unwrap();
            // The power transform's lambda is within 1.5e-7 of scipy's (see power's test).
            for (what, got, want) in [
                ("forward", fitted.forward(y.view()), vector(&case["forward"])),
                ("inverse", fitted.inverse(Array1::from(vector(&case["raw_pred"])).view()), vector(&case["pred"])),
            ] {
                let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= 1e-7 * scale, "{} {what}: {g}, scikit-learn {w}", case["kind"]);
                }
            }
        }
    }

    #[test]
    fn log1p_refuses_values_at_or_below_minus_one() {
        let y = Array1::from(vec![0.5, -1.0]);
        assert!(fit(TargetFunc::Log1p, y.view()).unwrap_err().contains("row 1 has -1"));
        let e = fit(TargetFunc::BoxCox, Array1::from(vec![1.0, 0.0]).view()).unwrap_err();
        assert!(e.contains("strictly positive targets; training row 1 has 0"), "{e}");
        assert_eq!(fit(TargetFunc::None, y.view()), Ok(None));
    }
}
