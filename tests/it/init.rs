//! `runner init` on hostile headers and on the shapes of real tables: every file it writes
//! parses and passes `runner check`, or it refuses (exit 2) with the reason.

use crate::common::*;
use std::fmt::Write;
use std::path::Path;

/// `runner init DATA --target TARGET --out DIR/exp.toml`: the process output and the text written.
fn init(dir: &Path, data: &str, target: &str) -> (std::process::Output, Option<String>) {
    std::fs::write(dir.join("data.csv"), data).unwrap();
    let file = dir.join("exp.toml");
    let _ = std::fs::remove_file(&file);
    let out = runner().arg("init").arg(dir.join("data.csv")).args(["--target", target, "--out"]).arg(&file).output();
    (out.unwrap(), std::fs::read_to_string(&file).ok())
}

/// `init`, which must write a file that parses and passes `runner check`; its text.
fn init_checked(dir: &Path, data: &str, target: &str) -> String {
    let (out, text) = init(dir, data, target);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = text.unwrap();
    if let Err(e) = toml::from_str::<toml::Table>(&text) {
        panic!("not TOML: {e}\n{text}");
    }
    let check = runner().arg("check").arg(dir.join("exp.toml")).output().unwrap();
    assert!(check.status.success(), "{}\n{text}", String::from_utf8_lossy(&check.stderr));
    text
}

/// A CSV: the header cells (quoted as CSV requires) and `rows` rows made by `row(i)`.
fn csv(header: &[&str], rows: usize, row: impl Fn(usize) -> String) -> String {
    let cells: Vec<String> = header.iter().map(|h| format!("\"{}\"", h.replace('"', "\"\""))).collect();
    let mut s = cells.join(",") + "\n";
    for i in 0..rows {
        let _ = writeln!(s, "{}", row(i));
    }
    s
}

#[test]
fn hostile_and_non_ascii_headers_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let header =
        ["a\n[report]\nformats = []", "e\u{301}", "zero\u{200B}width", "tab\tbell\u{7}", "back\\slash", "<&>", "y"];
    // Text columns with gaps: each name is written as a key, in a list and in a comment.
    let cell = |i: usize, k: usize| if i == k { String::new() } else { ["a", "b", "c"][(i + k) % 3].to_string() };
    let data = csv(&header, 30, |i| {
        let cells: Vec<String> = (0..6).map(|k| cell(i, k)).collect();
        format!("{},{}", cells.join(","), i % 9 * 3)
    });
    let text = init_checked(dir.path(), &data, "y");
    let parsed: toml::Table = toml::from_str(&text).unwrap();
    assert!(!parsed.contains_key("report"), "a header injected a table:\n{text}");
    let columns = parsed["preprocess"]["columns"].as_table().unwrap();
    for name in &header[..6] {
        assert!(columns.contains_key(*name), "{name:?}: {text}");
    }
    assert!(text.contains("\"e\u{301}\"") && text.contains("zero\\u200Bwidth") && text.contains("bell\\u0007"));
    // A hostile target name and text column names reach the comments, escaped.
    let data = csv(&["n\u{1b}[31m", "t\ny = 1"], 30, |i| format!("{},{}", ["a", "b", "c"][i % 3], i % 4 + i % 3));
    let text = init_checked(dir.path(), &data, "t\ny = 1");
    assert!(
        text.contains("# Text columns are one-hot encoded (hgb takes them as level codes): \"n\\u001B[31m\"."),
        "{text}"
    );
}

#[test]
fn init_refuses_a_file_it_cannot_make_an_experiment_for() {
    let dir = tempfile::tempdir().unwrap();
    let names = csv(&["name", "y"], 30, |i| format!("n{i},{}", i % 2));
    let cases = [
        ("x\n1\n2\n3\n", "x", "no column besides the target"),
        ("x,y\n1,2\n", "y", "only 1 row has a target"),
        ("x,y\n1,\n2,NA\n", "y", "has no values"),
        ("x,y\n1,a\n2,a\n3,a\n", "y", "one value in every row"),
        (names.as_str(), "y", "no column is left to learn from (\"name\": every value differs"),
        ("x,y\n1,2\n2,3\nrotary,4\n", "x", "holds numbers, but row 3 (line 4 of the file) holds \"rotary\""),
    ];
    for (data, target, reason) in cases {
        let (out, text) = init(dir.path(), data, target);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{data}: {stderr}");
        assert!(stderr.contains(reason), "{data}: {stderr}");
        assert!(text.is_none(), "{data}: a file was written");
    }
}

/// The choices that cost users time on real tables (R's and statsmodels' data sets).
#[test]
fn init_reads_real_tables_as_a_user_means_them() {
    let dir = tempfile::tempdir().unwrap();
    // Rdatasets' `rownames` on data sorted by class, and pandas' unnamed index.
    let sorted = |i: usize| format!("{},{}.{},{}", i + 1, i % 5, i % 7, ["a", "b", "c"][i / 10]);
    let text = init_checked(dir.path(), &csv(&["rownames", "x", "species"], 30, sorted), "species");
    assert!(text.contains("exclude = [\n  \"rownames\",  # row names"), "{text}");
    let text = init_checked(dir.path(), &csv(&["", "x", "species"], 30, sorted), "species");
    assert!(text.contains("  \"\",  # row names"), "{text}");
    let text = init_checked(dir.path(), &csv(&["id", "x", "species"], 30, sorted), "species");
    assert!(text.contains("  \"id\",  # the row numbers"), "{text}");
    // A 0/1 target on 32 rows (mtcars' `am`), and classes written 0.0, 1.0, ... (pandas).
    let text = init_checked(dir.path(), &csv(&["x", "am"], 32, |i| format!("{},{}", i * 7 % 13, i % 2)), "am");
    assert!(text.contains("task = \"classification\"  # the target holds 2 distinct whole numbers"), "{text}");
    let text = init_checked(dir.path(), &csv(&["x", "k"], 70, |i| format!("{},{}.0", i * 7 % 13, i % 7)), "k");
    assert!(text.contains("task = \"classification\""), "{text}");
    // A numeric column with one text cell (Cars93's Cylinders) is read as categories.
    let cylinders = |i: usize| {
        format!("{},{},{}", if i == 20 { "rotary".into() } else { (4 + i % 3 * 2).to_string() }, i % 5, i % 9)
    };
    let text = init_checked(dir.path(), &csv(&["Cylinders", "x", "y"], 40, cylinders), "y");
    assert!(text.contains("categorical = [\n  \"Cylinders\",  # numbers, but row 21 (line 22 of the file) holds \"rotary\": read as categories"), "{text}");
    // A near-unique text column (a timestamp) is left out, and a column with many levels.
    let stamps = |i: usize| {
        format!("2024-01-{:02}T{:02}:{:02},l{},{},{}", i % 28 + 1, i % 24, i / 24 % 60, i % 150, i % 3, i % 11)
    };
    let text = init_checked(dir.path(), &csv(&["when", "level", "g", "y"], 600, stamps), "y");
    assert!(
        text.contains("\"when\",  # 600 distinct values in 600 rows")
            || text.contains("\"when\",  # every value differs"),
        "{text}"
    );
    assert!(text.contains("\"level\",  # 150 levels: one-hot encoding would add 150 columns"), "{text}");
}
