//! `runner`: a declarative experiment runner for classical machine learning.
//!
//! The stages, in the order data flows through them (see ARCHITECTURE.md):
//! [`config`] → [`data`] → [`preprocess`] → [`split`] → [`models`] → [`sweep`] →
//! [`metrics`] → [`report`]. [`plan`] ties the first stages into a checked `RunPlan`.

pub mod cli;
pub mod compare;
pub mod config;
pub mod data;
pub mod explain;
pub mod metrics;
pub mod models;
mod panic;
pub mod plan;
pub mod preprocess;
pub mod report;
pub mod ridge_path;
pub mod split;
pub mod sweep;
