//! Report I/O: atomic writes and the append-only trials.jsonl log.

use crate::sweep::UnitRecord;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Writes a file through a temporary sibling and a rename, so readers never see it torn.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("{}.tmp", path.extension().and_then(|e| e.to_str()).unwrap_or("")));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
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

impl TrialLog {
    /// Opens the log for `key`. With `resume`, the records of an earlier run with the same
    /// key are returned; a log with another key is an error unless `fresh` starts over.
    pub fn open(path: &Path, key: &str, fresh: bool) -> Result<(TrialLog, Vec<UnitRecord>), String> {
        let mut previous = Vec::new();
        let mut keep = false;
        if path.exists() && !fresh {
            let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut lines = BufReader::new(f).lines();
            let header: Option<Header> = lines.next().and_then(|l| l.ok()).and_then(|l| serde_json::from_str(&l).ok());
            match header {
                Some(h) if h.key == key => {
                    keep = true;
                    // A torn last line (a killed run) is skipped; that unit simply runs again.
                    previous.extend(lines.map_while(Result::ok).filter_map(|l| serde_json::from_str::<UnitRecord>(&l).ok()));
                }
                Some(_) => {
                    return Err(format!(
                        "{} holds results of a different experiment or dataset (the file, an override or the data changed); \
                         rerun with --fresh to discard them, or use another --out",
                        path.display()
                    ))
                }
                None => {}
            }
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let file = if keep { OpenOptions::new().append(true).open(path) } else { File::create(path) }
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let log = TrialLog { path: path.to_path_buf(), file: Mutex::new(file) };
        if !keep {
            let header = serde_json::to_string(&Header { key: key.to_string() }).unwrap_or_default();
            log.append_line(&header);
        } else {
            // Terminate a torn last line so the next record starts on its own line.
            log.append_line("");
        }
        Ok((log, previous))
    }

    fn append_line(&self, line: &str) {
        if let Ok(mut f) = self.file.lock() {
            let _ = writeln!(f, "{line}");
            let _ = f.flush();
        }
    }

    pub fn append(&self, record: &UnitRecord) {
        if let Ok(line) = serde_json::to_string(record) {
            self.append_line(&line);
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
