//! `[dataset]`: the data file, its target and columns.

use super::reader::{keys, type_name, Cx, Reader, Value};
use super::{DatasetConfig, Streaming, Task};
use crate::suggest::suggestion;
use std::path::Path;
use toml::de::DeValue;

keys! {
    /// The keys of `[dataset]`.
    pub enum DatasetKey {
        Path = "path": Str, Required, "CSV, Parquet or NDJSON, relative to the experiment file.";
        Target = "target": Str, Required, "";
        Task = "task": Choice(words::<Task>), Absent, "Required when the target holds integers.";
        Features = "features": StrList, Absent, "";
        Exclude = "exclude": StrList, Absent, "";
        Categorical = "categorical": StrList, Absent, "";
        Missing = "missing": StrList, Words(&["", "NA", "NaN", "null"]), "";
        Weight = "weight": Str, Absent,
            "A column of sample weights (non-negative numbers, not a feature): fitting and metrics take them as scikit-learn's sample_weight.";
        Streaming = "streaming": Streaming, Word("auto"),
            "Stream the file from disk (true), load it (false), or stream when it would not fit in --memory-budget (auto).";
    }
}

pub(super) fn dataset(cx: &Cx<'_>, v: &Value<'_>, base_dir: &Path) -> Option<DatasetConfig> {
    let mut r = Reader::of(cx, v, "[dataset]", Into::into)?;
    let path = r.required::<String>(DatasetKey::Path);
    if let Some(p) = &path {
        let lower = p.to_ascii_lowercase();
        if ![".csv", ".parquet", ".ndjson", ".jsonl"].iter().any(|ext| lower.ends_with(ext)) {
            let span = r.value(DatasetKey::Path).map(|v| v.span()).unwrap_or(r.span.clone());
            r.err(DatasetKey::Path, &span, &format!("must end in .csv, .parquet, .ndjson or .jsonl, found `{p}`"));
        }
    }
    let target = r.required::<String>(DatasetKey::Target);
    let task = r.optional_choice::<Task>(DatasetKey::Task);
    let features = r.optional::<Vec<String>>(DatasetKey::Features);
    let exclude = r.optional::<Vec<String>>(DatasetKey::Exclude);
    let categorical = r.optional::<Vec<String>>(DatasetKey::Categorical);
    let missing = r.or_default::<Vec<String>>(DatasetKey::Missing);
    let weight = r.optional::<String>(DatasetKey::Weight);
    let streaming = streaming(&mut r);
    let path_as_written = path?;
    Some(DatasetConfig {
        path: base_dir.join(&path_as_written),
        path_as_written,
        target: target?,
        task: task?,
        features: features?,
        exclude: exclude?.unwrap_or_default(),
        categorical: categorical?.unwrap_or_default(),
        missing: missing?,
        weight: weight?,
        streaming: streaming?,
    })
}

/// `streaming = true | false | "auto"` (the default).
fn streaming(r: &mut Reader<'_, '_, DatasetKey>) -> Option<Streaming> {
    let Some(v) = r.value(DatasetKey::Streaming) else { return Some(Streaming::Auto) };
    match v.get_ref() {
        DeValue::Boolean(true) => Some(Streaming::Always),
        DeValue::Boolean(false) => Some(Streaming::Never),
        DeValue::String(s) if s == "auto" => Some(Streaming::Auto),
        other => {
            let (found, hint) = match other {
                DeValue::String(s) => (format!("`{s}`"), suggestion(s, ["auto", "true", "false"])),
                other => (type_name(other).to_string(), String::new()),
            };
            r.err(DatasetKey::Streaming, &v.span(), &format!("must be true, false or \"auto\", found {found}{hint}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{errors, parse, HEAD, MODEL};
    use super::*;

    #[test]
    fn a_minimal_dataset_takes_the_defaults() {
        let e = parse(&format!("{HEAD}{MODEL}")).unwrap();
        let d = &e.dataset;
        assert_eq!((d.path_as_written.as_str(), d.target.as_str()), ("data.csv", "y"));
        assert_eq!((d.task, d.features.clone(), d.exclude.len(), d.categorical.len()), (None, None, 0, 0));
        assert_eq!(d.missing, ["", "NA", "NaN", "null"]);
        assert_eq!(d.streaming, Streaming::Auto);
    }

    #[test]
    fn a_full_dataset_reads_every_key() {
        let text = "name = \"t\"\n[dataset]\npath = \"d.parquet\"\ntarget = \"y\"\ntask = \"classification\"\n\
                    features = [\"a\", \"b\"]\nexclude = [\"b\"]\ncategorical = [\"a\"]\nmissing = [\"?\"]\n\
                    weight = \"w\"\nstreaming = true\n";
        let e = parse(&format!("{text}{MODEL}")).unwrap();
        let d = &e.dataset;
        assert_eq!(d.task, Some(Task::Classification));
        assert_eq!(d.features.as_deref(), Some(&["a".to_string(), "b".to_string()][..]));
        assert_eq!(
            (d.exclude.clone(), d.categorical.clone(), d.missing.clone()),
            (vec!["b".into()], vec!["a".into()], vec!["?".into()])
        );
        assert_eq!(d.streaming, Streaming::Always);
        assert_eq!(d.weight.as_deref(), Some("w"));
    }

    #[test]
    fn a_missing_path_is_located_at_the_table() {
        let e = errors(&format!("name = \"t\"\n[dataset]\ntarget = \"y\"\n{MODEL}"));
        assert_eq!(e, ["exp.toml:2:1: [dataset] is missing the required key `path`"]);
    }

    #[test]
    fn a_path_must_name_a_known_format() {
        let e = errors(&format!("name = \"t\"\n[dataset]\npath = \"d.xls\"\ntarget = \"y\"\n{MODEL}"));
        assert_eq!(
            e,
            ["exp.toml:3:8: `path` in [dataset] must end in .csv, .parquet, .ndjson or .jsonl, found `d.xls`"]
        );
    }

    #[test]
    fn a_list_of_numbers_names_each_item() {
        let e = errors(&format!("{HEAD}features = [\"a\", 1, 2.0]\n{MODEL}"));
        assert_eq!(
            e,
            [
                "exp.toml:5:18: `features` in [dataset] must hold strings, found an integer",
                "exp.toml:5:21: `features` in [dataset] must hold strings, found a float",
            ]
        );
    }

    #[test]
    fn streaming_takes_a_boolean_or_auto() {
        let e = errors(&format!("{HEAD}streaming = \"aut\"\n{MODEL}"));
        assert_eq!(e, ["exp.toml:5:13: `streaming` in [dataset] must be true, false or \"auto\", found `aut`, did you mean `auto`?"]);
    }

    #[test]
    fn a_task_must_be_one_of_the_tasks() {
        let e = errors(&format!("{HEAD}task = \"regresion\"\n{MODEL}"));
        assert_eq!(
            e,
            ["exp.toml:5:8: `task` in [dataset] must be one of regression, classification; `regresion` is not, did you mean `regression`?"]
        );
    }

    #[test]
    fn an_unknown_key_gets_a_did_you_mean() {
        let e = errors(&format!("{HEAD}targt = \"y\"\n{MODEL}"));
        assert_eq!(e, ["exp.toml:5:1: unknown key `targt` in [dataset], did you mean `target`?"]);
    }
}
