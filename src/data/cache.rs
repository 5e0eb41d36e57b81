//! The parsed-data cache: after a load, the frame polars parsed (the file's typed columns) is
//! kept in a columnar binary form (`frame_bytes`) under a cache folder, keyed by the file's
//! identity, so that a rerun on the same file skips both the parse and the hash.
//!
//! An entry is the frame's bytes followed by a trailer: the key and the file's sha256 as JSON
//! with the payload's length and an xxh3-128 checksum (of the payload, the key and the sha256),
//! the JSON's length and a magic. An entry whose key, length or checksum differ, or that does
//! not decode, is a miss and is written again. An entry is written to a temporary
//! file in the cache folder, synced and renamed over the old one, so a reader sees a whole entry
//! or none. The folder is bounded by size: the least recently used entries (a hit touches its
//! entry's modification time) are removed first.

use super::frame_bytes;
use super::stream::{stamp, Stamp};
use super::{CacheUse, DataError};
use polars::prelude::*;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The entries' format; part of every key, so a new format never reads an old entry.
const FORMAT: &str = "runner parsed-data cache 1";
const MAGIC: &[u8; 8] = b"RNRCACHE";
const EXTENSION: &str = ".rcache";
const TEMP_PREFIX: &str = ".tmp-";
/// The size bound when none is given: 2 GiB.
pub const DEFAULT_LIMIT: u64 = 2 << 30;
/// A temporary file this old is a writer's that died; the next eviction removes it.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Where the cache lives, how big it may grow and which build reads it.
#[derive(Debug, Clone)]
pub struct DataCache {
    pub dir: PathBuf,
    /// Bytes the folder's entries may take together.
    pub limit: u64,
    /// The binary's identity (its version, and the executable's size and time): an entry
    /// another build wrote is a miss.
    pub build: String,
}

/// The frame of a data file with its sha256, and where it came from.
pub(super) struct CachedFrame {
    pub(super) frame: DataFrame,
    pub(super) sha256: String,
    pub(super) cache: CacheUse,
    /// The entry a miss writes, on a thread of its own while the run goes on.
    pub(super) write: Option<PendingWrite>,
}

/// A cache entry being written on a thread of its own (its encoding, write and fsync off the
/// run's critical path): `finish` waits for it and says why it failed, if it did (a warning:
/// the run goes on without the cache). Dropping it waits too, so a run never exits before
/// its entry is whole (a reader would see none, never half of one, either way).
#[derive(Debug)]
pub struct PendingWrite(std::sync::Mutex<Option<Writer>>);

#[derive(Debug)]
enum Writer {
    Running(std::thread::JoinHandle<Option<String>>),
    /// Its thread could not be started: nothing was written.
    NotStarted(String),
}

impl PendingWrite {
    /// Waits for the write (once); why it failed, if it did.
    pub fn finish(&self) -> Option<String> {
        match self.0.lock().ok()?.take()? {
            Writer::Running(handle) => handle
                .join()
                .unwrap_or_else(|_| Some("the parsed-data cache's writer stopped; the run goes on without it".into())),
            Writer::NotStarted(message) => Some(message),
        }
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Trailer {
    key: String,
    sha256: String,
    payload_bytes: u64,
    xxh3: String,
}

/// What an entry is for: the format, the build, the file (canonical path, how its name says
/// to read it, its stamp) and the read options that change the parsed columns.
pub(super) struct Key {
    text: String,
}

impl Key {
    pub(super) fn new(cache: &DataCache, path: &Path, stamp: &Stamp, missing: &[String]) -> Key {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let read_as = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        let text = format!(
            "{FORMAT}\nbuild: {}\npath: {canonical:?}\nread as: {read_as:?}\nstamp: {}\nmissing: {missing:?}\n",
            cache.build,
            stamp.describe()
        );
        Key { text }
    }

    fn file_name(&self) -> String {
        let digest = format!("{:x}", Sha256::digest(self.text.as_bytes()));
        format!("{}{EXTENSION}", &digest[..32])
    }
}

/// The file's frame and sha256 from the cache when it holds this version of the file, else
/// `parse`d (and then cached, unless the file changed too recently to be told apart from a
/// later version by its stamp).
pub(super) fn read_through(
    cache: &DataCache,
    path: &Path,
    missing: &[String],
    parse: impl FnOnce() -> Result<(DataFrame, String), DataError>,
) -> Result<CachedFrame, DataError> {
    let started = SystemTime::now();
    let before = stamp(path);
    let key = before.as_ref().map(|s| Key::new(cache, path, s, missing));
    if let Some(hit) = key.as_ref().and_then(|k| lookup(cache, k)) {
        return Ok(hit);
    }
    let (frame, sha256) = parse()?;
    // The key names the version stamped before the parse: the parse must have read that one.
    let same = before.is_some() && stamp(path) == before;
    let write = match (key, before) {
        (Some(key), Some(before)) if same && settled(&before, started) => {
            Some(store_behind(cache, key, &frame, &sha256))
        }
        _ => None,
    };
    Ok(CachedFrame { frame, sha256, cache: CacheUse::Miss, write })
}

/// `store` on a thread of its own, with the frame's columns shared (not copied) until each
/// is written.
fn store_behind(cache: &DataCache, key: Key, frame: &DataFrame, sha256: &str) -> PendingWrite {
    let (cache, frame, sha256) = (cache.clone(), frame.clone(), sha256.to_string());
    let failed = |dir: &Path, e: &str| format!("parsed-data cache {}: {e}; the run goes on without it", dir.display());
    let dir = cache.dir.clone();
    let spawned = std::thread::Builder::new()
        .name("cache-write".into())
        .spawn(move || store(&cache, &key, frame, &sha256).err().map(|e| failed(&cache.dir, &e)));
    let writer = match spawned {
        Ok(handle) => Writer::Running(handle),
        Err(e) => Writer::NotStarted(failed(&dir, &format!("cannot start its writer: {e}"))),
    };
    PendingWrite(std::sync::Mutex::new(Some(writer)))
}

/// Whether the file last changed long enough before the read began that any later change
/// gets other times: file systems stamp times from a clock that ticks coarsely (a few
/// milliseconds; 2 s on FAT), so a file edited twice in one tick keeps its stamp. Such a
/// file is read but not cached, as git treats a "racily clean" entry.
fn settled(stamp: &Stamp, started: SystemTime) -> bool {
    let (Some((changed, coarse)), Ok(started)) = (stamp.last_change(), started.duration_since(UNIX_EPOCH)) else {
        return false;
    };
    let margin = if coarse { Duration::from_secs(2) } else { Duration::from_millis(100) };
    changed + margin <= started
}

/// The entry for `key`, whole and checked, as a frame; `None` (a miss) for anything else.
/// (Read whole rather than mapped: the checksum reads every byte anyway, and an entry
/// truncated by another program while mapped would stop the process.)
fn lookup(cache: &DataCache, key: &Key) -> Option<CachedFrame> {
    let entry = cache.dir.join(key.file_name());
    let bytes = std::fs::read(&entry).ok()?;
    let (payload, trailer) = split_entry(&bytes)?;
    if trailer.key != key.text || trailer.xxh3 != checksum(payload, &trailer.key, &trailer.sha256) {
        return None;
    }
    let frame = frame_bytes::decode(payload)?;
    // Least recently used goes first: a hit makes the entry the most recent.
    if let Ok(f) = std::fs::File::options().write(true).open(&entry) {
        let _ = f.set_modified(SystemTime::now());
    }
    Some(CachedFrame { frame, sha256: trailer.sha256, cache: CacheUse::Hit, write: None })
}

/// An entry's payload and trailer, if its magic and lengths hold together.
fn split_entry(bytes: &[u8]) -> Option<(&[u8], Trailer)> {
    let rest = bytes.strip_suffix(MAGIC)?;
    let at = rest.len().checked_sub(8)?;
    let json_len = usize::try_from(u64::from_le_bytes(rest[at..].try_into().ok()?)).ok()?;
    let json_at = at.checked_sub(json_len)?;
    let trailer: Trailer = serde_json::from_slice(&rest[json_at..at]).ok()?;
    (u64::try_from(json_at).ok()? == trailer.payload_bytes).then_some((&rest[..json_at], trailer))
}

fn checksum(payload: &[u8], key: &str, sha256: &str) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(payload);
    h.update(key.as_bytes());
    h.update(sha256.as_bytes());
    format!("{:032x}", h.digest128())
}

/// Writes the entry for `key` (a temporary file, synced, renamed over the entry), then
/// evicts the least recently used entries beyond the size bound.
fn store(cache: &DataCache, key: &Key, frame: DataFrame, sha256: &str) -> Result<(), String> {
    // An entry over the bound would be evicted at once.
    if frame.estimated_size() as u64 > cache.limit || !frame_bytes::encodable(&frame) {
        return Ok(());
    }
    let dir = &cache.dir;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create the folder: {e}"))?;
    let name = key.file_name();
    // Unique among processes (the id, and the time for a dead one's leftover) and among one
    // process's threads (the count).
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nth = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let temp = dir.join(format!("{TEMP_PREFIX}{name}-{}-{nth}-{nanos}", std::process::id()));
    let written = write_entry(&temp, key, frame, sha256)
        .and_then(|()| std::fs::rename(&temp, dir.join(&name)).map_err(|e| format!("cannot rename {name}: {e}")));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written?;
    // The rename itself is durable once the folder is synced (where a folder can be opened).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    evict(dir, cache.limit);
    Ok(())
}

/// A writer that counts and checksums what it passes on.
struct Checksummed<W> {
    inner: W,
    hasher: xxhash_rust::xxh3::Xxh3,
    bytes: u64,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The frame is gone once encoded: the sync that follows holds none of it.
fn write_entry(temp: &Path, key: &Key, frame: DataFrame, sha256: &str) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write {}: {e}", temp.display());
    let file = std::fs::File::options().write(true).create_new(true).open(temp).map_err(io)?;
    let inner = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut out = Checksummed { inner, hasher: xxhash_rust::xxh3::Xxh3::new(), bytes: 0 };
    frame_bytes::encode(frame, &mut out).map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    out.hasher.update(key.text.as_bytes());
    out.hasher.update(sha256.as_bytes());
    let xxh3 = format!("{:032x}", out.hasher.digest128());
    let trailer = Trailer { key: key.text.clone(), sha256: sha256.to_string(), payload_bytes: out.bytes, xxh3 };
    let json = serde_json::to_vec(&trailer).map_err(|e| e.to_string())?;
    let mut w = out.inner;
    w.write_all(&json).map_err(io)?;
    w.write_all(&(json.len() as u64).to_le_bytes()).map_err(io)?;
    w.write_all(MAGIC).map_err(io)?;
    let file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)
}

/// The files runner wrote in a cache folder: entries, and temporary files of writers.
enum Owned {
    Entry,
    Temp,
}

fn owned(name: &std::ffi::OsStr) -> Option<Owned> {
    let name = name.to_str()?;
    let stem = name.strip_suffix(EXTENSION);
    if stem.is_some_and(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Some(Owned::Entry);
    }
    (name.starts_with(TEMP_PREFIX) && name.contains(&format!("{EXTENSION}-"))).then_some(Owned::Temp)
}

/// Removes the least recently used entries until the rest fit in `limit` bytes, and the
/// temporary files of writers that died.
fn evict(dir: &Path, limit: u64) {
    let Ok(listing) = std::fs::read_dir(dir) else { return };
    let mut entries = Vec::new();
    for item in listing.flatten() {
        let Ok(meta) = item.metadata() else { continue };
        let modified = meta.modified().unwrap_or(UNIX_EPOCH);
        match owned(&item.file_name()) {
            Some(Owned::Entry) if meta.is_file() => entries.push((modified, meta.len(), item.path())),
            Some(Owned::Temp) if modified.elapsed().is_ok_and(|age| age > STALE_TEMP) => {
                let _ = std::fs::remove_file(item.path());
            }
            _ => {}
        }
    }
    entries.sort();
    let mut total: u64 = entries.iter().map(|e| e.1).sum();
    for (_, len, path) in entries {
        if total <= limit {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

/// `runner cache clear`: removes every entry and temporary file runner wrote in `dir`, and
/// nothing else. The number of files and bytes removed.
pub fn clear(dir: &Path) -> std::io::Result<(usize, u64)> {
    let listing = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        listing => listing?,
    };
    let (mut files, mut bytes) = (0, 0);
    for item in listing {
        let item = item?;
        let meta = item.metadata()?;
        if meta.is_file() && owned(&item.file_name()).is_some() {
            std::fs::remove_file(item.path())?;
            files += 1;
            bytes += meta.len();
        }
    }
    Ok((files, bytes))
}
