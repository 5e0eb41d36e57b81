//! `runner`: a declarative experiment runner for classical machine learning.
//!
//! The stages, in the order data flows through them and each may import only those before
//! it (see ARCHITECTURE.md): [`config`] → [`data`] → [`split`] → [`preprocess`] →
//! [`models`] → [`kinds`] → [`metrics`] → [`trial`] → [`plan`] → [`sweep`] → [`protocols`] (halving, nested CV) → [`after_sweep`] (explain, learning curve, refit) → [`report`] → [`cli`].
//! [`trial`] holds the grid points and the unit records the later stages share; [`plan`]
//! ties config, data, split and trials into a checked `RunPlan`. Vocabulary any stage may use: [`spec`] (typed model parameters and
//! the catalog), [`random`] (numpy's generator), [`linalg`] (Cholesky and the SVD) and [`suggest`] (did-you-mean hints).

// Vocabulary.
pub mod linalg;
pub mod random;
pub mod spec;
pub mod suggest;

// Stages, in data-flow order.
pub mod config;
pub mod data;
pub mod split;
pub mod preprocess;
pub mod models;
pub mod kinds;
pub mod metrics;
pub mod trial;
pub mod plan;
pub mod sweep;
pub mod protocols;
pub mod after_sweep;
pub mod report;

// The commands' pure parts: clap definitions, `compare`, `init`, `schema`.
pub mod cli;
mod panic;
