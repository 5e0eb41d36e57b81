//! The integration tests: the `runner` binary end to end, and the library against
//! scikit-learn's numbers (fixtures made by tests/fixtures/sklearn/generate.py).

mod architecture;
mod cache;
mod bad_input;
mod cli;
mod common;
mod conformance;
mod data_formats;
mod explain;
mod gd;
mod hardening;
mod init;
mod nonlinear;
mod paths;
mod pipelines;
mod predict;
mod reports;
mod selection;
mod shortcuts;
mod sklearn;
mod splits;
mod streaming;
mod sweep;
mod tracking;
mod weights;
