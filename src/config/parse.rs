//! Raw TOML → [`Experiment`]. Walks the span-carrying `DeTable` by hand (rather than through
//! serde) so that every unknown key, wrong type and out-of-range value is reported at once,
//! each with `file:line:column` and, for names, the nearest valid one.

use super::dataset::dataset;
use super::diag::{Diagnostic, Diagnostics, Source, OVERRIDE_BASE, OVERRIDE_STRIDE};
use super::key::Key;
use super::model::{Models, SizeGuard};
use super::preprocess::preprocess;
use super::reader::{keys, Cx, Reader, Value};
use super::report::report;
use super::search::search;
use super::split::splits;
use super::Experiment;
use crate::spec::catalog::Catalog;
use crate::suggest::suggestion;
use sha2::{Digest, Sha256};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

keys! {
    /// The keys at the top of the file.
    pub enum TopKey {
        Name = "name": Name, Required, "Names the report folder.";
        Description = "description": Str, Absent, "";
        Seed = "seed": Int { min: 0, max: u32::MAX as i64 }, Num(0),
            "numpy's random_state for splits; every other stream derives from (seed, trial, fold).";
        MaxUnits = "max_units": Int { min: 1, max: i64::MAX }, Num(1_000_000), "";
        Dataset = "dataset": Table, Required, "";
        Preprocess = "preprocess": Table, Absent, "";
        Split = "split": Table, Absent, "";
        Search = "search": Table, Absent, "";
        Model = "model": Models, Required, "";
        Report = "report": Table, Absent, "";
    }
}

/// Every problem found in an experiment file, in file order.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        Ok(())
    }
}

/// Parses and validates an experiment file. `overrides` are `--set KEY=VALUE` strings,
/// applied on top of the file and checked like it; models are checked against `catalog`.
pub fn parse_experiment(
    file: &Path,
    text: &str,
    overrides: &[String],
    catalog: Catalog,
) -> Result<Experiment, ConfigErrors> {
    let source = Source { name: file.display().to_string(), text };
    let mut d = Diagnostics::new(source);
    let (mut root, parse_errors) = DeTable::parse_recoverable(text);
    for e in parse_errors {
        let message = e.message().trim();
        // toml's recursion limit comes without a place: point at the most deeply nested line.
        let span = e.span().unwrap_or_else(|| deepest_line(text));
        let message = if message.contains("recursion limit") {
            "keys or tables are nested too deeply (toml's recursion limit)".to_string()
        } else {
            message.to_string()
        };
        d.error(&span, format!("invalid TOML: {message}"));
    }
    if !d.errors.is_empty() {
        return Err(ConfigErrors(d.into_sorted()));
    }
    let mut override_errors = Vec::new();
    let override_text: Vec<String> = overrides.to_vec();
    for (i, o) in override_text.iter().enumerate() {
        if let Err(message) = apply_override(root.get_mut(), o, i) {
            override_errors.push(Diagnostic { location: format!("--set {o}"), message });
        }
    }
    d.overrides = override_text.clone();
    let cx = Cx::new(d);
    let experiment = experiment(&cx, root.get_ref(), file, text, overrides, catalog);
    let d = cx.into_diagnostics();
    let mut errors = d.into_sorted();
    errors.extend(override_errors);
    match experiment {
        Some(e) if errors.is_empty() => Ok(e),
        _ => Err(ConfigErrors(errors)),
    }
}

/// Applies `a.b.c=VALUE` to the document. `model.NAME.x` addresses the `[[model]]` named NAME.
fn apply_override<'i>(root: &mut DeTable<'i>, text: &'i str, index: usize) -> Result<(), String> {
    let (key, raw) = text.split_once('=').ok_or("expected KEY=VALUE")?;
    let key = key.trim();
    let value_text = raw.trim();
    let value = DeValue::parse(value_text).or_else(|_| {
        // A bare word is taken as a string, so `--set split.method=kfold` works unquoted.
        if value_text.chars().all(|c| c.is_alphanumeric() || "_-./".contains(c)) && !value_text.is_empty() {
            Ok(Spanned::new(0..value_text.len(), DeValue::String(value_text.into())))
        } else {
            Err(format!("`{value_text}` is not a TOML value"))
        }
    })?;
    let value = shift(value, OVERRIDE_BASE + index * OVERRIDE_STRIDE);
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{key}` is not a dotted key path"));
    }
    let here = OVERRIDE_BASE + index * OVERRIDE_STRIDE;
    let mut table: &mut DeTable<'i> = root;
    let mut rest: &[&str] = &parts;
    while rest.len() > 1 {
        let head = rest[0];
        if head == "model" {
            let name = rest[1];
            let models = table
                .get_mut("model")
                .and_then(|m| match m.get_mut() {
                    DeValue::Array(a) => Some(a),
                    _ => None,
                })
                .ok_or("the file has no [[model]] tables")?;
            let mut names = Vec::new();
            let mut found = None;
            for (i, m) in models.iter().enumerate() {
                if let Some(n) = m.get_ref().get("name").and_then(|n| n.get_ref().as_str()) {
                    names.push(n.to_string());
                    if n == name {
                        found = Some(i);
                    }
                }
            }
            let i = found.ok_or_else(|| {
                format!("no [[model]] named `{name}`{}", suggestion(name, names.iter().map(String::as_str)))
            })?;
            let mut iter = models.iter_mut();
            let model = iter.nth(i).ok_or("model vanished")?;
            table = match model.get_mut() {
                DeValue::Table(t) => t,
                _ => return Err("[[model]] entry is not a table".into()),
            };
            rest = &rest[2..];
            continue;
        }
        let entry = table
            .entry(Spanned::new(here..here, head.to_string().into()))
            .or_insert_with(|| Spanned::new(here..here, DeValue::Table(DeTable::default())));
        table = match entry.get_mut() {
            DeValue::Table(t) => t,
            _ => return Err(format!("`{head}` is not a table")),
        };
        rest = &rest[1..];
    }
    let last = rest.first().ok_or("empty key")?;
    table.insert(Spanned::new(here..here, last.to_string().into()), value);
    Ok(())
}

/// Moves every span of a parsed override value into the override region.
fn shift<'i>(v: Value<'i>, offset: usize) -> Value<'i> {
    let span = v.span();
    let span = span.start + offset..span.end + offset;
    let inner = match v.into_inner() {
        DeValue::Array(a) => {
            let mut out = toml::de::DeArray::new();
            for item in a {
                out.push(shift(item, offset));
            }
            DeValue::Array(out)
        }
        DeValue::Table(t) => {
            let mut out = DeTable::default();
            for (k, val) in t {
                let ks = k.span();
                out.insert(Spanned::new(ks.start + offset..ks.end + offset, k.into_inner()), shift(val, offset));
            }
            DeValue::Table(out)
        }
        other => other,
    };
    Spanned::new(span, inner)
}

/// The span of the line with the most `.`, `[` and `{`: where nesting is deepest.
fn deepest_line(text: &str) -> Range<usize> {
    let mut best = (0, 0..0);
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let depth = line.bytes().filter(|b| matches!(b, b'.' | b'[' | b'{')).count();
        if depth > best.0 {
            best = (depth, at..at + line.trim_end().len());
        }
        at += line.len();
    }
    best.1
}

/// A table the file leaves out reads as an empty one, so its defaults are the declared ones.
fn or_empty<'v, 'i>(v: Option<&'v Value<'i>>, empty: &'v Value<'i>) -> &'v Value<'i> {
    v.unwrap_or(empty)
}

fn experiment(
    cx: &Cx<'_>,
    root: &DeTable<'_>,
    file: &Path,
    text: &str,
    overrides: &[String],
    catalog: Catalog,
) -> Option<Experiment> {
    let mut r = Reader::new(cx, root, 0..0, "the top level".into(), Key::Top);
    let name = experiment_name(&mut r);
    let description = r.optional::<String>(TopKey::Description);
    let seed = r.or_default::<i64>(TopKey::Seed).map(|s| s as u32);
    let max_units = r.or_default::<i64>(TopKey::MaxUnits).map(|m| m as u64);
    let empty = Spanned::new(0..0, DeValue::Table(DeTable::default()));
    let base_dir = file.parent().unwrap_or(Path::new("."));
    let dataset = match r.value(TopKey::Dataset) {
        Some(v) => dataset(cx, v, base_dir),
        None => {
            cx.err(&(0..0), "missing the [dataset] table");
            None
        }
    };
    let preprocess = preprocess(cx, or_empty(r.value(TopKey::Preprocess), &empty));
    let (split, outer) = splits(cx, or_empty(r.value(TopKey::Split), &empty));
    let search = search(cx, or_empty(r.value(TopKey::Search), &empty));
    let mut models = Models { cx, catalog, distribution_spans: Vec::new(), size: None };
    if let (Some(max_units), Some(split), Some(search)) = (max_units, &split, search) {
        let folds = split.least_folds() as u128;
        models.size = Some(SizeGuard { max_units, folds, search, points: 0, refused: false });
    }
    let model_list = models.models(r.value(TopKey::Model));
    models.distributions_need_random(search);
    let report = report(cx, or_empty(r.value(TopKey::Report), &empty));
    drop(r);
    Some(Experiment {
        name: name?,
        description: description?,
        seed: seed?,
        max_units: max_units?,
        file: file.to_path_buf(),
        sha256: format!("{:x}", Sha256::digest(text.as_bytes())),
        overrides: overrides.to_vec(),
        dataset: dataset?,
        preprocess: preprocess?,
        split: split?,
        outer: outer?,
        models: model_list?,
        search: search?,
        report: report?,
        locations: cx.take_locations(),
    })
}

/// The experiment's name: it names the report folder.
fn experiment_name(r: &mut Reader<'_, '_, TopKey>) -> Option<String> {
    let n = r.required::<String>(TopKey::Name)?;
    let ok = !n.is_empty() && n != "." && n != ".." && n.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c));
    if !ok {
        let span = r.value(TopKey::Name).map_or(0..0, |v| v.span());
        let message =
            format!("`name` must be a non-empty folder name of letters, digits, `-`, `_` and `.`, found `{n}`");
        r.cx().err(&span, message);
    }
    ok.then_some(n)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{errors, parse, HEAD, MODEL};
    use super::*;
    use crate::kinds::CATALOG;

    #[test]
    fn the_top_level_takes_its_defaults() {
        let e = parse(&format!("{HEAD}{MODEL}")).unwrap();
        assert_eq!((e.name.as_str(), e.description.as_deref(), e.seed, e.max_units), ("t", None, 0, 1_000_000));
        // A key left out of the root is located at the file.
        assert_eq!(e.location(TopKey::Seed), "exp.toml");
    }

    #[test]
    fn an_unknown_top_level_key_gets_a_did_you_mean() {
        let e = errors(&format!("{HEAD}{MODEL}").replace("name = \"t\"\n", "name = \"t\"\nsede = 1\n"));
        assert_eq!(e, ["exp.toml:2:1: unknown key `sede` in the top level, did you mean `seed`?"]);
    }

    #[test]
    fn a_seed_is_a_32_bit_integer() {
        let e = errors(&format!("seed = -1\n{HEAD}{MODEL}"));
        assert_eq!(e, ["exp.toml:1:8: `seed` in the top level must be between 0 and 4294967295, found -1"]);
    }

    #[test]
    fn a_name_must_be_a_folder_name() {
        let e = errors(&format!("{HEAD}{MODEL}").replace("name = \"t\"", "name = \"a/b\""));
        assert_eq!(
            e,
            ["exp.toml:1:8: `name` must be a non-empty folder name of letters, digits, `-`, `_` and `.`, found `a/b`"]
        );
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let e = errors("seed = \"x\"\n[dataset]\npath = 1\n[split]\nfolds = 3\n");
        assert_eq!(
            e,
            [
                "exp.toml:1:1: the top level is missing the required key `name`",
                "exp.toml:1:1: no [[model]] table: add at least one model",
                "exp.toml:1:8: `seed` in the top level must be an integer, found a string",
                "exp.toml:2:1: [dataset] is missing the required key `target`",
                "exp.toml:3:8: `path` in [dataset] must be a string, found an integer",
                "exp.toml:5:1: `folds` in [split] does not apply to method = \"holdout\" (it takes test_size, shuffle, stratify, outer)",
            ]
        );
    }

    #[test]
    fn an_override_is_located_at_its_flag() {
        let text = format!("{HEAD}{MODEL}");
        let e = parse_experiment(
            Path::new("exp.toml"),
            &text,
            &["split.folds=0".into(), "split.method=kfold".into()],
            CATALOG,
        );
        let e: Vec<String> = e.unwrap_err().0.iter().map(ToString::to_string).collect();
        assert_eq!(e, ["--set split.folds=0: `folds` in [split] must be between 2 and 1000000, found 0"]);
        let e = parse_experiment(Path::new("exp.toml"), &text, &["model.ols.kind=ridge".into()], CATALOG).unwrap();
        assert_eq!(e.models[0].kind, crate::spec::ModelKind::Ridge);
    }
}
