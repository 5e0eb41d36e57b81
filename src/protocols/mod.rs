//! Protocols that schedule sweeps beyond one pass over the grid: successive halving's rounds and nested
//! cross-validation's outer folds.

pub mod halving;
pub mod nested;
