//! The parsed-data cache: what invalidates an entry, that a hit changes nothing but `run`,
//! eviction, `runner cache clear`. Most tests plan through the library with their own cache
//! folder; the byte-identical reports and `cache clear` go through the binary.

use crate::common::*;
use runner::data::cache::{DataCache, DEFAULT_LIMIT};
use runner::data::CacheUse;
use runner::plan::{prepare_with, DataMode};
use std::path::{Path, PathBuf};
use std::time::Duration;

const EXPERIMENT: &str =
    "name = \"cached\"\n\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntask = \"regression\"\n\n\
                          [split]\nmethod = \"kfold\"\nfolds = 2\n\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n";

/// A data file of `rows` rows whose values depend on `salt`; the same length for any salt
/// of one digit.
fn data(rows: usize, salt: u8) -> String {
    let mut text = String::from("x,c,y\n");
    for i in 0..rows {
        let level = ["a", "b", "c"][i % 3];
        text.push_str(&format!("{}.{salt},{level},{}.{salt}\n", i % 7, (i * 3) % 11));
    }
    text
}

/// A cache is written only for a file that changed more than a clock tick before it was
/// read (the racy-clean rule): wait that long after writing the data.
fn settle() {
    std::thread::sleep(Duration::from_millis(150));
}

struct Setup {
    dir: tempfile::TempDir,
    cache: DataCache,
}

impl Setup {
    fn new(data_text: &str) -> Setup {
        let dir = scratch(&[("exp.toml", EXPERIMENT), ("data.csv", data_text)]);
        let cache = DataCache { dir: dir.path().join("cache"), limit: DEFAULT_LIMIT, build: "test build 1".into() };
        settle();
        Setup { dir, cache }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data.csv")
    }

    /// Plans the experiment through `cache`: where its data came from, and its sha256.
    fn load_with(&self, cache: &DataCache) -> (CacheUse, String) {
        let mode = DataMode { cache: Some(cache.clone()), ..DataMode::default() };
        let plan = prepare_with(&self.dir.path().join("exp.toml"), &[], mode).unwrap_or_else(|e| panic!("{e}"));
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
        // A miss writes its entry on its own thread: done, and without a warning, once finished.
        assert_eq!(plan.cache_write.as_ref().and_then(|w| w.finish()), None);
        (plan.dataset.cache, plan.dataset.sha256.clone())
    }

    fn load(&self) -> (CacheUse, String) {
        self.load_with(&self.cache)
    }

    fn entries(&self) -> Vec<PathBuf> {
        entries(&self.cache.dir)
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut all: Vec<PathBuf> = listing.map(|e| e.unwrap().path()).collect();
    all.sort();
    all
}

fn sha256_of(text: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[test]
fn a_rerun_of_the_same_file_is_a_hit_and_a_new_version_of_it_a_miss() {
    let first = data(60, 1);
    let s = Setup::new(&first);
    assert_eq!(s.load(), (CacheUse::Miss, sha256_of(&first)));
    assert_eq!(s.entries().len(), 1);
    // The hit gives the sha256 it stored, without hashing.
    assert_eq!(s.load(), (CacheUse::Hit, sha256_of(&first)));

    // Same size, other bytes.
    let second = data(60, 2);
    assert_eq!(first.len(), second.len());
    std::fs::write(s.data(), &second).unwrap();
    settle();
    assert_eq!(s.load(), (CacheUse::Miss, sha256_of(&second)));
    assert_eq!(s.load(), (CacheUse::Hit, sha256_of(&second)));

    // The same bytes, touched.
    let file = std::fs::File::options().write(true).open(s.data()).unwrap();
    file.set_modified(std::time::SystemTime::now() - Duration::from_secs(3600)).unwrap();
    settle();
    assert_eq!(s.load().0, CacheUse::Miss);
    assert_eq!(s.load().0, CacheUse::Hit);

    // Another file renamed over it (another inode; same size and times are possible).
    let third = data(60, 3);
    std::fs::write(s.dir.path().join("next.csv"), &third).unwrap();
    std::fs::rename(s.dir.path().join("next.csv"), s.data()).unwrap();
    settle();
    assert_eq!(s.load(), (CacheUse::Miss, sha256_of(&third)));
}

#[test]
fn a_cache_that_cannot_be_written_is_a_warning_once_its_writer_finishes() {
    let s = Setup::new(&data(30, 1));
    // A file where the cache folder should be: the entry cannot be written.
    std::fs::write(s.dir.path().join("blocked"), "not a folder").unwrap();
    let cache = DataCache { dir: s.dir.path().join("blocked"), ..s.cache.clone() };
    let mode = DataMode { cache: Some(cache), ..DataMode::default() };
    let plan = prepare_with(&s.dir.path().join("exp.toml"), &[], mode).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.dataset.cache, CacheUse::Miss);
    let warning = plan.cache_write.as_ref().and_then(|w| w.finish()).expect("a warning");
    assert!(warning.contains("the run goes on without it"), "{warning}");
    // Finished once: nothing more to wait for or say.
    assert_eq!(plan.cache_write.as_ref().and_then(|w| w.finish()), None);
}

#[test]
fn a_file_changed_just_before_it_is_read_is_not_cached() {
    let s = Setup::new(&data(30, 1));
    std::fs::write(s.data(), data(30, 2)).unwrap();
    // Within the clock tick margin: a second edit could keep its stamp.
    assert_eq!(s.load().0, CacheUse::Miss);
    assert!(s.entries().is_empty(), "{:?}", s.entries());
}

#[test]
fn a_truncated_or_corrupted_entry_is_a_miss_and_is_written_again() {
    let text = data(200, 1);
    let s = Setup::new(&text);
    assert_eq!(s.load().0, CacheUse::Miss);
    let entry = s.entries().pop().unwrap();
    let whole = std::fs::read(&entry).unwrap();
    for damaged in [whole[..whole.len() / 2].to_vec(), whole[..whole.len() - 1].to_vec(), Vec::new(), {
        let mut flipped = whole.clone();
        flipped[whole.len() / 3] ^= 1;
        flipped
    }] {
        std::fs::write(&entry, damaged).unwrap();
        assert_eq!(s.load(), (CacheUse::Miss, sha256_of(&text)));
        assert_eq!(std::fs::read(&entry).unwrap(), whole, "the miss writes the entry again");
        assert_eq!(s.load().0, CacheUse::Hit);
    }
}

#[test]
fn another_runner_build_or_other_read_options_never_read_an_entry() {
    let s = Setup::new(&data(30, 1));
    assert_eq!(s.load().0, CacheUse::Miss);
    let other = DataCache { build: "test build 2".into(), ..s.cache.clone() };
    assert_eq!(s.load_with(&other).0, CacheUse::Miss);
    assert_eq!(s.load_with(&other).0, CacheUse::Hit);
    assert_eq!(s.load().0, CacheUse::Hit);
    // Missing-value tokens change the parsed columns: another key.
    let exp = s.dir.path().join("exp.toml");
    std::fs::write(&exp, EXPERIMENT.replace("task =", "missing = [\"zzz\"]\ntask =")).unwrap();
    assert_eq!(s.load().0, CacheUse::Miss);
    assert_eq!(s.load().0, CacheUse::Hit);
}

#[test]
fn concurrent_writers_leave_one_whole_entry() {
    let text = data(2000, 1);
    let s = Setup::new(&text);
    let loads: Vec<(CacheUse, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6).map(|_| scope.spawn(|| s.load())).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Each load either parsed or read a whole entry: the same sha256 either way.
    assert!(loads.iter().all(|l| l.1 == sha256_of(&text)), "{loads:?}");
    assert_eq!(s.entries().len(), 1, "no temporary file is left: {:?}", s.entries());
    assert_eq!(s.load().0, CacheUse::Hit);
    // A writer that died mid-write leaves a temporary file, which is never read as an entry.
    let entry = s.entries().pop().unwrap();
    let name = entry.file_name().unwrap().to_str().unwrap().to_string();
    std::fs::write(s.cache.dir.join(format!(".tmp-{name}-1-0-0")), b"half").unwrap();
    std::fs::remove_file(&entry).unwrap();
    assert_eq!(s.load().0, CacheUse::Miss);
    assert_eq!(s.load().0, CacheUse::Hit);
}

#[test]
fn the_least_recently_used_entry_goes_first() {
    let s = Setup::new(&data(500, 1));
    for (name, salt) in [("b.csv", 2), ("c.csv", 3)] {
        std::fs::write(s.dir.path().join(name), data(500, salt)).unwrap();
    }
    settle();
    let on = |name: &str| {
        std::fs::write(s.dir.path().join("exp.toml"), EXPERIMENT.replace("data.csv", name)).unwrap();
        s.load().0
    };
    assert_eq!(on("data.csv"), CacheUse::Miss);
    let one = std::fs::metadata(s.entries()[0].clone()).unwrap().len();
    // Room for two entries.
    let cache = DataCache { limit: one * 2 + one / 2, ..s.cache.clone() };
    let on = |name: &str| {
        std::fs::write(s.dir.path().join("exp.toml"), EXPERIMENT.replace("data.csv", name)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        s.load_with(&cache).0
    };
    assert_eq!(on("b.csv"), CacheUse::Miss);
    // A hit makes data.csv's entry the most recent: b.csv's is the oldest when c.csv's comes.
    assert_eq!(on("data.csv"), CacheUse::Hit);
    assert_eq!(on("c.csv"), CacheUse::Miss);
    assert_eq!(s.entries().len(), 2);
    assert_eq!(on("data.csv"), CacheUse::Hit);
    assert_eq!(on("c.csv"), CacheUse::Hit);
    assert_eq!(on("b.csv"), CacheUse::Miss);
}

/// Runs the experiment through the binary with `args`; the report folder.
fn run(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    run_ok(&dir.join("exp.toml"), dir, name, args)
}

fn data_cache(out: &Path) -> String {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    report["run"]["data_cache"].as_str().unwrap().to_string()
}

#[test]
fn a_hit_and_a_miss_write_the_same_reports_and_cache_clear_empties_the_cache() {
    let experiment = EXPERIMENT.replace("kind = \"ridge\"", "kind = \"ridge\"\ngrid.alpha = [0.1, 10]");
    let s = Setup::new(&data(300, 1));
    std::fs::write(s.dir.path().join("exp.toml"), experiment).unwrap();
    let cache = s.cache.dir.to_str().unwrap();
    let off = run(s.dir.path(), "off", &["--no-cache"]);
    let miss = run(s.dir.path(), "miss", &["--cache-dir", cache]);
    let hit = run(s.dir.path(), "hit", &["--cache-dir", cache]);
    assert_eq!([data_cache(&off), data_cache(&miss), data_cache(&hit)], ["off", "miss", "hit"]);
    for out in [&miss, &hit] {
        assert_eq!(report_outside_run(out), report_outside_run(&off));
        for file in ["model.json", "predictions.csv"] {
            let read = |dir: &Path| std::fs::read(dir.join(file)).unwrap();
            assert!(read(out) == read(&off), "{file} differs in {}", out.display());
        }
    }
    // `check` reads through the cache too.
    let checked =
        runner().current_dir(s.dir.path()).args(["check", "exp.toml", "--cache-dir", cache]).output().unwrap();
    assert!(String::from_utf8_lossy(&checked.stdout).contains("from the parsed-data cache"));

    let mine = s.cache.dir.join("notes.txt");
    std::fs::write(&mine, "not runner's").unwrap();
    let cleared = runner().args(["cache", "clear", "--cache-dir", cache]).output().unwrap();
    assert!(cleared.status.success());
    assert!(String::from_utf8_lossy(&cleared.stdout).contains("removed 1 file(s)"), "{cleared:?}");
    assert_eq!(entries(&s.cache.dir), [mine], "only runner's files are removed");
    assert_eq!(data_cache(&run(s.dir.path(), "again", &["--cache-dir", cache])), "miss");
}
