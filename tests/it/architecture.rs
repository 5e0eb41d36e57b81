//! The layering ARCHITECTURE.md promises: each library module imports only the modules
//! before it, so there are no import cycles and no stage reaches into a later one.

use crate::common::root;
use std::path::Path;

/// Vocabulary first, then the stages in data-flow order, then the commands' helpers.
const LAYERS: &[&str] = &[
    "panic",
    "suggest",
    "random",
    "linalg",
    "spec",
    "config",
    "data",
    "split",
    "preprocess",
    "models",
    "kinds",
    "metrics",
    "trial",
    "plan",
    "sweep",
    "protocols",
    "after_sweep",
    "report",
    "cli",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules named by the text after a `crate::`: `x::y` names `x`, and a
/// group `{a::b, c::{d, e}, f}` names `a`, `c` and `f`.
fn named_modules(after: &str) -> Vec<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let Some(group) = after.strip_prefix('{') else { return vec![ident(after)] };
    let (mut names, mut depth, mut entry_start) = (Vec::new(), 0, true);
    for (i, c) in group.char_indices() {
        match c {
            '}' if depth == 0 => break,
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => entry_start = true,
            c if entry_start && !c.is_whitespace() => {
                names.push(ident(&group[i..]));
                entry_start = false;
            }
            _ => {}
        }
    }
    names
}

#[test]
fn grouped_imports_name_each_module() {
    assert_eq!(named_modules("data::Dataset;"), ["data"]);
    let group = "{\n    data::{self, Dataset},\n    report::Report, sweep,\n};\nuse crate::x";
    assert_eq!(named_modules(group), ["data", "report", "sweep"]);
}

#[test]
fn every_module_imports_only_earlier_layers() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let module = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
        let Some(rank) = LAYERS.iter().position(|l| *l == module) else { continue };
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may reach anywhere.
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (i, piece) in code.split("crate::").enumerate().skip(1) {
            for used in named_modules(piece) {
                match LAYERS.iter().position(|l| *l == used) {
                    Some(r) if r > rank => violations.push(format!("{rel}: uses crate::{used} (occurrence {i})")),
                    _ => {}
                }
            }
        }
    }
    assert!(violations.is_empty(), "imports of later layers:\n{}", violations.join("\n"));
}
