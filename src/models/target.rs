//! A model fitted on a transformed regression target (`target = "log1p"`): its predictions
//! go back through the transform's inverse, as TransformedTargetRegressor's `predict` does,
//! so every stage that scores it (sweep, nested, learning curve, explanation, refit, predict)
//! sees the original scale.

use super::{FitNote, Fitted, LossCurve, ModelState, Prediction};
use crate::preprocess::TargetTransform;
use ndarray::Array2;

struct TargetModel {
    inner: Box<dyn Fitted>,
    transform: TargetTransform,
}

/// `model` predicting on the original scale when a target transform was fitted.
pub fn with_target(model: Box<dyn Fitted>, transform: Option<&TargetTransform>) -> Box<dyn Fitted> {
    match transform {
        Some(t) => Box::new(TargetModel { inner: model, transform: t.clone() }),
        None => model,
    }
}

impl TargetModel {
    fn back(&self, p: Prediction) -> Prediction {
        match p {
            Prediction::Values(v) => Prediction::Values(self.transform.inverse(v.view())),
            other => other,
        }
    }
}

/// Not `linear` nor `kernel_model`: their shortcuts would predict on the transformed scale.
impl Fitted for TargetModel {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        self.back(self.inner.predict(x))
    }

    fn loss_curve(&self) -> Option<LossCurve> {
        self.inner.loss_curve()
    }

    fn notes(&self) -> Vec<FitNote> {
        self.inner.notes()
    }

    fn fitted_prediction(&self) -> Option<Prediction> {
        self.inner.fitted_prediction().map(|p| self.back(p))
    }

    fn out_of_bag(&self) -> Option<Prediction> {
        self.inner.out_of_bag().map(|p| self.back(p))
    }

    fn impurity_importance(&self) -> Option<Vec<f64>> {
        self.inner.impurity_importance()
    }

    fn state(&self) -> Option<ModelState> {
        self.inner.state()
    }
}
