//! The CSV shape check, in the same raw pass as the file's sha256: a sound header and the
//! same field count in every record, before polars parses a byte of it.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the file holds nothing but white space (read in small pieces).
pub(super) fn is_blank(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = [0u8; 8192];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(true);
        }
        if !buf[..n].iter().all(u8::is_ascii_whitespace) {
            return Ok(false);
        }
    }
}

/// What one raw pass over a file finds.
pub(super) struct FileScan {
    pub(super) sha256: String,
    pub(super) problem: Option<String>,
    /// A CSV's byte offsets of its first data record and of every `every`-th one after it.
    pub(super) record_starts: Vec<u64>,
}

fn is_csv(path: &Path) -> bool {
    !matches!(
        path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
        Some("parquet" | "ndjson" | "jsonl")
    )
}

/// The file's sha256 and, for a CSV, the first problem with its shape: a header that is not
/// UTF-8 or names a column twice, or a row with more or fewer fields than the header (which
/// polars would pad or refuse without naming the row). One pass, quote-aware; it also marks
/// where every `every`-th CSV record starts (streaming's batches).
pub(super) fn scan_file_marking(path: &Path, every: Option<usize>) -> std::io::Result<FileScan> {
    let pass = raw_pass(path, true, is_csv(path), every, &AtomicBool::new(false))?;
    let sha256 = pass.sha256.expect("a pass that is never stopped hashes the whole file");
    Ok(FileScan { sha256, problem: pass.problem, record_starts: pass.record_starts })
}

/// The CSV shape check alone (nothing for another format): the loader hashes on another
/// thread ([`sha256_file`]) while polars parses a file this check passed.
pub(super) fn check_shape(path: &Path) -> std::io::Result<Option<String>> {
    if !is_csv(path) {
        return Ok(None);
    }
    Ok(raw_pass(path, false, true, None, &AtomicBool::new(false))?.problem)
}

/// The file's sha256; `None` when `stop` is raised before the end (the load failed anyway).
pub(super) fn sha256_file(path: &Path, stop: &AtomicBool) -> std::io::Result<Option<String>> {
    Ok(raw_pass(path, true, false, None, stop)?.sha256)
}

/// What [`raw_pass`] finds: the sha256 is `None` when it did not hash or was stopped.
struct Pass {
    sha256: Option<String>,
    problem: Option<String>,
    record_starts: Vec<u64>,
}

/// One read of the file from start to end: the sha256 if `hash`, the CSV shape if `shape`.
fn raw_pass(path: &Path, hash: bool, shape: bool, every: Option<usize>, stop: &AtomicBool) -> std::io::Result<Pass> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut hasher = hash.then(Sha256::new);
    let mut csv = CsvShape { mark_every: every, ..CsvShape::default() };
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(Pass { sha256: None, problem: None, record_starts: Vec::new() });
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&buf[..n]);
        }
        if shape && csv.problem.is_none() {
            csv.feed(&buf[..n]);
        } else if hasher.is_none() {
            break;
        }
    }
    if shape && csv.problem.is_none() {
        if csv.in_quotes {
            csv.problem = Some(format!("a quote opened in row {} is never closed", csv.record + 1));
        } else {
            csv.end_record();
        }
    }
    let sha256 = hasher.map(|h| format!("{:x}", h.finalize()));
    Ok(Pass { sha256, problem: csv.problem, record_starts: csv.starts })
}

/// Field counts of CSV records, fed in pieces.
#[derive(Default)]
struct CsvShape {
    in_quotes: bool,
    /// A quote just closed quoting: another one right after is an escaped quote.
    just_closed: bool,
    field_bytes: usize,
    fields: usize,
    record_bytes: usize,
    header: Vec<u8>,
    expected: Option<usize>,
    record: usize,
    problem: Option<String>,
    /// Bytes fed so far.
    pos: u64,
    mark_every: Option<usize>,
    starts: Vec<u64>,
}

impl CsvShape {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.problem.is_none() {
            bytes = self.feed_plain_lines(bytes);
            // Byte by byte up to the next line end: the header, a line with quotes, a line
            // the read buffer cut.
            let end = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |e| e + 1);
            self.feed_bytes(&bytes[..end]);
            bytes = &bytes[end..];
        }
    }

    /// The fast path, for whole lines without a quote once the header is known: a line's
    /// field count is its commas + 1, found by vectorised scans instead of the byte-by-byte
    /// state machine (which gives the same counts). Returns the bytes it did not take.
    fn feed_plain_lines<'b>(&mut self, mut bytes: &'b [u8]) -> &'b [u8] {
        let at_line_start = |s: &Self| s.fields == 0 && s.field_bytes == 0 && s.record_bytes == 0;
        while self.expected.is_some() && !self.in_quotes && !self.just_closed && at_line_start(self) {
            let Some(end) = memchr::memchr(b'\n', bytes) else { break };
            let line = &bytes[..end];
            if memchr::memchr(b'"', line).is_some() {
                break;
            }
            self.fields += memchr::memchr_iter(b',', line).count();
            self.record_bytes += line.len() - memchr::memchr_iter(b'\r', line).count();
            self.pos += end as u64 + 1;
            self.end_record();
            bytes = &bytes[end + 1..];
            if self.problem.is_some() {
                return &[];
            }
        }
        bytes
    }

    fn feed_bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.pos += 1;
            match b {
                // As polars reads it: a quote opens quoting only at a field's start; inside
                // quotes a quote closes it, and `""` reopens it at once (an escaped quote).
                b'"' if self.in_quotes => {
                    self.in_quotes = false;
                    self.just_closed = true;
                }
                b'"' if self.field_bytes == 0 || self.just_closed => {
                    self.in_quotes = true;
                    self.just_closed = false;
                }
                b',' if !self.in_quotes => {
                    self.fields += 1;
                    self.field_bytes = 0;
                    self.just_closed = false;
                    self.keep(b);
                    continue;
                }
                b'\n' if !self.in_quotes => {
                    self.end_record();
                    if self.problem.is_some() {
                        return;
                    }
                    continue;
                }
                // RFC 4180: after a closing quote comes a comma, a line end or `""`. polars 0.55
                // reads out of bounds on text there (found by fuzzing), so it is refused.
                _ if self.just_closed && b != b'\r' => {
                    self.problem =
                        Some(format!("row {} has text after a closing quote; quote the whole field", self.record + 1));
                    return;
                }
                _ => {}
            }
            self.field_bytes += 1;
            self.keep(b);
        }
    }

    /// Counts a byte of the record (and keeps the header's bytes).
    fn keep(&mut self, b: u8) {
        if b != b'\r' {
            self.record_bytes += 1;
        }
        if self.expected.is_none() {
            self.header.push(b);
        }
    }

    fn end_record(&mut self) {
        let fields = self.fields + 1;
        let blank = self.record_bytes == 0;
        self.fields = 0;
        self.record_bytes = 0;
        self.field_bytes = 0;
        self.just_closed = false;
        if blank {
            return;
        }
        match self.expected {
            None => {
                self.expected = Some(fields);
                self.problem = header_problem(&self.header);
                if self.mark_every.is_some() {
                    self.starts.push(self.pos);
                }
            }
            Some(want) if want != fields => {
                let row = self.record + 1;
                self.problem = Some(format!(
                    "row {row} (line {} of the file) has {fields} field(s), but the header has {want}",
                    row + 1
                ));
            }
            Some(_) => {
                self.record += 1;
                if self.mark_every.is_some_and(|every| self.record.is_multiple_of(every)) {
                    self.starts.push(self.pos);
                }
            }
        }
    }
}

/// A header that is not UTF-8, or that names a column twice (polars would rename one).
fn header_problem(header: &[u8]) -> Option<String> {
    let Ok(text) = std::str::from_utf8(header) else {
        return Some("the header is not valid UTF-8; save the file as UTF-8".into());
    };
    let names: Vec<&str> = text.trim_end_matches('\r').split(',').map(|n| n.trim().trim_matches('"')).collect();
    for (j, name) in names.iter().enumerate() {
        if let Some(first) = names[..j].iter().position(|n| n == name) {
            return Some(format!(
                "the header names column `{name}` twice (columns {} and {}); rename one",
                first + 1,
                j + 1
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::CsvShape;

    /// The verdict of the shape check: the problem, if any, and the records counted.
    fn verdict(shape: CsvShape) -> (Option<String>, usize, bool) {
        (shape.problem, shape.record, shape.in_quotes)
    }

    #[test]
    fn the_fast_path_gives_the_byte_by_byte_verdict_at_every_buffer_split() {
        let files = [
            "a,b,c\n1,2,3\n4,5,6\n",
            "a,b\r\n1,2\r\n3,4\r\n",
            "a,b\n1,2\n3\n4,5\n",
            "a,b\n\"x,y\",2\n\"p\"\"q\",3\n",
            "a,b\n\"multi\nline\",2\n5,6\n",
            "a,b\n\"x\"y,2\n",
            "a,a\n1,2\n",
            "a,b\n1,2,3\n",
            "a,b\n\n1,2\n\n",
            "a,b\n\"open,2\n",
        ];
        for text in files {
            let bytes = text.as_bytes();
            let mut reference = CsvShape::default();
            reference.feed_bytes(bytes);
            let want = verdict(reference);
            for split in 1..=bytes.len() {
                let mut shape = CsvShape::default();
                for chunk in bytes.chunks(split) {
                    if shape.problem.is_none() {
                        shape.feed(chunk);
                    }
                }
                assert_eq!(verdict(shape), want, "{text:?} in pieces of {split}");
            }
        }
    }
}
