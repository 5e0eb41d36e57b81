//! What runs after the sweep, on the best trial: its explanation (out-of-fold predictions, permutation
//! importance), its learning curve and its refit.

pub mod explain;
pub mod kept;
pub mod learning;
pub mod partial;
pub mod refit;
