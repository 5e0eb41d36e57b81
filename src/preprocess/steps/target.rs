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
use strum::{EnumString, VariantNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, VariantNames)]
#[strum(serialize_all = "snake_case")]
pub enum TargetFunc {
    /// `func=np.log1p, inverse_func=np.expm1`.
    Log1p,
    /// `transformer=PowerTransformer(method, standardize)`.
    Power,
}

choice_param!(TargetFunc);

params! {
    /// The regression target's transform (TransformedTargetRegressor).
    TargetParams {
        transform: TargetFunc = S("log1p"), ParamType::Choice(TargetFunc::VARIANTS), "log1p (predictions back by expm1) or power (a PowerTransformer on y)";
        method: PowerMethod = S("yeo-johnson"), ParamType::Choice(PowerMethod::VARIANTS), "power only: yeo-johnson or box-cox";
        standardize: bool = B(true), ParamType::Bool, "power only: standardise the transformed target";
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetTransform {
    Log1p,
    Power(FittedPower),
}

/// Fitted on the training targets; an error names the first row the transform cannot take.
pub fn fit(params: &TargetParams, y: ArrayView1<f64>) -> Result<TargetTransform, String> {
    match params.transform {
        TargetFunc::Log1p => match y.iter().position(|&v| v.is_nan() || v <= -1.0) {
            Some(i) => Err(format!("the log1p target transform needs values above -1; row {i} has {}", y[i])),
            None => Ok(TargetTransform::Log1p),
        },
        TargetFunc::Power => {
            let p = PowerParams { method: params.method, standardize: params.standardize };
            let fitted = power::fit(&p, y.insert_axis(Axis(1)), &["target".to_string()]);
            fitted.map(TargetTransform::Power).map_err(|e| format!("the target's power transform: {e}"))
        }
    }
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
            let transform = case["kind"].as_str().unwrap().parse().unwrap();
            let params = TargetParams { transform, method: PowerMethod::YeoJohnson, standardize: true };
            let y = Array1::from(vector(&case["y"]));
            let fitted = fit(&params, y.view()).unwrap();
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
        let params = TargetParams { transform: TargetFunc::Log1p, method: PowerMethod::YeoJohnson, standardize: true };
        assert!(fit(&params, y.view()).unwrap_err().contains("row 1 has -1"));
    }
}
