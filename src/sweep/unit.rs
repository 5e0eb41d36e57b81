//! The one way to fit a unit, and the one guard around model code: every stage that trains
//! (the sweep, halving's rounds, nested CV, learning curves, the explanation, the refit) fits
//! through `fit_unit` or runs its model code under `guarded`, so a trainer's panic costs that
//! unit (a failure with its reason), never the run.

use crate::kinds::ModelSpec;
use crate::models::target::with_target;
use crate::models::{FitError, Fitted};
use crate::preprocess::FoldData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

/// The stage a unit is fitted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Sweep,
    Nested,
    Learning,
    Explain,
    Refit,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::Sweep => "sweep",
            Stage::Nested => "nested",
            Stage::Learning => "learning",
            Stage::Explain => "explain",
            Stage::Refit => "refit",
        }
    }
}

/// Why a unit has no result: its trainer's error, or a panic in model code.
#[derive(Debug)]
pub enum UnitError {
    Fit(FitError),
    Panic(String),
}

impl std::fmt::Display for UnitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnitError::Fit(e) => e.fmt(f),
            UnitError::Panic(what) => write!(f, "internal error in the trainer: {what}"),
        }
    }
}

/// `work` (model code), with a panic turned into its message.
pub fn guarded<T>(stage: Stage, work: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(|| {
        test_panic(stage);
        work()
    }))
    .map_err(|panic| crate::panic::message(panic.as_ref(), "unknown"))
}

/// `spec` fitted on `data`'s training part with `seed`, handed to `then` (to predict and
/// score), all under the guard.
pub fn fit_unit<T>(
    stage: Stage,
    spec: &ModelSpec,
    data: &FoldData,
    classes: &[String],
    seed: u32,
    then: impl FnOnce(Box<dyn Fitted>) -> T,
) -> Result<T, UnitError> {
    let transform = data.target.as_ref().map(|t| &t.transform);
    match guarded(stage, || spec.fit(data, classes, seed).map(|m| then(with_target(m, transform)))) {
        Ok(result) => result.map_err(UnitError::Fit),
        Err(what) => Err(UnitError::Panic(what)),
    }
}

/// The integration tests' trainer panic: `RUNNER_TEST_PANIC=<stage>` makes every unit of that
/// stage panic (the binary is not built with `cfg(test)`); unset, it costs one lookup per run.
fn test_panic(stage: Stage) {
    static WANTED: OnceLock<Option<String>> = OnceLock::new();
    if WANTED.get_or_init(|| std::env::var("RUNNER_TEST_PANIC").ok()).as_deref() == Some(stage.name()) {
        panic!("test panic in the {}", stage.name());
    }
}
