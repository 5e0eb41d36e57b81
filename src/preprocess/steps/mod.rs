//! Pipeline steps: each fitted on a fold's training rows and applied to both sides, each equal
//! to its scikit-learn twin. A step's module holds its params, its `fit` and its fitted state.

mod optimize;
pub mod pca;
pub mod power;
pub mod select_k_best;
pub mod spline;
pub mod target;
#[cfg(test)]
mod fixtures;

/// A step's fitted state: maps a design matrix (rows × features) to a new one. Serde so
/// model.json carries it. (The same trait as the pipeline helper's steps/mod.rs.)
pub trait FittedStep {
    fn transform(&self, x: ndarray::ArrayView2<f64>) -> ndarray::Array2<f64>;
    /// The output columns' names from the input's (scikit-learn's `get_feature_names_out`).
    fn feature_names(&self, input: &[String]) -> Vec<String>;
    /// A loaded file's values are ones a fit gives, for an input `width` columns wide.
    fn check(&self, width: usize) -> Result<(), String>;
}
