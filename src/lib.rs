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
pub mod random;
pub mod report;
pub mod spec;
pub mod split;
pub mod suggest;
pub mod sweep;
pub mod trial;
