//! The experiment file's text.

use std::path::Path;

/// The experiment file's text; the message says what is wrong (unreadable, not UTF-8).
pub fn read_experiment_text(file: &Path) -> Result<String, String> {
    let bytes = std::fs::read(file).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        format!("byte {column} of line {line} is not UTF-8 (the file must be UTF-8 text)")
    })
}
