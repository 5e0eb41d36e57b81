//! The parsed-data cache as the commands configure it (`--cache-dir`, `--no-cache`,
//! `RUNNER_CACHE_SIZE`), and `runner cache clear`.

use super::{EXIT_OK, EXIT_USAGE};
use runner::cli::{parse_size, CacheArgs, CacheCommand};
use runner::data::cache::{self, DataCache, DEFAULT_LIMIT};
use std::path::PathBuf;

/// The cache `run` and `check` read a loaded file through: `--cache-dir`, else the default
/// folder; none with `--no-cache` or when there is no folder to use.
pub(super) fn data_cache(args: &CacheArgs) -> Result<Option<DataCache>, String> {
    let limit = match std::env::var("RUNNER_CACHE_SIZE") {
        Ok(text) => parse_size(&text).map_err(|e| format!("RUNNER_CACHE_SIZE: {e}"))?,
        Err(_) => DEFAULT_LIMIT,
    };
    let dir = if args.no_cache { None } else { args.cache_dir.clone().or_else(default_dir) };
    Ok(dir.map(|dir| DataCache { dir, limit, build: build() }))
}

/// `$XDG_CACHE_HOME/runner`, else `~/.cache/runner` (the XDG base directory rules: a
/// relative or empty `XDG_CACHE_HOME` is ignored).
fn default_dir() -> Option<PathBuf> {
    let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let base = absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|home| home.join(".cache")))?;
    Some(base.join("runner"))
}

/// This binary's identity for the cache's key: its version, and its executable's size and
/// modification time, so that a rebuilt binary never reads what another build parsed.
fn build() -> String {
    let exe = std::env::current_exe().and_then(std::fs::metadata).ok();
    let stamp = exe.map(|m| {
        let modified = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        format!("{} bytes, modified {} ns", m.len(), modified.map_or(0, |d| d.as_nanos()))
    });
    format!("runner {} ({})", env!("CARGO_PKG_VERSION"), stamp.unwrap_or_default())
}

/// `runner cache clear`.
pub fn cache(command: &CacheCommand) -> u8 {
    let CacheCommand::Clear { cache_dir } = command;
    let Some(dir) = cache_dir.clone().or_else(default_dir) else {
        eprintln!("error: no cache folder: neither XDG_CACHE_HOME nor HOME is set; give --cache-dir");
        return EXIT_USAGE;
    };
    match cache::clear(&dir) {
        Ok((files, bytes)) => {
            println!("removed {files} file(s), {:.1} MiB, from {}", bytes as f64 / f64::from(1 << 20), dir.display());
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot clear the cache {}: {e}", dir.display());
            EXIT_USAGE
        }
    }
}
