//! Raw TOML → [`Experiment`]. Walks the span-carrying `DeTable` by hand (rather than through
//! serde) so that every unknown key, wrong type and out-of-range value is reported at once,
//! each with `file:line:column` and, for names, the nearest valid one.

use super::diag::{Diagnostic, Diagnostics, Source, OVERRIDE_BASE, OVERRIDE_STRIDE};
use super::grid::{expand_axis, AxisSpec};
use super::*;
use crate::spec::catalog::{find, KindSpec};
use crate::spec::ParamValue;
use crate::suggest::suggestion;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::Path;
use strum::VariantArray;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

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

type Value<'i> = Spanned<DeValue<'i>>;

/// Parses and validates an experiment file. `overrides` are `--set KEY=VALUE` strings,
/// applied on top of the file and checked like it; models are checked against `catalog`.
pub fn parse_experiment(
    file: &Path,
    text: &str,
    overrides: &[String],
    catalog: &'static [KindSpec],
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
    let experiment =
        Walker { d: &mut d, catalog, locations: BTreeMap::new(), distribution_spans: Vec::new(), size: None }
            .experiment(root.get_ref(), file, text, overrides);
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

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn int_of(v: &DeValue<'_>) -> Option<i64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok(),
        _ => None,
    }
}

fn float_of(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        DeValue::Integer(_) => int_of(v).map(|i| i as f64),
        _ => None,
    }
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

fn param_value_of(v: &DeValue<'_>) -> Option<ParamValue> {
    match v {
        DeValue::String(s) => Some(ParamValue::Str(s.to_string())),
        DeValue::Integer(_) => int_of(v).map(ParamValue::Int),
        DeValue::Float(_) => float_of(v).map(ParamValue::Float),
        DeValue::Boolean(b) => Some(ParamValue::Bool(*b)),
        DeValue::Array(items) => {
            items.iter().map(|i| int_of(i.get_ref())).collect::<Option<Vec<i64>>>().map(ParamValue::IntList)
        }
        _ => None,
    }
}

struct Walker<'d, 'a> {
    d: &'d mut Diagnostics<'a>,
    /// The model kinds the file may name (`kinds::KINDS`, a later layer's, handed in).
    catalog: &'static [KindSpec],
    /// Where each checked-later key sits (`dataset.target` → `file:3:10`), for errors found
    /// once the data is read.
    locations: BTreeMap<String, String>,
    /// Where the distribution axes are, for the error when there is no random search.
    distribution_spans: Vec<Range<usize>>,
    /// The size guard, counting trials model by model from the axis lengths; `None` when
    /// `[search]` or `[split]` is invalid (their errors are reported instead).
    size: Option<SizeGuard>,
}

/// The grids' trials so far against `max_units`, with the file's own fold count: a grid
/// that could never fit is refused before any generator is expanded.
struct SizeGuard {
    max_units: u64,
    folds: u128,
    search: SearchConfig,
    points: u128,
    refused: bool,
}

/// The most values one grid axis may give (more could never run within `max_units`'s
/// default, and a random search expands each axis it draws from).
const MAX_AXIS: usize = 1_000_000;

/// A model's grid: list axes, and the distributions a random search draws from.
type GridAxes = (Vec<(String, Vec<ParamValue>)>, Vec<(String, Distribution)>);

/// A table being read, with the keys it allows.
struct Table<'t, 'i> {
    inner: &'t DeTable<'i>,
    span: Range<usize>,
    /// How errors name it: `[dataset]`, `[[model]] \`ridge\``.
    label: String,
}

impl<'t, 'i> Table<'t, 'i> {
    fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.inner.get(key)
    }
}

impl<'d, 'a> Walker<'d, 'a> {
    fn err(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.d.error(span, message);
    }

    fn remember(&mut self, key: &str, span: &Range<usize>) {
        let loc = self.d.locate(span);
        self.locations.insert(key.to_string(), loc);
    }

    fn check_keys(&mut self, t: &Table<'_, '_>, allowed: &[&str]) {
        for (k, _) in t.inner.iter() {
            let key: &str = k.get_ref();
            if !allowed.contains(&key) {
                let hint = suggestion(key, allowed.iter().copied());
                let label = t.label.clone();
                self.err(&k.span(), format!("unknown key `{key}` in {label}{hint}"));
            }
        }
    }

    fn table<'t, 'i>(&mut self, v: &'t Value<'i>, label: String) -> Option<Table<'t, 'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(Table { inner: t, span: v.span(), label }),
            other => {
                let found = type_name(other);
                self.err(&v.span(), format!("{label} must be a table, found {found}"));
                None
            }
        }
    }

    fn string(&mut self, t: &Table<'_, '_>, key: &str) -> Option<(String, Range<usize>)> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some((s.to_string(), v.span())),
            other => {
                let (label, found) = (t.label.clone(), type_name(other));
                self.err(&v.span(), format!("`{key}` in {label} must be a string, found {found}"));
                None
            }
        }
    }

    fn required_string(&mut self, t: &Table<'_, '_>, key: &str) -> Option<(String, Range<usize>)> {
        if t.get(key).is_none() {
            let label = t.label.clone();
            self.err(&t.span.clone(), format!("{label} is missing the required key `{key}`"));
            return None;
        }
        self.string(t, key)
    }

    /// One of an enum's words (`scale = "standard"`).
    fn choice<T>(&mut self, t: &Table<'_, '_>, key: &str) -> Option<T>
    where
        T: Copy + VariantArray + Into<&'static str>,
    {
        let (s, span) = self.string(t, key)?;
        match T::VARIANTS.iter().find(|v| Into::<&str>::into(**v) == s) {
            Some(v) => Some(*v),
            None => {
                let names: Vec<&str> = T::VARIANTS.iter().map(|&v| v.into()).collect();
                let hint = suggestion(&s, names.iter().copied());
                let label = t.label.clone();
                self.err(&span, format!("`{key}` in {label} must be one of {}; `{s}` is not{hint}", names.join(", ")));
                None
            }
        }
    }

    fn boolean(&mut self, t: &Table<'_, '_>, key: &str) -> Option<bool> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                let (label, found) = (t.label.clone(), type_name(other));
                self.err(&v.span(), format!("`{key}` in {label} must be true or false, found {found}"));
                None
            }
        }
    }

    fn integer(&mut self, t: &Table<'_, '_>, key: &str, min: i64, max: i64) -> Option<i64> {
        let v = t.get(key)?;
        let label = t.label.clone();
        match int_of(v.get_ref()) {
            Some(i) if (min..=max).contains(&i) => Some(i),
            Some(i) => {
                self.err(&v.span(), format!("`{key}` in {label} must be between {min} and {max}, found {i}"));
                None
            }
            None if matches!(v.get_ref(), DeValue::Integer(_)) => {
                self.err(
                    &v.span(),
                    format!(
                        "`{key}` in {label} must be between {min} and {max}; this integer does not even fit in 64 bits"
                    ),
                );
                None
            }
            None => {
                let found = type_name(v.get_ref());
                self.err(&v.span(), format!("`{key}` in {label} must be an integer, found {found}"));
                None
            }
        }
    }

    fn string_list(&mut self, t: &Table<'_, '_>, key: &str) -> Option<(Vec<String>, Range<usize>)> {
        let v = t.get(key)?;
        let label = t.label.clone();
        let DeValue::Array(items) = v.get_ref() else {
            let found = type_name(v.get_ref());
            self.err(&v.span(), format!("`{key}` in {label} must be an array of strings, found {found}"));
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(s) => out.push(s.to_string()),
                other => {
                    let found = type_name(other);
                    self.err(&item.span(), format!("`{key}` in {label} must hold strings, found {found}"));
                    ok = false;
                }
            }
        }
        ok.then_some((out, v.span()))
    }

    fn experiment(&mut self, root: &DeTable<'_>, file: &Path, text: &str, overrides: &[String]) -> Option<Experiment> {
        let root = Table { inner: root, span: 0..0, label: "the top level".into() };
        self.check_keys(
            &root,
            &[
                "name",
                "description",
                "seed",
                "max_units",
                "dataset",
                "preprocess",
                "split",
                "search",
                "model",
                "report",
            ],
        );

        let name = self.experiment_name(&root);
        let description = self.string(&root, "description").map(|(s, _)| s);
        let seed = if root.get("seed").is_some() {
            self.integer(&root, "seed", 0, u32::MAX as i64).map(|s| s as u32)
        } else {
            Some(0)
        };

        let max_units = if root.get("max_units").is_some() {
            self.integer(&root, "max_units", 1, i64::MAX).map(|m| m as u64)
        } else {
            Some(DEFAULT_MAX_UNITS)
        };

        let base_dir = file.parent().unwrap_or(Path::new("."));
        let dataset = match root.get("dataset") {
            Some(v) => self.table(v, "[dataset]".into()).and_then(|t| self.dataset(&t, base_dir)),
            None => {
                self.err(&(0..0), "missing the [dataset] table");
                None
            }
        };
        let preprocess = match root.get("preprocess") {
            Some(v) => self.table(v, "[preprocess]".into()).and_then(|t| self.preprocess(&t)),
            None => Some(PreprocessConfig::default()),
        };
        let split = match root.get("split") {
            Some(v) => self.table(v, "[split]".into()).and_then(|t| self.split(&t)),
            None => Some(SplitConfig::Holdout { test_size: TestSize::Fraction(0.25), shuffle: true, stratify: false }),
        };
        let outer = self.outer_split(root.get("split"));
        let search = self.search_of(root.get("search"));
        if let (Some(max_units), Some(split), Some(search)) = (max_units, &split, search) {
            let folds = split.least_folds() as u128;
            self.size = Some(SizeGuard { max_units, folds, search, points: 0, refused: false });
        }
        let models = self.models(root.get("model"));
        self.distributions_need_random(search);
        let report = match root.get("report") {
            Some(v) => self.table(v, "[report]".into()).and_then(|t| self.report(&t)),
            None => Some(ReportConfig::default()),
        };

        let sha256 = format!("{:x}", Sha256::digest(text.as_bytes()));
        Some(Experiment {
            name: name?,
            description,
            seed: seed?,
            max_units: max_units?,
            file: file.to_path_buf(),
            sha256,
            overrides: overrides.to_vec(),
            dataset: dataset?,
            preprocess: preprocess?,
            split: split?,
            outer: outer?,
            models: models?,
            search: search?,
            report: report?,
            locations: std::mem::take(&mut self.locations),
        })
    }

    /// The experiment's name: it names the report folder.
    fn experiment_name(&mut self, root: &Table<'_, '_>) -> Option<String> {
        let (n, span) = self.required_string(root, "name")?;
        let ok = !n.is_empty() && n != "." && n != ".." && n.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c));
        if !ok {
            self.err(
                &span,
                format!("`name` must be a non-empty folder name of letters, digits, `-`, `_` and `.`, found `{n}`"),
            );
        }
        ok.then_some(n)
    }

    fn dataset(&mut self, t: &Table<'_, '_>, base_dir: &Path) -> Option<DatasetConfig> {
        self.check_keys(t, &["path", "target", "task", "features", "exclude", "categorical", "missing", "streaming"]);
        let path = self.required_string(t, "path");
        if let Some((p, span)) = &path {
            self.remember("dataset.path", span);
            let lower = p.to_ascii_lowercase();
            if ![".csv", ".parquet", ".ndjson", ".jsonl"].iter().any(|ext| lower.ends_with(ext)) {
                self.err(
                    span,
                    format!("`path` in [dataset] must end in .csv, .parquet, .ndjson or .jsonl, found `{p}`"),
                );
            }
        }
        let target = self.required_string(t, "target");
        if let Some((_, span)) = &target {
            self.remember("dataset.target", span);
        }
        let task = if t.get("task").is_some() { Some(self.choice::<Task>(t, "task")?) } else { None };
        let mut lists = Vec::new();
        for key in ["features", "exclude", "categorical", "missing"] {
            let list = self.string_list(t, key);
            if let Some((_, span)) = &list {
                self.remember(&format!("dataset.{key}"), span);
            }
            lists.push((t.get(key).is_some(), list.map(|(l, _)| l)));
        }
        let mut take = |i: usize| -> Option<Option<Vec<String>>> {
            let (given, list) = std::mem::take(&mut lists[i]);
            match (given, list) {
                (false, _) => Some(None),
                (true, Some(l)) => Some(Some(l)),
                (true, None) => None,
            }
        };
        let features = take(0)?;
        let exclude = take(1)?.unwrap_or_default();
        let categorical = take(2)?.unwrap_or_default();
        let missing = take(3)?.unwrap_or_else(|| vec!["".into(), "NA".into(), "NaN".into(), "null".into()]);
        let streaming = self.streaming(t)?;
        let (path_as_written, _) = path?;
        Some(DatasetConfig {
            path: base_dir.join(&path_as_written),
            path_as_written,
            target: target?.0,
            task,
            features,
            exclude,
            categorical,
            missing,
            streaming,
        })
    }

    /// `streaming = true | false | "auto"` (the default).
    fn streaming(&mut self, t: &Table<'_, '_>) -> Option<Streaming> {
        let Some(v) = t.get("streaming") else { return Some(Streaming::Auto) };
        match v.get_ref() {
            DeValue::Boolean(true) => Some(Streaming::Always),
            DeValue::Boolean(false) => Some(Streaming::Never),
            DeValue::String(s) if s == "auto" => Some(Streaming::Auto),
            other => {
                let found = match other {
                    DeValue::String(s) => format!("`{s}`"),
                    other => type_name(other).to_string(),
                };
                let hint = match other {
                    DeValue::String(s) => suggestion(s, ["auto", "true", "false"]),
                    _ => String::new(),
                };
                self.err(
                    &v.span(),
                    format!("`streaming` in [dataset] must be true, false or \"auto\", found {found}{hint}"),
                );
                None
            }
        }
    }

    fn column_rule(&mut self, t: &Table<'_, '_>, base: &ColumnRule) -> Option<ColumnRule> {
        let mut rule = base.clone();
        let mut ok = true;
        if t.get("impute").is_some() {
            match self.choice::<Impute>(t, "impute") {
                Some(i) => rule.impute = i,
                None => ok = false,
            }
        }
        if t.get("scale").is_some() {
            match self.choice::<Scale>(t, "scale") {
                Some(s) => rule.scale = s,
                None => ok = false,
            }
        }
        if let Some(v) = t.get("fill_value") {
            match v.get_ref() {
                DeValue::String(s) => rule.fill_value = Some(FillValue::Text(s.to_string())),
                other => match float_of(other) {
                    Some(x) if x.is_finite() => rule.fill_value = Some(FillValue::Number(x)),
                    _ => {
                        let (label, found) = (t.label.clone(), type_name(other));
                        self.err(
                            &v.span(),
                            format!("`fill_value` in {label} must be a finite number or a string, found {found}"),
                        );
                        ok = false;
                    }
                },
            }
        }
        if ok && rule.impute == Impute::Constant && rule.fill_value.is_none() {
            let label = t.label.clone();
            let span = t.get("impute").map(|v| v.span()).unwrap_or(t.span.clone());
            self.err(&span, format!("impute = \"constant\" in {label} needs a `fill_value`"));
            ok = false;
        }
        ok.then_some(rule)
    }

    fn preprocess(&mut self, t: &Table<'_, '_>) -> Option<PreprocessConfig> {
        self.check_keys(t, &["impute", "fill_value", "scale", "one_hot", "columns"]);
        let base = ColumnRule { impute: Impute::Error, fill_value: None, scale: Scale::None };
        if let Some(v) = t.get("fill_value") {
            self.remember("preprocess.fill_value", &v.span());
        }
        let default_rule = self.column_rule(t, &base);
        let drop_first = match t.get("one_hot") {
            None => Some(false),
            Some(v) => self.table(v, "`one_hot` in [preprocess]".into()).and_then(|oh| {
                self.check_keys(&oh, &["drop_first"]);
                if oh.get("drop_first").is_some() {
                    self.boolean(&oh, "drop_first")
                } else {
                    Some(false)
                }
            }),
        };
        let mut columns = BTreeMap::new();
        let mut ok = true;
        if let Some(v) = t.get("columns") {
            match self.table(v, "[preprocess.columns]".into()) {
                Some(cols) => {
                    for (name, value) in cols.inner.iter() {
                        let label = format!("[preprocess.columns.{}]", name.get_ref());
                        let Some(ct) = self.table(value, label) else {
                            ok = false;
                            continue;
                        };
                        self.check_keys(&ct, &["impute", "fill_value", "scale"]);
                        self.remember(&format!("preprocess.columns.{}", name.get_ref()), &name.span());
                        match default_rule.as_ref().and_then(|d| self.column_rule(&ct, d)) {
                            Some(rule) => {
                                columns.insert(name.get_ref().to_string(), rule);
                            }
                            None => ok = false,
                        }
                    }
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        Some(PreprocessConfig { default_rule: default_rule?, columns, drop_first: drop_first? })
    }

    fn split(&mut self, t: &Table<'_, '_>) -> Option<SplitConfig> {
        for key in ["method", "stratify"] {
            if let Some(v) = t.get(key) {
                self.remember(&format!("split.{key}"), &v.span());
            }
        }
        let method = if t.get("method").is_some() {
            self.choice::<SplitMethod>(t, "method")
        } else {
            Some(SplitMethod::Holdout)
        };
        const ALL: &[&str] = &[
            "method",
            "test_size",
            "shuffle",
            "stratify",
            "folds",
            "column",
            "repeats",
            "group",
            "max_train_size",
            "gap",
            "outer",
        ];
        let Some(method) = method else {
            self.check_keys(t, ALL);
            return None;
        };
        let allowed: &[&str] = match method {
            SplitMethod::Holdout => &["method", "test_size", "shuffle", "stratify", "outer"],
            SplitMethod::Kfold | SplitMethod::StratifiedKfold => &["method", "folds", "shuffle", "repeats", "outer"],
            SplitMethod::GroupKfold => &["method", "folds", "group", "shuffle"],
            SplitMethod::Timeseries => &["method", "folds", "test_size", "max_train_size", "gap", "outer"],
            SplitMethod::Column => &["method", "column"],
            SplitMethod::None => &["method"],
        };
        self.split_keys_apply(t, method, allowed, ALL);
        for key in ["folds", "group", "repeats"] {
            if let Some(v) = t.get(key) {
                self.remember(&format!("split.{key}"), &v.span());
            }
        }
        match method {
            SplitMethod::Holdout => self.holdout(t),
            SplitMethod::Kfold | SplitMethod::StratifiedKfold => self.kfold(t, method),
            SplitMethod::GroupKfold => {
                let folds = self.folds(t);
                let group = self.required_string(t, "group");
                let shuffle = if t.get("shuffle").is_some() { self.boolean(t, "shuffle") } else { Some(false) };
                Some(SplitConfig::GroupKFold { folds: folds?, group: group?.0, shuffle: shuffle? })
            }
            SplitMethod::Timeseries => self.timeseries(t),
            SplitMethod::Column => {
                let column = self.required_string(t, "column");
                if let Some((_, span)) = &column {
                    self.remember("split.column", span);
                }
                Some(SplitConfig::Column { column: column?.0 })
            }
            SplitMethod::None => Some(SplitConfig::None),
        }
    }

    /// A [split] key that belongs to another method is an error naming the ones this takes.
    fn split_keys_apply(&mut self, t: &Table<'_, '_>, method: SplitMethod, allowed: &[&str], all: &[&str]) {
        let name = method.name();
        for (k, _) in t.inner.iter() {
            let key: &str = k.get_ref();
            if all.contains(&key) && !allowed.contains(&key) {
                let takes = if allowed.len() > 1 { allowed[1..].join(", ") } else { "no other key".into() };
                self.err(
                    &k.span(),
                    format!("`{key}` in [split] does not apply to method = \"{name}\" (it takes {takes})"),
                );
            }
        }
        self.check_keys(t, all);
    }

    /// `[split.outer]`: the outer split of a nested cross-validation, around the inner split
    /// (`[split]`) and the search. Holdout, k-fold variants or time series.
    fn outer_split(&mut self, split: Option<&Value<'_>>) -> Option<Option<SplitConfig>> {
        let Some(v) = split.and_then(|s| match s.get_ref() {
            DeValue::Table(t) => t.get("outer"),
            _ => None,
        }) else {
            return Some(None);
        };
        self.remember("split.outer", &v.span());
        let t = self.table(v, "[split.outer]".into())?;
        if let Some(inner) = t.get("outer") {
            self.err(&inner.span(), "[split.outer] cannot have an outer split of its own");
            return None;
        }
        // Refused by name first, so that such a method's own keys (`group`) are not asked for.
        if let Some(m) = t.get("method") {
            let refused = [SplitMethod::Column, SplitMethod::GroupKfold, SplitMethod::None].map(SplitMethod::name);
            if let Some(method) = m.get_ref().as_str().filter(|name| refused.contains(name)) {
                let message =
                    format!("[split.outer] takes holdout, kfold, stratified_kfold or timeseries, not `{method}`");
                self.err(&m.span(), message);
                return None;
            }
            self.remember("split.outer.method", &m.span());
        }
        let outer = self.split(&t)?;
        Some(Some(outer))
    }

    /// `folds` (default 5).
    fn folds(&mut self, t: &Table<'_, '_>) -> Option<usize> {
        if t.get("folds").is_some() {
            self.integer(t, "folds", 2, 1_000_000).map(|f| f as usize)
        } else {
            Some(5)
        }
    }

    fn holdout(&mut self, t: &Table<'_, '_>) -> Option<SplitConfig> {
        let shuffle = if t.get("shuffle").is_some() { self.boolean(t, "shuffle") } else { Some(true) };
        let test_size = self.test_size(t);
        let stratify = if t.get("stratify").is_some() { self.boolean(t, "stratify") } else { Some(false) };
        if let (Some(true), Some(false)) = (stratify, shuffle) {
            let span = t.get("stratify").map(|v| v.span()).unwrap_or(t.span.clone());
            self.err(&span, "`stratify = true` in [split] needs `shuffle = true` (as in scikit-learn)");
            return None;
        }
        Some(SplitConfig::Holdout { test_size: test_size?, shuffle: shuffle?, stratify: stratify? })
    }

    /// k-fold and stratified k-fold; `repeats` > 1 makes them RepeatedKFold and
    /// RepeatedStratifiedKFold, which always shuffle.
    fn kfold(&mut self, t: &Table<'_, '_>, method: SplitMethod) -> Option<SplitConfig> {
        let folds = self.folds(t);
        let repeats = if t.get("repeats").is_some() { self.integer(t, "repeats", 1, 10_000) } else { Some(1) };
        let repeated = repeats.is_some_and(|r| r > 1);
        let shuffle = if t.get("shuffle").is_some() { self.boolean(t, "shuffle") } else { Some(repeated) };
        if let (true, Some(false)) = (repeated, shuffle) {
            let span = t.get("shuffle").map(|v| v.span()).unwrap_or(t.span.clone());
            self.err(&span, "`repeats` above 1 reshuffles each repeat (as RepeatedKFold): remove `shuffle = false`");
            return None;
        }
        let (folds, shuffle, repeats) = (folds?, shuffle?, repeats? as usize);
        Some(if method == SplitMethod::Kfold {
            SplitConfig::KFold { folds, shuffle, repeats }
        } else {
            SplitConfig::StratifiedKFold { folds, shuffle, repeats }
        })
    }

    /// TimeSeriesSplit: `folds` (n_splits), `test_size` and `max_train_size` (row counts,
    /// optional), `gap` (rows, default 0).
    fn timeseries(&mut self, t: &Table<'_, '_>) -> Option<SplitConfig> {
        let folds = self.folds(t);
        let count = |p: &mut Self, key: &str, min: i64| -> Option<Option<usize>> {
            if let Some(v) = t.get(key) {
                p.remember(&format!("split.{key}"), &v.span());
                p.integer(t, key, min, i64::MAX).map(|n| Some(n as usize))
            } else {
                Some(None)
            }
        };
        let test_size = count(self, "test_size", 1);
        let max_train_size = count(self, "max_train_size", 1);
        let gap = count(self, "gap", 0);
        Some(SplitConfig::TimeSeries {
            folds: folds?,
            test_size: test_size?,
            max_train_size: max_train_size?,
            gap: gap?.unwrap_or(0),
        })
    }

    /// A holdout's `test_size`: a fraction in (0, 1) or a whole row count (default 0.25).
    fn test_size(&mut self, t: &Table<'_, '_>) -> Option<TestSize> {
        let Some(v) = t.get("test_size") else { return Some(TestSize::Fraction(0.25)) };
        self.remember("split.test_size", &v.span());
        match v.get_ref() {
            DeValue::Integer(_) => match int_of(v.get_ref()) {
                Some(n) if n >= 1 => Some(TestSize::Count(n as usize)),
                _ => {
                    self.err(&v.span(), "`test_size` in [split] must be a fraction in (0, 1) or a row count >= 1");
                    None
                }
            },
            DeValue::Float(_) => match float_of(v.get_ref()) {
                Some(x) if x > 0.0 && x < 1.0 => Some(TestSize::Fraction(x)),
                x => {
                    let shown = x.map_or("?".to_string(), |x| format!("{x:?}"));
                    self.err(&v.span(), format!("`test_size` in [split] must be a fraction strictly between 0 and 1, or a whole row count written without a decimal point (such as 30); found {shown}"));
                    None
                }
            },
            other => {
                let found = type_name(other);
                self.err(&v.span(), format!("`test_size` in [split] must be a number, found {found}"));
                None
            }
        }
    }

    fn models(&mut self, v: Option<&Value<'_>>) -> Option<Vec<ModelConfig>> {
        let Some(v) = v else {
            self.err(&(0..0), "no [[model]] table: add at least one model");
            return None;
        };
        let DeValue::Array(items) = v.get_ref() else {
            let found = type_name(v.get_ref());
            self.err(&v.span(), format!("`model` must be an array of tables ([[model]]), found {found}"));
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        let mut seen: HashMap<String, Range<usize>> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let label = format!("[[model]] #{}", i + 1);
            let Some(t) = self.table(item, label) else {
                ok = false;
                continue;
            };
            match self.model(t, &mut seen) {
                Some(m) => out.push(m),
                None => ok = false,
            }
        }
        if out.is_empty() && ok {
            self.err(&v.span(), "no [[model]] table: add at least one model");
            return None;
        }
        ok.then_some(out)
    }

    /// `[search]` (default: a grid search).
    fn search_of(&mut self, v: Option<&Value<'_>>) -> Option<SearchConfig> {
        match v {
            Some(v) => self.table(v, "[search]".into()).and_then(|t| self.search(&t)),
            None => Some(SearchConfig::Grid),
        }
    }

    /// After the models: a distribution axis needs a random search.
    fn distributions_need_random(&mut self, search: Option<SearchConfig>) {
        if matches!(search, Some(SearchConfig::Grid | SearchConfig::Halving { .. })) {
            for span in std::mem::take(&mut self.distribution_spans) {
                self.err(&span, "a distribution axis is sampled by a random search: add [search] method = \"random\" (and n_trials), or give a list");
            }
        }
    }

    /// `[search]`: `method = "grid"` (the default) or `"random"` with `n_trials` (default 10,
    /// scikit-learn's n_iter).
    fn search(&mut self, t: &Table<'_, '_>) -> Option<SearchConfig> {
        self.check_keys(t, &["method", "n_trials", "factor", "min_resources"]);
        let method = match self.string(t, "method") {
            None if t.get("method").is_some() => return None,
            None => "grid".to_string(),
            Some((m, span)) => match m.as_str() {
                "grid" | "random" | "halving" => {
                    self.remember("search.method", &span);
                    m
                }
                other => {
                    let hint = suggestion(other, ["grid", "random", "halving"]);
                    self.err(&span, format!("unknown search method `{other}` in [search]{hint}"));
                    return None;
                }
            },
        };
        for key in ["factor", "min_resources"] {
            if let (Some(v), false) = (t.get(key), method == "halving") {
                self.err(&v.span(), format!("`{key}` in [search] applies to method = \"halving\" only"));
                return None;
            }
        }
        if let (Some(v), false) = (t.get("n_trials"), method == "random") {
            self.err(&v.span(), "`n_trials` in [search] applies to method = \"random\" only");
            return None;
        }
        match method.as_str() {
            "halving" => self.halving(t),
            "random" => {
                let n = if t.get("n_trials").is_some() { self.integer(t, "n_trials", 1, 1_000_000) } else { Some(10) };
                Some(SearchConfig::Random { n_trials: n? as usize })
            }
            _ => Some(SearchConfig::Grid),
        }
    }

    /// `method = "halving"`: `factor` (default 3) and `min_resources` (`"exhaust"`, the
    /// default, `"smallest"` or a row count), as HalvingGridSearchCV.
    fn halving(&mut self, t: &Table<'_, '_>) -> Option<SearchConfig> {
        let factor = if t.get("factor").is_some() { self.integer(t, "factor", 2, 1000) } else { Some(3) };
        if let Some(v) = t.get("min_resources") {
            self.remember("search.min_resources", &v.span());
        }
        let min_resources = match t.get("min_resources") {
            None => Some(MinResources::Exhaust),
            Some(v) => match v.get_ref() {
                DeValue::String(s) if s == "exhaust" => Some(MinResources::Exhaust),
                DeValue::String(s) if s == "smallest" => Some(MinResources::Smallest),
                DeValue::Integer(_) => match int_of(v.get_ref()) {
                    Some(n) if n >= 1 => Some(MinResources::Rows(n as usize)),
                    _ => None,
                },
                _ => None,
            },
        };
        if min_resources.is_none() {
            if let Some(v) = t.get("min_resources") {
                self.err(
                    &v.span(),
                    "`min_resources` in [search] must be \"exhaust\", \"smallest\" or a row count >= 1",
                );
            }
        }
        Some(SearchConfig::Halving { factor: factor? as u32, min_resources: min_resources? })
    }

    fn model(&mut self, mut t: Table<'_, '_>, seen: &mut HashMap<String, Range<usize>>) -> Option<ModelConfig> {
        let name = self.model_name(&t, seen);
        if let Some(n) = &name {
            t.label = format!("[[model]] `{n}`");
        }
        let spec = self.model_kind(&t, name.as_deref().unwrap_or(""))?;
        let mut allowed: Vec<&str> = vec!["name", "kind", "grid"];
        allowed.extend(spec.params().map(|p| p.name));
        for (k, _) in t.inner.iter() {
            let key: &str = k.get_ref();
            if !allowed.contains(&key) {
                let hint = suggestion(key, allowed.iter().copied());
                let label = t.label.clone();
                self.err(&k.span(), format!("unknown key `{key}` in {label} (kind {}){hint}", spec.name()));
            }
        }
        let mut ok = true;
        let mut fixed = BTreeMap::new();
        for p in spec.params() {
            if let Some(v) = t.get(p.name) {
                match self.param(spec, p.name, v, &t.label) {
                    Some(value) => {
                        fixed.insert(p.name.to_string(), value);
                    }
                    None => ok = false,
                }
            }
        }
        let axes = match t.get("grid") {
            Some(g) => self.model_grid(spec, g, &fixed, &t.label),
            None => self.within_size(1, false, &t.span, &t.label).then(|| (Vec::new(), Vec::new())),
        };
        let (grid, distributions) = axes?;
        Some(ModelConfig { name: name?, kind: spec.kind, fixed: ok.then_some(fixed)?, grid, distributions })
    }

    /// A model's name: unique, and of characters that keep trial ids and plot files unique.
    fn model_name(&mut self, t: &Table<'_, '_>, seen: &mut HashMap<String, Range<usize>>) -> Option<String> {
        let (n, span) = self.required_string(t, "name")?;
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            self.err(
                &span,
                format!("model name `{n}` must be ASCII letters, digits, `-` and `_` (it names trials and plot files)"),
            );
        }
        if let Some(first) = seen.get(&n) {
            let (line, _) = self.d.source.line_col(first.start);
            self.err(
                &span,
                format!("duplicate model name `{n}` (first used on line {line}); model names must be unique"),
            );
        } else {
            seen.insert(n.clone(), span);
        }
        Some(n)
    }

    fn model_kind(&mut self, t: &Table<'_, '_>, name: &str) -> Option<&'static KindSpec> {
        let (k, span) = self.required_string(t, "kind")?;
        self.remember(&format!("model.{name}.kind"), &span);
        let spec = find(self.catalog, &k);
        if spec.is_none() {
            let kind_names: Vec<&str> = self.catalog.iter().map(|k| k.name()).collect();
            let hint = suggestion(&k, kind_names.iter().copied());
            let known = kind_names.join(", ");
            self.err(&span, format!("unknown model kind `{k}`{hint} (known kinds: {known}; see `runner models`)"));
        }
        spec
    }

    /// The grid axes, sorted by name (as scikit-learn's ParameterGrid).
    fn model_grid(
        &mut self,
        spec: &KindSpec,
        g: &Value<'_>,
        fixed: &BTreeMap<String, ParamValue>,
        model_label: &str,
    ) -> Option<GridAxes> {
        let label = format!("`grid` of {model_label}");
        let gt = self.table(g, label.clone())?;
        let mut grid = Vec::new();
        let mut distributions = Vec::new();
        let mut specs = Vec::new();
        let mut ok = true;
        for (axis, values) in gt.inner.iter() {
            let axis_name: &str = axis.get_ref();
            let Some(p) = spec.param(axis_name) else {
                let hint = suggestion(axis_name, spec.params().map(|p| p.name));
                let kind = spec.name();
                self.err(&axis.span(), format!("unknown parameter `{axis_name}` in {label} (kind {kind}){hint}"));
                ok = false;
                continue;
            };
            if fixed.contains_key(p.name) {
                self.err(&axis.span(), format!("`{axis_name}` is both fixed and swept in {model_label}; keep one"));
                ok = false;
                continue;
            }
            if let Some(d) = self.distribution_of(spec, p.name, values, model_label) {
                match d {
                    Some(d) => distributions.push((axis_name.to_string(), d)),
                    None => ok = false,
                }
                continue;
            }
            match self.axis_spec(spec, p.name, values, model_label) {
                Some(axis) => specs.push((axis_name, p.name, axis, values)),
                None => ok = false,
            }
        }
        // Counted from the axis lengths, before a generator's values exist (not when an axis
        // is invalid: the count would be wrong, and each axis is at most MAX_AXIS values).
        let size = specs.iter().fold(1u128, |n, a| n.saturating_mul(a.2.count()));
        if ok && !self.within_size(size, !distributions.is_empty(), &g.span(), &label) {
            return None;
        }
        for (axis_name, param, axis, values) in specs {
            match self.axis_values(spec, param, &axis, values, model_label) {
                Some(v) => grid.push((axis_name.to_string(), v)),
                None => ok = false,
            }
        }
        grid.sort_by(|a, b| a.0.cmp(&b.0));
        distributions.sort_by(|a, b| a.0.cmp(&b.0));
        ok.then_some((grid, distributions))
    }

    /// `{ uniform = [a, b] }`, `{ loguniform = [a, b] }` or `{ randint = [lo, hi] }`: `None`
    /// when the axis is not a distribution, `Some(None)` when it is one but invalid. Both
    /// ends must be valid values of the parameter.
    fn distribution_of(
        &mut self,
        spec: &KindSpec,
        name: &str,
        v: &Value<'_>,
        label: &str,
    ) -> Option<Option<Distribution>> {
        let DeValue::Table(t) = v.get_ref() else { return None };
        let (key, args) = t.iter().next()?;
        let kind: &str = key.get_ref();
        if t.len() != 1 || !["uniform", "loguniform", "randint"].contains(&kind) {
            return None;
        }
        let what = format!("grid.{name}.{kind}");
        let ends: Option<Vec<f64>> = match args.get_ref() {
            DeValue::Array(a) if a.len() == 2 => a.iter().map(|x| float_of(x.get_ref())).collect(),
            _ => None,
        };
        let bad = |p: &mut Self, why: &str| {
            p.err(&args.span(), format!("`{what}` in {label} {why}"));
            Some(None)
        };
        let Some([low, high]) = ends.as_deref().map(|e| [e[0], e[1]]) else {
            return bad(self, "must be an array of two numbers [low, high]");
        };
        if !(low < high) {
            return bad(self, "needs low < high");
        }
        let d = match kind {
            "uniform" => Distribution::Uniform { low, high },
            "loguniform" if low > 0.0 => Distribution::LogUniform { low, high },
            "loguniform" => return bad(self, "needs 0 < low"),
            _ if low.fract() != 0.0 || high.fract() != 0.0 || low.abs() > 9.0e15 || high.abs() > 9.0e15 => {
                return bad(self, "takes whole numbers [low, high) (high excluded, as scipy's randint)");
            }
            _ => Distribution::RandInt { low: low as i64, high: high as i64 },
        };
        // Every value drawn must be a valid parameter value: check both ends.
        let p = spec.param(name)?;
        let (first, last) = match d {
            Distribution::RandInt { low, high } => (ParamValue::Int(low), ParamValue::Int(high - 1)),
            _ => (ParamValue::Float(low), ParamValue::Float(high)),
        };
        for end in [first, last] {
            if let Err(why) = p.ty.check(&end) {
                return bad(self, &format!("reaches {end}: {why}"));
            }
        }
        self.distribution_spans.push(v.span());
        Some(Some(d))
    }

    fn param(&mut self, spec: &KindSpec, name: &str, v: &Value<'_>, label: &str) -> Option<ParamValue> {
        let p = spec.param(name)?;
        let Some(raw) = param_value_of(v.get_ref()) else {
            let found = type_name(v.get_ref());
            self.err(&v.span(), format!("`{name}` in {label} must be {}, found {found}", p.ty.expected()));
            return None;
        };
        match p.ty.check(&raw) {
            Ok(value) => Some(value),
            Err(why) => {
                self.err(&v.span(), format!("`{name}` in {label}: {why}"));
                None
            }
        }
    }

    /// Counts a model's `grid_size` trials (or random draws) in the size guard: false, with
    /// the error at `span`, once the grids plan more than `max_units` units.
    fn within_size(&mut self, grid_size: u128, has_distributions: bool, span: &Range<usize>, label: &str) -> bool {
        let Some(g) = &mut self.size else { return true };
        if g.refused {
            return false;
        }
        g.points = g.points.saturating_add(g.search.points(grid_size, has_distributions));
        let Some(why) = size_problem(g.points, g.folds, g.max_units) else { return true };
        g.refused = true;
        self.err(span, format!("{label}: {why}"));
        false
    }

    /// One grid axis as the file gives it: a list of values (each checked) or a generator.
    fn axis_spec(&mut self, spec: &KindSpec, name: &str, v: &Value<'_>, label: &str) -> Option<AxisSpec> {
        let what = format!("grid.{name}");
        let axis = match v.get_ref() {
            DeValue::Array(items) if items.is_empty() => {
                self.err(&v.span(), format!("`{what}` in {label} is empty: give at least one value"));
                return None;
            }
            DeValue::Array(items) => {
                let values: Vec<Option<ParamValue>> =
                    items.iter().map(|item| self.param(spec, name, item, label)).collect();
                AxisSpec::List(values.into_iter().collect::<Option<Vec<_>>>()?)
            }
            DeValue::Table(gen) => self.generator(gen, v, &what, label)?,
            other => {
                let found = type_name(other);
                let message =
                    format!("`{what}` in {label} must be a list of values or a generator table, found {found}");
                self.err(&v.span(), message);
                return None;
            }
        };
        Some(axis)
    }

    /// An axis's values, every value checked and distinct.
    fn axis_values(
        &mut self,
        spec: &KindSpec,
        name: &str,
        axis: &AxisSpec,
        v: &Value<'_>,
        label: &str,
    ) -> Option<Vec<ParamValue>> {
        let what = format!("grid.{name}");
        let values = expand_axis(axis);
        if values.is_empty() {
            self.err(&v.span(), format!("`{what}` in {label} produces no values"));
            return None;
        }
        let p = spec.param(name)?;
        let mut checked: Vec<ParamValue> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for value in values {
            match p.ty.check(&value) {
                // `1` and `1.0` are one value and would be one trial id.
                Ok(x) if !seen.insert(x.to_string()) => {
                    let message =
                        format!("`{what}` in {label} repeats the value {x}: each grid value must be distinct");
                    self.err(&v.span(), message);
                    return None;
                }
                Ok(x) => checked.push(x),
                Err(why) => {
                    self.err(&v.span(), format!("`{what}` in {label}: {why}"));
                    return None;
                }
            }
        }
        Some(checked)
    }

    /// `{ logspace = [start, stop, num] }`, `{ linspace = [...] }` or `{ range = [start, stop, step] }`.
    fn generator(&mut self, gen: &DeTable<'_>, v: &Value<'_>, what: &str, label: &str) -> Option<AxisSpec> {
        const GENERATORS: [&str; 3] = ["logspace", "linspace", "range"];
        let keys: Vec<&str> = gen.iter().map(|(k, _)| -> &str { k.get_ref() }).collect();
        let [generator] = keys.as_slice() else {
            self.err(&v.span(), format!("`{what}` in {label} must be a list or exactly one of {{ logspace = [start, stop, num] }}, {{ linspace = [...] }}, {{ range = [start, stop, step] }}"));
            return None;
        };
        let generator = generator.to_string();
        if !GENERATORS.contains(&generator.as_str()) {
            let hint = suggestion(&generator, GENERATORS);
            let message = format!(
                "unknown grid generator `{generator}` in `{what}` of {label}{hint} (generators: logspace, linspace, \
                 range; a random search also samples uniform, loguniform and randint)"
            );
            self.err(&v.span(), message);
            return None;
        }
        let args = gen.get(generator.as_str())?;
        let nums: Option<Vec<f64>> = match args.get_ref() {
            DeValue::Array(a) if a.len() == 3 => a.iter().map(|x| float_of(x.get_ref())).collect(),
            _ => None,
        };
        let Some(nums) = nums else {
            self.err(&args.span(), format!("`{what}.{generator}` in {label} must be an array of three numbers"));
            return None;
        };
        let too_many = |p: &mut Self, count: f64| {
            p.err(
                &args.span(),
                format!("`{what}.{generator}` in {label} gives {count} values; an axis gives at most {MAX_AXIS}"),
            );
            None
        };
        if generator == "range" {
            if nums.iter().any(|x| x.fract() != 0.0) || nums[2] == 0.0 {
                let message =
                    format!("`{what}.range` in {label} takes whole numbers [start, stop, step] with step != 0");
                self.err(&args.span(), message);
                return None;
            }
            // Checked in f64 before any i64 arithmetic can overflow.
            if nums.iter().any(|x| x.abs() > 9.007e15) {
                self.err(&args.span(), format!("`{what}.range` in {label} must stay within ±2^53"));
                return None;
            }
            let count = ((nums[1] - nums[0]) / nums[2]).ceil();
            if count > MAX_AXIS as f64 {
                return too_many(self, count);
            }
            return Some(AxisSpec::Range { start: nums[0] as i64, stop: nums[1] as i64, step: nums[2] as i64 });
        }
        if !(nums[2] >= 1.0 && nums[2].fract() == 0.0) {
            self.err(
                &args.span(),
                format!(
                    "the third number of `{what}.{generator}` in {label} is a count and must be a whole number >= 1"
                ),
            );
            return None;
        }
        if nums[2] > MAX_AXIS as f64 {
            return too_many(self, nums[2]);
        }
        let (start, stop, num) = (nums[0], nums[1], nums[2] as usize);
        Some(match generator.as_str() {
            "logspace" => AxisSpec::Logspace { start, stop, num },
            _ => AxisSpec::Linspace { start, stop, num },
        })
    }

    fn report(&mut self, t: &Table<'_, '_>) -> Option<ReportConfig> {
        self.check_keys(
            t,
            &[
                "dir",
                "formats",
                "metrics",
                "rank_by",
                "permutation_importance",
                "permutation_max_samples",
                "predictions",
                "refit",
                "learning_curve",
                "learning_curve_shuffle",
            ],
        );
        let learning_curve_shuffle = self.flag(t, "learning_curve_shuffle", false);
        let learning_curve = match t.get("learning_curve") {
            Some(v) => self.learning_curve(v),
            None => Some(Vec::new()),
        };
        let refit = self.flag(t, "refit", true);
        let predictions = match t.get("predictions") {
            Some(_) => self.choice::<PredictionsScope>(t, "predictions"),
            None => Some(PredictionsScope::Best),
        };
        let max_samples = match t.get("permutation_max_samples") {
            Some(v) => self.max_samples(v).map(Some),
            None => Some(None),
        };
        let permutation_importance = self.flag(t, "permutation_importance", true);
        let dir = self.string(t, "dir").map(|(d, _)| std::path::PathBuf::from(d));
        let formats = match self.string_list(t, "formats") {
            Some((list, span)) => self.words::<Format>(&list, &span, "report format"),
            None if t.get("formats").is_some() => None,
            None => Some(DEFAULT_FORMATS.to_vec()),
        };
        let (metrics, rank_by) = self.report_metrics(t);
        Some(ReportConfig {
            refit: refit?,
            learning_curve: learning_curve?,
            learning_curve_shuffle: learning_curve_shuffle?,
            dir,
            formats: formats?,
            metrics: metrics?,
            rank_by: rank_by?,
            permutation_importance: permutation_importance?,
            permutation_max_samples: max_samples?,
            predictions: predictions?,
        })
    }

    /// A boolean key with its default.
    fn flag(&mut self, t: &Table<'_, '_>, key: &str, default: bool) -> Option<bool> {
        match t.get(key) {
            Some(_) => self.boolean(t, key),
            None => Some(default),
        }
    }

    /// `[report] metrics` and `rank_by` (each `Some(None)` when not given).
    #[allow(clippy::type_complexity)]
    fn report_metrics(&mut self, t: &Table<'_, '_>) -> (Option<Option<Vec<Metric>>>, Option<Option<Metric>>) {
        let metrics = match self.string_list(t, "metrics") {
            Some((list, span)) => {
                self.remember("report.metrics", &span);
                let metrics = self.words::<Metric>(&list, &span, "metric");
                if list.is_empty() {
                    self.err(&span, "`metrics` in [report] is empty");
                    None
                } else {
                    metrics.map(Some)
                }
            }
            None if t.get("metrics").is_some() => None,
            None => Some(None),
        };
        let rank_by = match self.string(t, "rank_by") {
            Some((m, span)) => {
                self.remember("report.rank_by", &span);
                let metric = Metric::from_name(&m);
                if metric.is_none() {
                    let hint = suggestion(&m, Metric::VARIANTS.iter().map(|&m| m.name()));
                    self.err(&span, format!("unknown metric `{m}` in `rank_by` of [report]{hint}"));
                }
                metric.map(Some)
            }
            None if t.get("rank_by").is_some() => None,
            None => Some(None),
        };
        (metrics, rank_by)
    }

    /// `learning_curve`: training sizes, each a fraction in (0, 1] of each fold's training
    /// part or a row count >= 1, as scikit-learn's `learning_curve(train_sizes=...)`.
    fn learning_curve(&mut self, v: &Value<'_>) -> Option<Vec<Rows>> {
        self.remember("report.learning_curve", &v.span());
        let DeValue::Array(items) = v.get_ref() else {
            let found = type_name(v.get_ref());
            self.err(
                &v.span(),
                format!("`learning_curve` in [report] must be a list of fractions or row counts, found {found}"),
            );
            return None;
        };
        if items.is_empty() {
            self.err(&v.span(), "`learning_curve` in [report] is empty: list training sizes such as [0.1, 0.55, 1.0]");
            return None;
        }
        let mut sizes = Vec::with_capacity(items.len());
        for item in items.iter() {
            match self.rows_of(item) {
                Some(r) => sizes.push(r),
                None => self.err(
                    &item.span(),
                    "a `learning_curve` size must be a fraction in (0, 1] or a row count >= 1, as scikit-learn's train_sizes",
                ),
            }
        }
        (sizes.len() == items.len()).then_some(sizes)
    }

    /// A row count >= 1 or a fraction in (0, 1].
    fn rows_of(&mut self, v: &Value<'_>) -> Option<Rows> {
        match v.get_ref() {
            DeValue::Integer(_) => int_of(v.get_ref()).filter(|&n| n >= 1).map(|n| Rows::Count(n as usize)),
            DeValue::Float(_) => float_of(v.get_ref()).filter(|&x| x > 0.0 && x <= 1.0).map(Rows::Fraction),
            _ => None,
        }
    }

    /// `permutation_max_samples`: a row count >= 1 or a fraction in (0, 1].
    fn max_samples(&mut self, v: &Value<'_>) -> Option<Rows> {
        if let Some(rows) = self.rows_of(v) {
            return Some(rows);
        }
        self.err(
            &v.span(),
            "`permutation_max_samples` in [report] must be a row count >= 1 or a fraction in (0, 1], as scikit-learn's max_samples",
        );
        None
    }

    /// A list of an enum's words (`formats = ["md", "json"]`); every unknown word is an error.
    fn words<T>(&mut self, list: &[String], span: &Range<usize>, what: &str) -> Option<Vec<T>>
    where
        T: Copy + VariantArray + Into<&'static str>,
    {
        let names: Vec<&str> = T::VARIANTS.iter().map(|&v| v.into()).collect();
        let mut ok = true;
        let mut out = Vec::new();
        for word in list {
            match T::VARIANTS.iter().find(|v| Into::<&str>::into(**v) == word) {
                Some(v) => out.push(*v),
                None => {
                    let hint = suggestion(word, names.iter().copied());
                    self.err(span, format!("unknown {what} `{word}` in [report] ({}){hint}", names.join(", ")));
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}
