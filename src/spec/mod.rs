//! The vocabulary of model parameters, in linfa's `Params → check() → ValidParams` style:
//! parameter values and types (`value`), the typed params structs the trainers in `models`
//! take (`kinds`), what a catalog entry says (`catalog`, and `ModelKind`) and the registry's
//! table of kinds (`registry`). `kinds` (the layer after `models`) checks a grid point into a
//! `ModelSpec` once; a trainer never looks a parameter up by name. Shared by `config` (which
//! validates the file against the catalog it is given) and `models`, so it imports neither.

pub mod catalog;
pub mod kinds;
pub mod registry;
pub mod value;

pub use catalog::{ModelKind, TaskSupport};
pub use kinds::*;
pub use value::{ParamType, ParamValue, ParamValues};
