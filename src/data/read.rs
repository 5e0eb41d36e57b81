//! The file read through polars (CSV, Parquet, NDJSON) behind the shape check and a guard
//! against polars panics; the path checks; polars errors as a user can act on them.

use super::cache::{self, CachedFrame, DataCache};
use super::shape::{check_shape, is_blank, sha256_file};
use super::{stream, CacheUse, DataError};
use crate::config::{DatasetKey, Experiment};
use polars::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// A polars error as a runner user can act on it: polars' advice names its Python API
/// (`infer_schema_length`, `schema_overrides`, `ignore_errors`, ...), which runner has no
/// setting for, so the advice is cut and only what went wrong is kept.
fn polars_message(e: &PolarsError) -> String {
    let text = e.to_string();
    let text = text.split("You might want to try").next().unwrap_or("");
    const PYTHON: [&str; 8] = [
        "infer_schema",
        "schema_overrides",
        "ignore_errors",
        "null_values",
        "truncate_ragged_lines",
        "try_parse_dates",
        "pl.",
        "=True",
    ];
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let kept: Vec<&str> = lines.into_iter().filter(|l| !PYTHON.iter().any(|p| l.contains(p))).collect();
    match kept.join(" ") {
        t if t.is_empty() => "polars could not read it".into(),
        t => t,
    }
}

/// A polars error on `path` as a data error.
pub(super) fn polars_unreadable(path: &Path) -> impl Fn(PolarsError) -> DataError + Copy + '_ {
    move |e| DataError::Unreadable { path: path.display().to_string(), message: polars_message(&e) }
}

/// `read`, a polars read, with a panic inside polars turned into an error: polars 0.55 panics
/// on some inputs (an NDJSON integer too large for i64 is inferred as Int128, which it then
/// refuses; found by fuzzing). The default panic message is silenced meanwhile.
pub(super) fn polars_guarded<T>(read: impl FnOnce() -> PolarsResult<T>) -> PolarsResult<T> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    std::panic::set_hook(hook);
    result.unwrap_or_else(|panic| {
        let what = crate::panic::message(panic.as_ref(), "polars stopped on this file");
        Err(PolarsError::ComputeError(format!("the file could not be parsed ({what})").into()))
    })
}

/// The file as a frame; a CSV's `text` columns are read as the file wrote them.
fn read_frame(path: &Path, missing: &[String], all_text: bool, text: &[&str]) -> PolarsResult<DataFrame> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "parquet" => ParquetReader::new(std::fs::File::open(path)?).finish(),
        "ndjson" | "jsonl" => {
            JsonReader::new(std::fs::File::open(path)?).with_json_format(JsonFormat::JsonLines).finish()
        }
        _ => {
            let frame = read_csv(path, missing, all_text, text)?;
            spell_booleans_as_written(path, missing, all_text, text, frame)
        }
    }
}

fn read_csv(path: &Path, missing: &[String], all_text: bool, text: &[&str]) -> PolarsResult<DataFrame> {
    csv_options(missing, all_text, text, &[]).try_into_reader_with_file_path(Some(path.to_path_buf()))?.finish()
}

/// How every CSV is parsed, loaded or streamed: a header, `missing` as gaps, types inferred
/// from the first 1000 rows (or every column as text with `all_text`), the `text` columns as
/// the file wrote them, and only `columns` when some are named.
pub(super) fn csv_options(missing: &[String], all_text: bool, text: &[&str], columns: &[String]) -> CsvReadOptions {
    let tokens: Vec<PlSmallStr> = missing.iter().filter(|t| !t.is_empty()).map(|t| t.as_str().into()).collect();
    let missing_is_null = missing.iter().any(|t| t.is_empty());
    let as_text = (!text.is_empty()).then(|| {
        std::sync::Arc::new(text.iter().map(|n| Field::new((*n).into(), DataType::String)).collect::<Schema>())
    });
    let columns: std::sync::Arc<[PlSmallStr]> = columns.iter().map(|c| PlSmallStr::from(c.as_str())).collect();
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(if all_text { 0 } else { 1000 }))
        .with_schema_overwrite(as_text)
        .with_columns((!columns.is_empty()).then_some(columns))
        .map_parse_options(|p| {
            p.with_null_values((!tokens.is_empty()).then(|| NullValues::AllColumns(tokens.clone())))
                .with_missing_is_null(missing_is_null)
        })
}

/// polars reads `True`, `TRUE` and `true` as one boolean, which prints as `true`. A class
/// label or level is echoed as the file wrote it, so a boolean column that spells each
/// truth value one way is read again as that text (one spelled several ways stays boolean).
fn spell_booleans_as_written(
    path: &Path,
    missing: &[String],
    all_text: bool,
    text: &[&str],
    mut frame: DataFrame,
) -> PolarsResult<DataFrame> {
    let booleans: Vec<String> =
        frame.columns().iter().filter(|c| c.dtype() == &DataType::Boolean).map(|c| c.name().to_string()).collect();
    if booleans.is_empty() {
        return Ok(frame);
    }
    let names: Vec<&str> = text.iter().copied().chain(booleans.iter().map(String::as_str)).collect();
    let spelled = read_csv(path, missing, all_text, &names)?;
    for name in &booleans {
        let written = spelled.column(name)?;
        let mut spelling: [Option<&str>; 2] = [None, None];
        let one_way = frame.column(name)?.bool()?.iter().zip(written.str()?.iter()).all(|(b, t)| match (b, t) {
            (Some(b), Some(t)) => *spelling[usize::from(b)].get_or_insert(t) == t,
            (b, t) => b.is_none() && t.is_none(),
        });
        if one_way {
            frame.replace(name, written.clone())?;
        }
    }
    Ok(frame)
}

/// The experiment's data file read into a frame with its sha256 (once its shape is known to
/// be sound), or taken from the parsed-data cache when `cache` holds this version of it.
pub(super) fn read_checked(exp: &Experiment, cache: Option<&DataCache>) -> Result<CachedFrame, DataError> {
    let (path, missing) = (&exp.dataset.path, &exp.dataset.missing);
    check_path(path, &|| exp.location(DatasetKey::Path))?;
    let parse = || read_version(path, missing, &[], true);
    match cache {
        Some(cache) => cache::read_through(cache, path, missing, parse),
        None => parse().map(|(frame, sha256)| CachedFrame { frame, sha256, cache: CacheUse::Off, write: None }),
    }
}

/// `path` read into a frame with `missing` as the missing-value tokens, not hashed; `location`
/// names where the path came from, for the errors.
pub(super) fn read_file(
    path: &Path,
    missing: &[String],
    text: &[&str],
    location: &dyn Fn() -> String,
) -> Result<DataFrame, DataError> {
    check_path(path, location)?;
    read_version(path, missing, text, false).map(|(frame, _)| frame)
}

/// A file `check_path` passed, read into a frame while another thread hashes it (`hash`; else
/// the hash is empty).
fn read_version(path: &Path, missing: &[String], text: &[&str], hash: bool) -> Result<(DataFrame, String), DataError> {
    let shown = || path.display().to_string();
    let unreadable = |e: std::io::Error| DataError::Unreadable { path: shown(), message: e.to_string() };
    // The hash and polars' read are two reads: both must see one version of the file.
    let before = stream::stamp(path);
    let stop = AtomicBool::new(false);
    let (hashed, frame) = std::thread::scope(|scope| {
        let hashing = scope.spawn(|| if hash { sha256_file(path, &stop) } else { Ok(Some(String::new())) });
        let frame = parse_sound(path, missing, text);
        // A failed read needs no hash: stop hashing rather than wait for it.
        stop.store(frame.is_err(), Ordering::Relaxed);
        (hashing.join(), frame)
    });
    let hashing_failed = || DataError::Unreadable { path: shown(), message: "hashing the file failed".into() };
    // A failed read of the raw bytes is reported before what polars made of them.
    let hashed = hashed.map_err(|_| hashing_failed())?.map_err(unreadable)?;
    let frame = frame?;
    let sha256 = hashed.ok_or_else(hashing_failed)?;
    if before.is_none() || stream::stamp(path) != before {
        let message = "the file changed while it was being read (its size, times or identity differ from when \
                       reading began); run the same command again once it stays unchanged";
        return Err(DataError::Unreadable { path: shown(), message: message.into() });
    }
    if frame.height() == 0 {
        return Err(DataError::NoRows { path: shown() });
    }
    Ok((frame, sha256))
}

/// The file parsed by polars once the shape check has passed it: polars 0.55's CSV parser
/// reads out of bounds on some malformed files (an unclosed quote after a ragged row, found by
/// fuzzing), so it only ever sees files whose shape is sound.
fn parse_sound(path: &Path, missing: &[String], text: &[&str]) -> Result<DataFrame, DataError> {
    let shown = || path.display().to_string();
    let shape = check_shape(path).map_err(|e| DataError::Unreadable { path: shown(), message: e.to_string() })?;
    if let Some(problem) = shape {
        return Err(DataError::Malformed { path: shown(), problem });
    }
    // Fast path: polars infers the types. If a cell defeats inference, re-read as text so
    // that our own parser can name the bad cell.
    let read = |all_text| polars_guarded(|| read_frame(path, missing, all_text, text));
    read(false).or_else(|_| read(true)).map_err(polars_unreadable(path))
}

/// A data file that exists, is a regular file and is not blank.
pub(super) fn check_path(path: &Path, location: &dyn Fn() -> String) -> Result<(), DataError> {
    let shown = || path.display().to_string();
    if !path.exists() {
        return Err(DataError::NotFound { location: location(), path: shown() });
    }
    // A FIFO or /dev/zero would be read forever.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(DataError::NotAFile { location: location(), path: shown() });
    }
    let unreadable = |e: std::io::Error| DataError::Unreadable { path: shown(), message: e.to_string() };
    if is_blank(path).map_err(unreadable)? {
        return Err(DataError::Empty { path: shown() });
    }
    Ok(())
}

/// Hands memory freed after parsing back to the operating system. glibc keeps freed heap
/// pages for reuse; after a load they would otherwise count against every fold's matrices.
pub(super) fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it takes no pointers.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn polars_advice_for_its_python_api_never_reaches_a_user() {
        use polars::prelude::*;
        // Whole numbers, then a decimal past the inference rows: polars' advice names
        // infer_schema_length and schema_overrides.
        let csv = b"x\n1\n2\n1.5\n".to_vec();
        let e = CsvReadOptions::default()
            .with_infer_schema_length(Some(1))
            .into_reader_with_file_handle(std::io::Cursor::new(csv))
            .finish()
            .unwrap_err();
        assert!(e.to_string().contains("infer_schema_length"), "{e}");
        let shown = super::polars_message(&e);
        for python in ["infer_schema_length", "schema_overrides", "ignore_errors", "You might want"] {
            assert!(!shown.contains(python), "{shown}");
        }
        assert!(shown.contains("1.5"), "{shown}");
    }
}
