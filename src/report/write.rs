//! Report I/O: atomic writes and the append-only trials.jsonl log.

use crate::trial::UnitRecord;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Writes a file through a temporary sibling and a rename, so readers never see it torn.
/// The temporary file is removed when any step fails.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    let result = written.and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Removes `*.tmp` files a killed or failed write left in `dir` and `dir/plots`.
pub fn remove_temporaries(dir: &Path) {
    for d in [dir.to_path_buf(), dir.join("plots")] {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "tmp") && e.path().is_file() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// An exclusive advisory lock on an output folder, held while a run writes it. The kernel
/// drops it when the process dies, so a killed run never blocks the next one.
pub struct FolderLock {
    _file: File,
}

pub fn lock_folder(dir: &Path) -> Result<FolderLock, String> {
    let path = dir.join(".runner.lock");
    let mut file = open_lock_file(&path)?;
    match file.try_lock() {
        Ok(()) => {
            // The holder's pid, for the message another run prints: written in place at a
            // fixed width, so the file is never truncated.
            let _ = file.seek(SeekFrom::Start(0)).and_then(|_| writeln!(file, "{:<20}", std::process::id()));
            Ok(FolderLock { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            Err(format!(
                "{} is being written by another runner (pid {}); wait for it, or give this run another --out",
                dir.display(),
                holder.trim()
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// The lock file, opened without following a symbolic link (a link planted there must not
/// make a run write through it) and refused unless it is a regular file of its own.
fn open_lock_file(path: &Path) -> Result<File, String> {
    let shown = path.display();
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let not_regular = || format!("{shown} is not a regular file; remove it (runner keeps its folder lock there)");
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(not_regular());
    }
    let file = options.open(path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot open {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    #[cfg(unix)]
    if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
        return Err(format!("{shown} has other hard links; remove it (runner keeps its folder lock there)"));
    }
    Ok(file)
}

/// `trials.jsonl`: a header line with the run key, then one line per finished unit,
/// appended and flushed as each unit finishes.
pub struct TrialLog {
    path: PathBuf,
    file: Mutex<File>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    key: String,
}

/// What an existing log held: the records to reuse, and what was dropped from it.
pub struct Resumed {
    pub records: Vec<UnitRecord>,
    pub warnings: Vec<String>,
}

impl TrialLog {
    /// Opens the log for `key`. Records of an earlier run with the same key are returned
    /// when `owns` accepts them; a log with another key is an error unless `fresh` starts
    /// over. The log is rewritten with just the header and the kept records, so a torn last
    /// line (a killed run, even inside a UTF-8 character) or a foreign record never stays.
    pub fn open(
        path: &Path,
        key: &str,
        fresh: bool,
        owns: &dyn Fn(&UnitRecord) -> Result<(), String>,
    ) -> Result<(TrialLog, Resumed), String> {
        let mut resumed = Resumed { records: Vec::new(), warnings: Vec::new() };
        if path.exists() && !fresh {
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            // A log of a header alone (a run stopped before any unit: a streamed file that
            // changed) holds nothing to keep, whatever its key.
            let lines = bytes.split(|&b| b == b'\n').filter(|l| !l.trim_ascii().is_empty()).count();
            if lines > 1 {
                resumed = read_log(path, &bytes, key, owns)?;
            }
        }
        let header = serde_json::to_string(&Header { key: key.to_string() }).map_err(|e| e.to_string())?;
        let mut text = header + "\n";
        for r in &resumed.records {
            text += &serde_json::to_string(r).map_err(|e| e.to_string())?;
            text.push('\n');
        }
        write_atomic(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let file =
            OpenOptions::new().append(true).open(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok((TrialLog { path: path.to_path_buf(), file: Mutex::new(file) }, resumed))
    }

    /// Appends one record and flushes it; a failed write is the caller's error to report.
    pub fn append(&self, record: &UnitRecord) -> io::Result<()> {
        let line = serde_json::to_string(record).map_err(io::Error::other)?;
        let mut f = self.file.lock().map_err(|_| io::Error::other("the log's lock was poisoned"))?;
        f.write_all(format!("{line}\n").as_bytes())?;
        f.flush()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The records of a log with this key; each unusable line is dropped with a warning.
pub fn read_log(
    path: &Path,
    bytes: &[u8],
    key: &str,
    owns: &dyn Fn(&UnitRecord) -> Result<(), String>,
) -> Result<Resumed, String> {
    let mut resumed = Resumed { records: Vec::new(), warnings: Vec::new() };
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // After the last newline: empty, or a line torn by a kill.
    let torn = lines.pop().filter(|l| !l.is_empty());
    let header = lines.first().and_then(|l| serde_json::from_slice::<Header>(l).ok());
    match header {
        Some(h) if h.key == key => {}
        Some(_) => {
            return Err(format!(
                "{} holds results of a different experiment or dataset (the file, an override or the data changed); \
                 rerun with --fresh to discard them, or use another --out",
                path.display()
            ))
        }
        None => return Ok(resumed),
    }
    if torn.is_some() {
        resumed
            .warnings
            .push(format!("{}: dropped a torn last line (an interrupted write); that unit runs again", path.display()));
    }
    let mut seen = std::collections::HashSet::new();
    for (n, line) in lines.iter().enumerate().skip(1).filter(|(_, l)| !l.is_empty()) {
        let where_ = format!("{}:{}", path.display(), n + 1);
        match serde_json::from_slice::<UnitRecord>(line) {
            Err(_) => resumed.warnings.push(format!("{where_}: not a unit record; ignored")),
            Ok(r) => match owns(&r) {
                Err(why) => resumed.warnings.push(format!("{where_}: {why}; ignored, the unit runs again")),
                Ok(()) if !seen.insert((r.trial.clone(), r.fold)) => resumed.warnings.push(format!(
                    "{where_}: trial `{}` fold {} is recorded twice; the first is kept",
                    r.trial,
                    r.fold + 1
                )),
                Ok(()) => resumed.records.push(r),
            },
        }
    }
    Ok(resumed)
}
