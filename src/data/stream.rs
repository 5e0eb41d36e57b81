//! Streaming (`[dataset] streaming`): the dataset read in batches of rows, never whole.
//! Parquet is read in slices of `BATCH_ROWS` rows (by default) (polars decodes only the row groups a
//! slice touches); a CSV in runs of whole records, found by the shape check's pass, each
//! parsed by polars with the header in front. Every batch goes through the same cell
//! conversion as a loaded file, so values, gaps and errors (named by file row) are the same.
//!
//! `scan` is the first pass: the sha256, the row count, the kept rows, the gaps, the
//! categories, the classes and the column means; it keeps one class index per row (for
//! stratified splits) or the split column's value, never the features.

use super::cells::{format_number, raw_column, row_label, sorted_categories, RawColumn};
use super::columns::{choose_columns, decide_task, TargetValues};
use super::read::{check_path, csv_options, polars_unreadable};
use super::rows::{check_classes, check_rows, ColumnCount};
use super::shape::scan_file_marking;
use super::split_column::read_split_column;
use super::{ColumnSchema, DataError, Dataset, Feature, SplitColumn, Storage, Streamed, Target};
use crate::config::{DatasetKey, Experiment, Impute, SplitConfig, Task};
use polars::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Rows per batch by default: large enough for polars and the matrix products, small
/// enough that a batch of a few hundred columns stays in tens of MiB.
pub const BATCH_ROWS: usize = 1 << 16;

/// Where each batch's rows are in the file.
enum Pieces {
    Parquet {
        rows: usize,
    },
    /// The header line, and the byte offset of each batch's first record (the file's end last).
    Csv {
        header: Vec<u8>,
        starts: Vec<u64>,
    },
}

/// A feature as every batch encodes it: categories index the scan's sorted levels.
#[derive(Debug, Clone)]
struct FeatureSchema {
    name: String,
    categories: Option<HashMap<String, u32>>,
}

/// How to read the file again, batch by batch, with the scan's encodings.
pub struct StreamSource {
    path: PathBuf,
    missing: Vec<String>,
    pieces: Pieces,
    /// Bytes in the file, for the progress bar's rate.
    pub bytes: u64,
    batch_rows: usize,
    target: String,
    features: Vec<FeatureSchema>,
    /// Classification: each label's class index.
    classes: Option<HashMap<String, usize>>,
    /// Features whose gaps drop the row (`impute = "drop"`).
    drops: Vec<usize>,
    /// Kept rows before each batch.
    kept_before: Vec<usize>,
    /// The file's identity when the scan began: a pass over a changed file would mix two
    /// datasets' rows.
    stamp: Stamp,
    /// Passes read so far (the test hook counts them).
    passes: std::sync::atomic::AtomicUsize,
    /// Batches kept after their first read while they fit `keep_budget` bytes, so that a
    /// later pass (an L-BFGS evaluation, an epoch) neither reads nor parses them again.
    kept: Mutex<Vec<Option<Arc<Batch>>>>,
    kept_bytes: std::sync::atomic::AtomicU64,
    /// Set by the plan from `--memory-budget`; 0 keeps nothing.
    keep_budget: u64,
    /// A test hook (`--test-replace-during-pass`): during pass `.0`, after its first batch,
    /// the file is overwritten in place with `.1`'s bytes.
    pub replace_during_pass: Option<(usize, PathBuf)>,
}

/// One batch of kept rows.
pub struct Batch {
    /// Each row's 0-based row in the file.
    pub file_rows: Vec<usize>,
    pub features: Vec<Feature>,
    /// Class indices into the scan's sorted classes.
    pub target: Target,
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.file_rows.len()
    }

    /// An upper bound of the bytes it holds: 8 per row and feature, 8 per row for its row
    /// number and 8 for its target.
    fn bytes(&self) -> u64 {
        (self.rows() * (self.features.len() + 2) * 8) as u64
    }
}

/// The first pass's findings.
pub struct Scanned {
    /// The dataset's schema and counts (its rows are `Storage::Streamed`).
    pub dataset: Dataset,
    pub source: StreamSource,
    /// Classification: each kept row's class index (what a stratified split needs).
    pub labels: Option<Vec<u32>>,
    /// The mean of each numeric feature's values and of a regression target (accumulation
    /// shifts them, for accuracy).
    pub feature_means: Vec<f64>,
    pub target_mean: f64,
}

fn unreadable(path: &Path) -> impl Fn(PolarsError) -> DataError + Copy + '_ {
    polars_unreadable(path)
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |e| DataError::Unreadable { path: path.display().to_string(), message: e.to_string() }
}

/// What identifies one version of a file: its length, modification and change times and,
/// on Unix, its device and inode (a file replaced by a rename is another inode; `touch -d`
/// can reset the modification time but not the change time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    identity: (u64, u64, i64, i64),
}

pub(super) fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let identity = {
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino(), m.ctime(), m.ctime_nsec())
    };
    #[cfg(not(unix))]
    let identity = (0, 0, 0, 0);
    Some(Stamp { len: m.len(), modified: m.modified().ok(), identity })
}

impl Stamp {
    /// The stamp as text, for the parsed-data cache's key: length, modification time in
    /// nanoseconds, device, inode and change time.
    pub(super) fn describe(&self) -> String {
        let modified = self.modified.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let (dev, ino, ctime, ctime_ns) = self.identity;
        let modified = modified.map_or("unknown".into(), |d| d.as_nanos().to_string());
        format!(
            "{} bytes, modified {modified} ns, device {dev}, inode {ino}, changed {ctime} s {ctime_ns} ns",
            self.len
        )
    }

    /// When the file last changed (the later of its modification and change times), and
    /// whether its file system keeps whole seconds only (both times' nanoseconds 0).
    pub(super) fn last_change(&self) -> Option<(std::time::Duration, bool)> {
        let modified = self.modified?.duration_since(std::time::UNIX_EPOCH).ok()?;
        let (_, _, secs, nanos) = self.identity;
        let changed = std::time::Duration::new(u64::try_from(secs).ok()?, u32::try_from(nanos).ok()?);
        let coarse = modified.subsec_nanos() == 0 && nanos == 0;
        Some((modified.max(changed), coarse))
    }
}

/// Why a streamed file cannot be read on: it is not the version the scan read.
fn changed(path: &Path) -> String {
    format!(
        "{} changed while it was being streamed (its size, times or identity differ from the first pass); \
         nothing was recorded from the passes over it: run the same command again once it stays unchanged",
        path.display()
    )
}

impl StreamSource {
    /// Rows per batch (a CSV's batches hold this many records).
    pub fn batch_rows(&self) -> usize {
        self.batch_rows
    }

    /// Kept rows before batch `i` (the dataset row of its first row).
    pub fn kept_before(&self, i: usize) -> usize {
        self.kept_before.get(i).copied().unwrap_or(0)
    }

    /// Takes `bytes` of the kept batches' budget for a pass's own copies of its rows (a fit's
    /// design matrices), if they fit; `release` gives them back.
    pub fn reserve(&self, bytes: u64) -> bool {
        use std::sync::atomic::Ordering;
        let fits = |kept: u64| kept.checked_add(bytes).filter(|&total| total <= self.keep_budget);
        self.kept_bytes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, fits).is_ok()
    }

    pub fn release(&self, bytes: u64) {
        self.kept_bytes.fetch_sub(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Reads the batches in `order`, the next one read on another thread while `each` works
    /// on the current one. Stops early (without error) once `stop` is set. An error names
    /// what went wrong, including a file that changed since the scan.
    pub fn pass(
        &self,
        order: &[usize],
        stop: &std::sync::atomic::AtomicBool,
        mut each: impl FnMut(usize, &Batch),
    ) -> Result<(), String> {
        use std::sync::atomic::Ordering;
        self.unchanged()?;
        let pass = self.passes.fetch_add(1, Ordering::Relaxed) + 1;
        let mut first = true;
        let mut each = |i: usize, batch: &Batch| {
            each(i, batch);
            if std::mem::take(&mut first) {
                self.test_replace(pass);
            }
        };
        if let Some(kept) = self.all_kept(order) {
            // Everything is in memory: no reader thread, no parse.
            for (&i, batch) in order.iter().zip(&kept) {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                each(i, batch);
            }
        } else {
            std::thread::scope(|scope| {
                let (send, receive) = std::sync::mpsc::sync_channel::<(usize, Result<Arc<Batch>, DataError>)>(1);
                scope.spawn(move || {
                    for &i in order {
                        if stop.load(Ordering::Relaxed) || send.send((i, self.read(i))).is_err() {
                            return;
                        }
                    }
                });
                for (i, batch) in receive {
                    // A batch that cannot be read now was read by the scan: the file changed.
                    let batch = batch.map_err(|e| format!("{} ({e})", changed(&self.path)))?;
                    each(i, &batch);
                }
                Ok::<(), String>(())
            })?;
        }
        // Checked again at the end: an edit during the pass (even its last) is never mixed in.
        self.unchanged()
    }

    /// The batches of `order`, when every one is kept.
    fn all_kept(&self, order: &[usize]) -> Option<Vec<Arc<Batch>>> {
        let kept = self.kept.lock().ok()?;
        order.iter().map(|&i| kept.get(i).cloned().flatten()).collect()
    }

    /// Batch `i`, from memory when it is kept, else read (and kept while the budget allows).
    fn read(&self, i: usize) -> Result<Arc<Batch>, DataError> {
        if let Some(b) = self.kept.lock().ok().and_then(|k| k.get(i).cloned().flatten()) {
            return Ok(b);
        }
        let batch = Arc::new(self.batch(i)?);
        self.keep(i, &batch);
        Ok(batch)
    }

    fn forget_kept(&mut self) {
        if let Ok(kept) = self.kept.get_mut() {
            kept.clear();
        }
        *self.kept_bytes.get_mut() = 0;
    }

    /// Whether `bytes` more fit the budget of kept batches.
    fn room_for(&self, bytes: u64) -> bool {
        self.kept_bytes.load(std::sync::atomic::Ordering::Relaxed) + bytes <= self.keep_budget
    }

    /// Keeps batch `i` while the budget allows.
    fn keep(&self, i: usize, batch: &Arc<Batch>) {
        let bytes = batch.bytes();
        if let (true, Ok(mut kept)) = (self.room_for(bytes), self.kept.lock()) {
            if kept.len() <= i {
                kept.resize(i + 1, None);
            }
            if kept[i].is_none() {
                kept[i] = Some(Arc::clone(batch));
                self.kept_bytes.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    /// An error unless the file is the version the scan read.
    fn unchanged(&self) -> Result<(), String> {
        match stamp(&self.path) {
            Some(now) if now == self.stamp => Ok(()),
            _ => Err(changed(&self.path)),
        }
    }

    /// The test hook: overwrites the file in place during pass `pass` when asked to.
    fn test_replace(&self, pass: usize) {
        if let Some((_, with)) = self.replace_during_pass.as_ref().filter(|(p, _)| *p == pass) {
            let _ = std::fs::read(with).and_then(|bytes| std::fs::write(&self.path, bytes));
        }
    }

    pub fn batches(&self) -> usize {
        match &self.pieces {
            Pieces::Parquet { rows } => rows.div_ceil(self.batch_rows),
            Pieces::Csv { starts, .. } => starts.len().saturating_sub(1),
        }
    }

    /// Batch `i`'s rows as polars reads them, with only `columns`.
    fn frame(&self, i: usize, columns: &[String]) -> Result<(DataFrame, usize), DataError> {
        let path = &self.path;
        match &self.pieces {
            Pieces::Parquet { rows } => {
                let start = i * self.batch_rows;
                let len = self.batch_rows.min(rows - start);
                let file = std::fs::File::open(path).map_err(io_error(path))?;
                let frame = ParquetReader::new(file)
                    .with_columns(Some(columns.to_vec()))
                    .with_slice(Some((start, len)))
                    .finish()
                    .map_err(unreadable(path))?;
                Ok((frame, start))
            }
            Pieces::Csv { header, starts } => {
                let mut bytes = header.clone();
                let (from, to) = (starts[i], starts[i + 1]);
                let mut file = std::fs::File::open(path).map_err(io_error(path))?;
                file.seek(SeekFrom::Start(from)).map_err(io_error(path))?;
                file.take(to - from).read_to_end(&mut bytes).map_err(io_error(path))?;
                // As when loading: a cell that defeats polars' inference (whole numbers in its
                // first rows, then a decimal) re-reads the batch as text, which the cell
                // conversion parses; a column's type never depends on where a batch starts.
                let frame = parse_csv(&bytes, &self.missing, columns, false)
                    .or_else(|_| parse_csv(&bytes, &self.missing, columns, true))
                    .map_err(unreadable(path))?;
                Ok((frame, i * self.batch_rows))
            }
        }
    }

    /// Reads batch `i`, encoded with the scan's categories and classes.
    pub fn batch(&self, i: usize) -> Result<Batch, DataError> {
        let mut columns: Vec<String> = vec![self.target.clone()];
        columns.extend(self.features.iter().map(|f| f.name.clone()));
        let (mut frame, first) = self.frame(i, &columns)?;
        let path = &self.path;
        let mut take = |name: &str| frame.drop_in_place(name).map_err(unreadable(path));
        let target = numeric_if_empty(raw_column(path, &take(&self.target)?, &self.missing, false, first)?);
        let mut keep: Vec<bool> = target.present();
        let mut features = Vec::with_capacity(self.features.len());
        for f in &self.features {
            let raw = raw_column(path, &take(&f.name)?, &self.missing, f.categories.is_some(), first)?;
            features.push(self.encode(f, raw, first)?);
        }
        for &j in &self.drops {
            for (r, k) in keep.iter_mut().enumerate() {
                *k &= !features[j].is_missing(r);
            }
        }
        for f in features.iter_mut() {
            f.retain_rows(&keep);
        }
        let file_rows = (0..keep.len()).filter(|&r| keep[r]).map(|r| first + r).collect();
        let target = self.encode_target(target, &keep)?;
        Ok(Batch { file_rows, features, target })
    }

    fn encode(&self, f: &FeatureSchema, raw: RawColumn, first: usize) -> Result<Feature, DataError> {
        let name = f.name.clone();
        match (numeric_if_empty(raw), &f.categories) {
            (RawColumn::Numeric { values, .. }, None) => Ok(Feature::Numeric { name, values }),
            (RawColumn::Text(values), Some(levels)) => {
                let codes = values.iter().map(|v| v.as_ref().and_then(|v| levels.get(v).copied())).collect();
                Ok(Feature::Categorical { name, codes, categories: Vec::new() })
            }
            (RawColumn::Numeric { values, .. }, Some(levels)) => {
                let codes = values.iter().map(|v| levels.get(&format_number(*v)).copied()).collect();
                Ok(Feature::Categorical { name, codes, categories: Vec::new() })
            }
            (RawColumn::Text(values), None) => Err(changed_type(&self.path, &f.name, &values, first)),
        }
    }

    fn encode_target(&self, raw: RawColumn, keep: &[bool]) -> Result<Target, DataError> {
        let kept = |i: usize| keep[i];
        match (&self.classes, raw) {
            (None, RawColumn::Numeric { values, .. }) => Ok(Target::Regression(
                values.into_iter().enumerate().filter(|(i, _)| kept(*i)).map(|(_, v)| v).collect(),
            )),
            (Some(classes), raw) => {
                let labels = raw.labels().into_iter().enumerate().filter(|(i, _)| kept(*i));
                let labels = labels.map(|(_, l)| l.and_then(|l| classes.get(&l).copied()).unwrap_or(0)).collect();
                Ok(Target::Classification { labels, classes: Vec::new() })
            }
            (None, RawColumn::Text(values)) => Err(changed_type(&self.path, &self.target, &values, 0)),
        }
    }
}

/// A CSV batch (the header line, then whole records) parsed as polars parses the file
/// (`all_text`: every column as text).
fn parse_csv(bytes: &[u8], missing: &[String], columns: &[String], all_text: bool) -> PolarsResult<DataFrame> {
    csv_options(missing, all_text, &[], columns).into_reader_with_file_handle(std::io::Cursor::new(bytes)).finish()
}

/// A batch whose column has no value at all comes back as text from polars; it is a
/// numeric column's batch of gaps as much as a text column's.
fn numeric_if_empty(raw: RawColumn) -> RawColumn {
    match raw {
        RawColumn::Text(values) if values.iter().all(Option::is_none) => {
            RawColumn::Numeric { values: vec![f64::NAN; values.len()], integer: true }
        }
        raw => raw,
    }
}

/// A numeric column (so decided by its first batch) holding mostly text in a later batch.
fn changed_type(path: &Path, name: &str, values: &[Option<String>], first: usize) -> DataError {
    let (row, value) = values.iter().enumerate().find_map(|(i, v)| v.clone().map(|v| (i, v))).unwrap_or_default();
    DataError::NonNumeric { column: name.to_string(), row: row_label(path, first + row), value }
}

/// What the scan learns of one feature.
#[derive(Default)]
struct FeatureTally {
    /// Set by the first batch with a value in the column: whether it holds text.
    decided: bool,
    text: bool,
    levels: BTreeSet<String>,
    present_all: usize,
    /// Gaps among the kept rows, and the first one's file row.
    gaps: usize,
    first_gap: Option<usize>,
    sum: f64,
    count: usize,
}

/// The scan's running totals.
struct ScanTally {
    target_text: Option<bool>,
    target_integer: bool,
    fractional: Option<f64>,
    text_example: Option<String>,
    class_codes: HashMap<String, u32>,
    labels: Vec<u32>,
    rows_total: usize,
    dropped_target: usize,
    dropped_missing: usize,
    target_sum: f64,
    kept: usize,
    features: Vec<FeatureTally>,
}

/// The first pass over a file to stream: checks it as `load` does, and returns its schema,
/// counts and encodings. Errors are the loaded path's, naming the same columns and rows.
pub fn scan(
    exp: &Experiment,
    batch_rows: usize,
    keep_budget: u64,
    progress: Option<fn(usize, usize)>,
) -> Result<Scanned, DataError> {
    let path = &exp.dataset.path;
    check_path(path, &|| exp.location(DatasetKey::Path))?;
    // The version every later pass must find: taken before the hash, checked after the scan.
    let before = stamp(path)
        .ok_or_else(|| DataError::Unreadable { path: path.display().to_string(), message: changed(path) })?;
    let scanned = scan_version(exp, (batch_rows.max(1), keep_budget), progress, &before)?;
    if stamp(path).as_ref() != Some(&before) {
        return Err(DataError::Unreadable { path: path.display().to_string(), message: changed(path) });
    }
    Ok(scanned)
}

/// `sizes`: rows per batch, and the bytes of batches the scan may keep.
fn scan_version(
    exp: &Experiment,
    sizes: (usize, u64),
    progress: Option<fn(usize, usize)>,
    before: &Stamp,
) -> Result<Scanned, DataError> {
    let path = &exp.dataset.path;
    let (batch_rows, keep_budget) = sizes;
    if is_csv(path)? {
        // A CSV's batches start where the shape check's pass marks them: that pass first.
        let marks = scan_file_marking(path, Some(batch_rows)).map_err(io_error(path))?;
        if let Some(problem) = marks.problem {
            return Err(DataError::Malformed { path: path.display().to_string(), problem });
        }
        let (pieces, header) = csv_pieces(path, marks.record_starts, before.len)?;
        return scan_batches(exp, pieces, &header, (batch_rows, keep_budget), progress, before)
            .and_then(|t| t.finish_with(exp, marks.sha256));
    }
    // Parquet: hash the bytes on another thread while polars reads the batches.
    let (pieces, header) = parquet_pieces(path)?;
    std::thread::scope(|scope| {
        let hashing = scope.spawn(|| scan_file_marking(path, None));
        let tally = scan_batches(exp, pieces, &header, (batch_rows, keep_budget), progress, before)?;
        let marks = hashing.join().map_err(|_| DataError::Unreadable {
            path: path.display().to_string(),
            message: "hashing the file failed".into(),
        })?;
        tally.finish_with(exp, marks.map_err(io_error(path))?.sha256)
    })
}

/// The tallies of every batch, and the source they were read with.
struct Scanning {
    tally: ScanTally,
    source: StreamSource,
    split: Option<SplitColumn>,
}

impl Scanning {
    fn finish_with(self, exp: &Experiment, sha256: String) -> Result<Scanned, DataError> {
        self.tally.finish(exp, self.source, self.split, sha256)
    }
}

fn scan_batches(
    exp: &Experiment,
    pieces: Pieces,
    header: &[String],
    (batch_rows, keep_budget): (usize, u64),
    progress: Option<fn(usize, usize)>,
    before: &Stamp,
) -> Result<Scanning, DataError> {
    let cfg = &exp.dataset;
    let path = &cfg.path;
    let chosen = choose_columns(exp, header)?;
    let split = match &exp.split {
        SplitConfig::Column { column } => Some(column.clone()),
        _ => None,
    };
    let mut source = StreamSource {
        path: path.clone(),
        missing: cfg.missing.clone(),
        pieces,
        bytes: std::fs::metadata(path).map_err(io_error(path))?.len(),
        batch_rows,
        target: cfg.target.clone(),
        features: chosen.features.iter().map(|f| FeatureSchema { name: f.clone(), categories: None }).collect(),
        classes: None,
        drops: Vec::new(),
        kept_before: Vec::new(),
        stamp: before.clone(),
        passes: std::sync::atomic::AtomicUsize::new(0),
        kept: Mutex::new(Vec::new()),
        kept_bytes: std::sync::atomic::AtomicU64::new(0),
        keep_budget,
        replace_during_pass: None,
    };
    let mut tally = ScanTally::new(chosen.features.len());
    let mut split_values: Option<SplitColumn> = None;
    let batches = source.batches();
    for i in 0..batches {
        let values = tally.batch(exp, &mut source, i, split.as_deref())?;
        split_values = join_split(split_values, values);
        if let Some(tell) = progress {
            tell(i + 1, batches);
        }
    }
    if tally.rows_total == 0 {
        return Err(DataError::NoRows { path: path.display().to_string() });
    }
    Ok(Scanning { tally, source, split: split_values })
}

/// The rows and columns a file holds, cheaply: Parquet's footer, or a CSV's size over the
/// mean length of its first lines. `None` for NDJSON (not streamed) and unreadable files
/// (loading reports why).
pub fn estimate(path: &Path) -> Result<Option<(usize, usize)>, DataError> {
    let Ok(csv) = is_csv(path) else { return Ok(None) };
    if !path.is_file() {
        return Ok(None);
    }
    if !csv {
        let Ok(file) = std::fs::File::open(path) else { return Ok(None) };
        let mut reader = ParquetReader::new(file);
        let (Ok(rows), Ok(schema)) = (reader.num_rows(), reader.schema()) else { return Ok(None) };
        return Ok(Some((rows, schema.len())));
    }
    let size = std::fs::metadata(path).map_err(io_error(path))?.len();
    let mut head = Vec::new();
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    file.take(1 << 20).read_to_end(&mut head).map_err(io_error(path))?;
    let lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    let Some(header) = lines.first() else { return Ok(None) };
    let columns = header.iter().filter(|&&b| b == b',').count() + 1;
    let sampled = lines.len().saturating_sub(2).max(1);
    let mean = (head.len() - header.len()) as f64 / sampled as f64;
    Ok(Some(((size as f64 / mean.max(1.0)) as usize, columns)))
}

fn is_csv(path: &Path) -> Result<bool, DataError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "parquet" => Ok(false),
        "ndjson" | "jsonl" => Err(DataError::Unreadable {
            path: path.display().to_string(),
            message: "streaming reads CSV and Parquet files, not NDJSON; convert it (for example with polars: \
                      pl.scan_ndjson(path).sink_parquet(\"data.parquet\")) or set streaming = false"
                .into(),
        }),
        _ => Ok(true),
    }
}

fn parquet_pieces(path: &Path) -> Result<(Pieces, Vec<String>), DataError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut reader = ParquetReader::new(file);
    let rows = reader.num_rows().map_err(unreadable(path))?;
    let schema = reader.schema().map_err(unreadable(path))?;
    let header = schema.iter_names().map(|n| n.to_string()).collect();
    Ok((Pieces::Parquet { rows }, header))
}

fn csv_pieces(path: &Path, mut starts: Vec<u64>, end: u64) -> Result<(Pieces, Vec<String>), DataError> {
    let Some(&first) = starts.first() else {
        return Err(DataError::NoRows { path: path.display().to_string() });
    };
    let mut header = Vec::new();
    std::fs::File::open(path).map_err(io_error(path))?.take(first).read_to_end(&mut header).map_err(io_error(path))?;
    if !header.ends_with(b"\n") {
        header.push(b'\n');
    }
    let frame = parse_csv(&header, &[], &[], false).or_else(|_| {
        CsvReadOptions::default().into_reader_with_file_handle(std::io::Cursor::new(header.clone())).finish()
    });
    let names = frame.map_err(unreadable(path))?.get_column_names().iter().map(|n| n.to_string()).collect();
    if starts.last() != Some(&end) {
        starts.push(end);
    }
    starts.dedup();
    Ok((Pieces::Csv { header, starts }, names))
}

/// A batch of numbers only (a regression's, as a pass reads it) from the scan's columns,
/// when it fits the budget of kept batches: a later pass then neither reads nor parses it.
/// (`ScanTally::finish` lets them go unless the file is a regression on numbers.)
fn numbers_batch(
    source: &StreamSource,
    target: &RawColumn,
    raws: &[RawColumn],
    keep: &[bool],
    first: usize,
) -> Option<Batch> {
    let rows: Vec<usize> = (0..keep.len()).filter(|&r| keep[r]).collect();
    if !source.room_for((rows.len() * (raws.len() + 2) * 8) as u64) {
        return None;
    }
    let kept = |values: &[f64]| rows.iter().map(|&r| values[r]).collect::<Vec<f64>>();
    let RawColumn::Numeric { values: y, .. } = target else { return None };
    let mut features = Vec::with_capacity(raws.len());
    for (raw, f) in raws.iter().zip(&source.features) {
        let RawColumn::Numeric { values, .. } = raw else { return None };
        features.push(Feature::Numeric { name: f.name.clone(), values: kept(values) });
    }
    let target = Target::Regression(kept(y));
    Some(Batch { file_rows: rows.iter().map(|r| first + r).collect(), features, target })
}

/// Appends one batch's split values to the ones before it.
fn join_split(all: Option<SplitColumn>, batch: Option<SplitColumn>) -> Option<SplitColumn> {
    match (all, batch) {
        (None, b) => b,
        (Some(SplitColumn::TrainTest(mut a)), Some(SplitColumn::TrainTest(b))) => {
            a.extend(b);
            Some(SplitColumn::TrainTest(a))
        }
        (Some(SplitColumn::FoldIds(mut a)), Some(SplitColumn::FoldIds(b))) => {
            a.extend(b);
            Some(SplitColumn::FoldIds(a))
        }
        (a, _) => a,
    }
}

impl ScanTally {
    fn new(features: usize) -> ScanTally {
        ScanTally {
            target_text: None,
            target_integer: true,
            fractional: None,
            text_example: None,
            class_codes: HashMap::new(),
            labels: Vec::new(),
            rows_total: 0,
            dropped_target: 0,
            dropped_missing: 0,
            target_sum: 0.0,
            kept: 0,
            features: (0..features).map(|_| FeatureTally::default()).collect(),
        }
    }

    /// Tallies batch `i`; the first batch fixes each column's kind (numbers or text).
    fn batch(
        &mut self,
        exp: &Experiment,
        source: &mut StreamSource,
        i: usize,
        split: Option<&str>,
    ) -> Result<Option<SplitColumn>, DataError> {
        let cfg = &exp.dataset;
        let path = source.path.clone();
        let mut columns: Vec<String> = vec![cfg.target.clone()];
        columns.extend(source.features.iter().map(|f| f.name.clone()));
        columns.extend(split.map(str::to_string));
        let (mut frame, first) = source.frame(i, &columns)?;
        source.kept_before.push(self.kept);
        let mut take = |name: &str| frame.drop_in_place(name).map_err(unreadable(&path));
        let target = numeric_if_empty(raw_column(&path, &take(&cfg.target)?, &cfg.missing, false, first)?);
        let mut raws = Vec::with_capacity(source.features.len());
        for (j, f) in source.features.iter().enumerate() {
            let categorical = cfg.categorical.contains(&f.name) || self.features[j].text;
            let raw = numeric_if_empty(raw_column(&path, &take(&f.name)?, &cfg.missing, categorical, first)?);
            let t = &mut self.features[j];
            if !t.decided && raw.present().contains(&true) {
                t.decided = true;
                t.text = matches!(raw, RawColumn::Text(_));
            }
            raws.push(raw);
        }
        if self.target_text.is_none() && target.present().contains(&true) {
            self.target_text = Some(matches!(target, RawColumn::Text(_)));
        }
        if i == 0 {
            source.drops = (0..raws.len())
                .filter(|&j| exp.preprocess.rule_for(&source.features[j].name).impute == Impute::Drop)
                .collect();
        }
        let keep = self.keep_rows(&target, &raws, &source.drops);
        if exp.dataset.task != Some(Task::Classification) {
            if let Some(batch) = numbers_batch(source, &target, &raws, &keep, first) {
                source.keep(i, &Arc::new(batch));
            }
        }
        self.target(exp, target, &keep, first)?;
        for (j, raw) in raws.into_iter().enumerate() {
            self.feature(&path, j, &source.features[j].name, raw, &keep, first)?;
        }
        let kept: Vec<usize> = (0..keep.len()).filter(|&r| keep[r]).collect();
        match split {
            Some(name) => {
                let col = take(name)?;
                read_split_column(&path, name, &col, &cfg.missing, &kept, false, first).map(Some)
            }
            None => Ok(None),
        }
    }

    fn keep_rows(&mut self, target: &RawColumn, raws: &[RawColumn], drops: &[usize]) -> Vec<bool> {
        let mut keep = target.present();
        self.rows_total += keep.len();
        self.dropped_target += keep.iter().filter(|k| !**k).count();
        let before = keep.iter().filter(|k| **k).count();
        for &j in drops {
            for (k, p) in keep.iter_mut().zip(raws[j].present()) {
                *k &= p;
            }
        }
        self.dropped_missing += before - keep.iter().filter(|k| **k).count();
        keep
    }

    fn target(&mut self, exp: &Experiment, raw: RawColumn, keep: &[bool], first: usize) -> Result<(), DataError> {
        let classification = self.target_text == Some(true) || exp.dataset.task == Some(Task::Classification);
        if let RawColumn::Numeric { values, integer } = &raw {
            self.target_integer &= *integer;
            if self.fractional.is_none() {
                self.fractional = values.iter().copied().find(|x| !x.is_nan() && x.fract() != 0.0);
            }
            if !classification {
                self.target_sum += values.iter().zip(keep).filter(|(_, k)| **k).map(|(v, _)| v).sum::<f64>();
            }
        }
        if self.target_text == Some(false) && matches!(raw, RawColumn::Text(_)) && !classification {
            let RawColumn::Text(values) = &raw else { return Ok(()) };
            return Err(changed_type(&exp.dataset.path, &exp.dataset.target, values, first));
        }
        if classification {
            for (label, _) in raw.labels().into_iter().zip(keep).filter(|(_, k)| **k) {
                let label = label.unwrap_or_default();
                self.text_example.get_or_insert_with(|| label.clone());
                let next = self.class_codes.len() as u32;
                self.labels.push(*self.class_codes.entry(label).or_insert(next));
            }
        }
        self.kept += keep.iter().filter(|k| **k).count();
        Ok(())
    }

    fn feature(
        &mut self,
        path: &Path,
        j: usize,
        name: &str,
        raw: RawColumn,
        keep: &[bool],
        first: usize,
    ) -> Result<(), DataError> {
        let t = &mut self.features[j];
        let gaps = raw.present();
        t.present_all += gaps.iter().filter(|p| **p).count();
        for (r, (&p, &k)) in gaps.iter().zip(keep).enumerate() {
            if k && !p {
                t.gaps += 1;
                t.first_gap.get_or_insert(first + r);
            }
        }
        match raw {
            RawColumn::Numeric { values, .. } if !t.text => {
                for (v, _) in values.iter().zip(keep).filter(|(v, k)| **k && !v.is_nan()) {
                    t.sum += v;
                    t.count += 1;
                }
            }
            RawColumn::Numeric { values, .. } => {
                t.levels.extend(values.iter().filter(|v| !v.is_nan()).map(|v| format_number(*v)));
            }
            RawColumn::Text(values) if t.text => t.levels.extend(values.into_iter().flatten()),
            RawColumn::Text(values) => return Err(changed_type(path, name, &values, first)),
        }
        Ok(())
    }
}

impl ScanTally {
    /// The task, the classes and the checks `load` makes once every row is read.
    fn finish(
        self,
        exp: &Experiment,
        mut source: StreamSource,
        split: Option<SplitColumn>,
        sha256: String,
    ) -> Result<Scanned, DataError> {
        let cfg = &exp.dataset;
        let target = cfg.target.clone();
        let values = match self.target_text {
            None => TargetValues::Empty,
            Some(true) => TargetValues::Text { example: self.text_example.clone().unwrap_or_default() },
            Some(false) => TargetValues::Numbers { integer: self.target_integer, fractional: self.fractional },
        };
        let task = decide_task(exp, values)?;
        let columns: Vec<ColumnCount<'_>> = source
            .features
            .iter()
            .zip(&self.features)
            .map(|(f, t)| ColumnCount { name: &f.name, present: t.present_all, first_gap: t.first_gap })
            .collect();
        check_rows(exp, self.rows_total, self.dropped_target, self.kept, &columns)?;
        let (classes, labels, class_counts) = match task {
            Task::Regression => (Vec::new(), None, Vec::new()),
            Task::Classification => {
                let (classes, labels, counts) = self.classes(&target)?;
                source.classes = Some(classes.iter().enumerate().map(|(c, name)| (name.clone(), c)).collect());
                (classes, Some(labels), counts)
            }
        };
        let mut columns = Vec::with_capacity(self.features.len());
        let mut feature_means = Vec::with_capacity(self.features.len());
        for (schema, t) in source.features.iter_mut().zip(&self.features) {
            feature_means.push(if t.count > 0 { t.sum / t.count as f64 } else { 0.0 });
            let categories = (t.text || cfg.categorical.contains(&schema.name)).then(|| {
                let categories = sorted_categories(t.levels.iter());
                schema.categories = Some(categories.iter().enumerate().map(|(c, l)| (l.clone(), c as u32)).collect());
                categories
            });
            columns.push(ColumnSchema { name: schema.name.clone(), categories });
        }
        if task != Task::Regression || columns.iter().any(|c| c.categories.is_some()) {
            // The scan kept batches of numbers, but a pass encodes classes or categories.
            source.forget_kept();
        }
        let dataset = Dataset {
            sha256,
            rows_total: self.rows_total,
            rows_dropped_target: self.dropped_target,
            rows_dropped_missing: self.dropped_missing,
            target_name: target,
            split_column: split,
            missing_counts: self.features.iter().map(|t| t.gaps).collect(),
            storage: Storage::Streamed(Streamed { rows: self.kept, columns, task, classes, class_counts }),
            cache: super::CacheUse::Off,
        };
        let target_mean = if self.kept > 0 { self.target_sum / self.kept as f64 } else { 0.0 };
        Ok(Scanned { dataset, source, labels, feature_means, target_mean })
    }

    /// The sorted classes, each kept row's index into them, and each class's rows.
    fn classes(&self, target: &str) -> Result<ClassIndex, DataError> {
        let classes = sorted_categories(self.class_codes.keys());
        check_classes(target, &classes)?;
        let mut sorted_index = vec![0u32; classes.len()];
        for (label, &code) in &self.class_codes {
            sorted_index[code as usize] = classes.iter().position(|c| c == label).unwrap_or(0) as u32;
        }
        let labels: Vec<u32> = self.labels.iter().map(|&c| sorted_index[c as usize]).collect();
        let mut counts = vec![0usize; classes.len()];
        for &l in &labels {
            counts[l as usize] += 1;
        }
        Ok((classes, labels, counts))
    }
}

/// The sorted classes, each kept row's index into them, and each class's rows.
type ClassIndex = (Vec<String>, Vec<u32>, Vec<usize>);

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    fn source(dir: &std::path::Path, keep_budget: u64) -> super::StreamSource {
        let mut source = scanned(dir, "", 0);
        source.keep_budget = keep_budget;
        source
    }

    /// The source of a 10-row file, scanned keeping `budget` bytes.
    fn scanned(dir: &std::path::Path, dataset: &str, budget: u64) -> super::StreamSource {
        let rows: String = (0..10).map(|i| format!("{i},{}.5\n", i * 2)).collect();
        std::fs::write(dir.join("d.csv"), format!("x,y\n{rows}")).unwrap();
        let text = format!(
            "name = \"t\"\n[dataset]\npath = \"{}\"\ntarget = \"y\"\n{dataset}[[model]]\nname = \"m\"\nkind = \"ridge\"\n",
            dir.join("d.csv").display()
        );
        let file = dir.join("e.toml");
        let exp = crate::config::parse_experiment(&file, &text, &[], crate::kinds::CATALOG).unwrap();
        super::scan(&exp, 3, budget, None).unwrap().source
    }

    #[test]
    fn the_scan_keeps_a_regression_on_numbers_as_a_pass_reads_it_within_its_budget() {
        let dir = tempfile::tempdir().unwrap();
        let all = [0, 1, 2, 3];
        let s = scanned(dir.path(), "", u64::MAX);
        let kept = s.all_kept(&all).expect("every batch kept by the scan");
        for (i, batch) in kept.iter().enumerate() {
            let read = s.batch(i).unwrap();
            assert_eq!(batch.file_rows, read.file_rows);
            assert_eq!(
                format!("{:?}{:?}", batch.features, batch.target),
                format!("{:?}{:?}", read.features, read.target)
            );
        }
        // A budget of one batch keeps the first; categories are encoded by a pass, not the scan.
        assert!(scanned(dir.path(), "", 3 * 4 * 8).all_kept(&[0]).is_some());
        assert!(scanned(dir.path(), "", 3 * 4 * 8).all_kept(&[1]).is_none());
        let categories = scanned(dir.path(), "categorical = [\"x\"]\n", u64::MAX);
        assert!(categories.all_kept(&[0]).is_none());
        // A fit's own copies take from the same budget and give it back.
        let tight = scanned(dir.path(), "", 100);
        assert!(tight.reserve(100 - tight.kept_bytes.load(std::sync::atomic::Ordering::Relaxed)));
        assert!(!tight.reserve(1));
        tight.release(8);
        assert!(tight.reserve(8));
    }

    fn rows_of_a_pass(s: &super::StreamSource, order: &[usize]) -> Vec<usize> {
        let mut rows = Vec::new();
        s.pass(order, &AtomicBool::new(false), |_, b| rows.extend(&b.file_rows)).unwrap();
        rows
    }

    #[test]
    fn batches_read_once_are_kept_within_the_budget_and_read_again_from_memory() {
        let dir = tempfile::tempdir().unwrap();
        let s = source(dir.path(), u64::MAX);
        let order = [2, 0, 3, 1];
        assert!(s.all_kept(&order).is_none());
        let first = rows_of_a_pass(&s, &order);
        assert!(s.all_kept(&order).is_some(), "every batch is kept after one pass");
        assert_eq!(rows_of_a_pass(&s, &order), first);
        assert_eq!(first, [6, 7, 8, 0, 1, 2, 9, 3, 4, 5]);
    }

    #[test]
    fn nothing_is_kept_without_a_budget_and_a_changed_file_still_fails_a_kept_pass() {
        let dir = tempfile::tempdir().unwrap();
        let s = source(dir.path(), 0);
        rows_of_a_pass(&s, &[0, 1]);
        assert!(s.all_kept(&[0]).is_none());
        let kept = source(dir.path(), u64::MAX);
        rows_of_a_pass(&kept, &[0, 1, 2, 3]);
        std::fs::write(dir.path().join("d.csv"), "x,y\n1,2\n").unwrap();
        let err = kept.pass(&[0, 1, 2, 3], &AtomicBool::new(false), |_, _| {}).unwrap_err();
        assert!(err.contains("changed while it was being streamed"), "{err}");
    }
}
