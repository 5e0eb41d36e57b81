//! The text of a caught panic, for the errors that report one (a trainer's, polars').

use std::any::Any;

/// The panic's message, or `fallback` when its payload is not text.
pub fn message(payload: &(dyn Any + Send), fallback: &str) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| fallback.to_string())
}
