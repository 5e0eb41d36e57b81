//! `runner schema`: a JSON Schema (draft-07) of the experiment file, for editors (taplo /
//! Even Better TOML, or any JSON-Schema tool). The model kinds, their parameters, types,
//! ranges, defaults and help come from the catalog that validates the file; the sections'
//! keys and words from the config enums. The parser stays the authority (it also checks
//! what a schema cannot, such as the data); the schema catches typos and types as you type.

use crate::config::{Format, Impute, Metric, PredictionsScope, Scale, SplitMethod, Task};
use crate::kinds::KINDS;
use crate::spec::value::{DefaultValue, ParamSpec, ParamType};
use serde_json::{json, Map, Value};
use strum::VariantArray;

fn words<T: Copy + VariantArray + Into<&'static str>>() -> Value {
    json!(T::VARIANTS.iter().map(|&v| v.into()).collect::<Vec<&str>>())
}

/// A table that allows only the given properties.
fn table(description: &str, properties: Value) -> Value {
    json!({ "type": "object", "description": description, "additionalProperties": false, "properties": properties })
}

/// The schema, pretty-printed with a trailing newline (what `runner schema` prints and
/// docs/experiment.schema.json holds).
pub fn schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

pub fn schema() -> Value {
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/runner-ml/runner/docs/experiment.schema.json",
        "title": "runner experiment file",
        "description": "One experiment: dataset, preprocessing, split, search, models and report (docs/SPEC.md).",
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "dataset", "model"],
        "definitions": { "generator": generators() },
        "properties": {
            "name": { "type": "string", "pattern": "^[A-Za-z0-9_-]+$", "description": "Names the report folder." },
            "description": { "type": "string" },
            "seed": { "type": "integer", "minimum": 0, "maximum": 4294967295_u64, "default": 0,
                      "description": "numpy's random_state for splits; every other stream derives from (seed, trial, fold)." },
            "max_units": { "type": "integer", "minimum": 1, "default": 1000000 },
            "dataset": dataset(),
            "preprocess": preprocess(),
            "split": split(true),
            "search": search(),
            "model": { "type": "array", "minItems": 1, "items": { "anyOf": KINDS.iter().map(model).collect::<Vec<_>>() } },
            "report": report(),
        }
    })
}

fn dataset() -> Value {
    let list = json!({ "type": "array", "items": { "type": "string" } });
    let mut t = table(
        "The data file and its target.",
        json!({
            "path": { "type": "string", "description": "CSV, Parquet or NDJSON, relative to the experiment file." },
            "target": { "type": "string" },
            "task": { "enum": words::<Task>(), "description": "Required when the target holds integers." },
            "features": list, "exclude": list, "categorical": list,
            "missing": { "type": "array", "items": { "type": "string" }, "default": ["", "NA", "NaN", "null"] },
            "streaming": {
                "anyOf": [{ "type": "boolean" }, { "const": "auto" }],
                "default": "auto",
                "description": "Stream the file from disk (true), load it (false), or stream when it would not fit in --memory-budget (auto)."
            },
        }),
    );
    t["required"] = json!(["path", "target"]);
    t
}

fn column_rule() -> Value {
    json!({
        "impute": { "enum": words::<Impute>(), "default": "error" },
        "fill_value": { "type": ["number", "string"], "description": "For impute = \"constant\"." },
        "scale": { "enum": words::<Scale>(), "default": "none" },
    })
}

fn preprocess() -> Value {
    let mut props = column_rule();
    props["one_hot"] =
        table("How categorical columns are encoded.", json!({ "drop_first": { "type": "boolean", "default": false } }));
    props["columns"] = json!({
        "type": "object",
        "description": "Per-column impute / fill_value / scale.",
        "additionalProperties": table("One column's rule.", column_rule()),
    });
    table("Fitted on each training part only.", props)
}

fn split(with_outer: bool) -> Value {
    let mut props = json!({
        "method": { "enum": words::<SplitMethod>(), "default": "holdout" },
        "test_size": { "type": "number", "exclusiveMinimum": 0, "description": "holdout: a fraction in (0, 1) or a row count; timeseries: rows per test fold." },
        "folds": { "type": "integer", "minimum": 2, "default": 5 },
        "shuffle": { "type": "boolean" },
        "stratify": { "type": "boolean", "default": false },
        "repeats": { "type": "integer", "minimum": 1, "default": 1 },
        "group": { "type": "string", "description": "group_kfold: the group column." },
        "column": { "type": "string", "description": "column: train/test or fold ids." },
        "max_train_size": { "type": "integer", "minimum": 1 },
        "gap": { "type": "integer", "minimum": 0, "default": 0 },
    });
    if with_outer {
        props["outer"] = split(false);
    }
    table("Which rows train and which test, per fold.", props)
}

fn search() -> Value {
    table(
        "How each model's trials are chosen.",
        json!({
            "method": { "enum": ["grid", "random", "halving"], "default": "grid" },
            "n_trials": { "type": "integer", "minimum": 1, "default": 10 },
            "factor": { "type": "integer", "minimum": 2, "default": 3 },
            "min_resources": { "anyOf": [{ "enum": ["exhaust", "smallest"] }, { "type": "integer", "minimum": 1 }], "default": "exhaust" },
        }),
    )
}

fn report() -> Value {
    let rows = json!({ "anyOf": [{ "type": "integer", "minimum": 1 }, { "type": "number", "exclusiveMinimum": 0, "maximum": 1 }] });
    table(
        "What the report holds.",
        json!({
            "dir": { "type": "string" },
            "formats": { "type": "array", "items": { "enum": words::<Format>() } },
            "metrics": { "type": "array", "minItems": 1, "items": { "enum": words::<Metric>() } },
            "rank_by": { "enum": words::<Metric>() },
            "permutation_importance": { "type": "boolean", "default": true },
            "permutation_max_samples": rows,
            "predictions": { "enum": words::<PredictionsScope>(), "default": "best" },
            "refit": { "type": "boolean", "default": true },
            "learning_curve": { "type": "array", "minItems": 1, "items": rows },
            "learning_curve_shuffle": { "type": "boolean", "default": false },
        }),
    )
}

/// One parameter's values.
fn param_type(ty: &ParamType) -> Value {
    match *ty {
        ParamType::Float { min, max, min_exclusive } => {
            let mut v = json!({ "type": "number" });
            if min.is_finite() {
                v[if min_exclusive { "exclusiveMinimum" } else { "minimum" }] = json!(min);
            }
            if max.is_finite() {
                v["maximum"] = json!(max);
            }
            v
        }
        ParamType::Int { min, max } if max == i64::MAX => json!({ "type": "integer", "minimum": min }),
        ParamType::Int { min, max } => json!({ "type": "integer", "minimum": min, "maximum": max }),
        ParamType::Bool => json!({ "type": "boolean" }),
        ParamType::Choice(options) => json!({ "enum": options }),
        ParamType::PositiveOr(word) => {
            json!({ "anyOf": [{ "type": "number", "exclusiveMinimum": 0 }, { "const": word }] })
        }
        ParamType::IntList { min, max } => {
            let item = json!({ "type": "integer", "minimum": min, "maximum": max });
            json!({ "anyOf": [{ "type": "array", "minItems": 1, "items": item }, item] })
        }
    }
}

fn default_of(d: DefaultValue) -> Value {
    match d {
        DefaultValue::F(x) => json!(x),
        DefaultValue::I(i) => json!(i),
        DefaultValue::B(b) => json!(b),
        DefaultValue::S(s) => json!(s),
        DefaultValue::L(l) => json!(l),
    }
}

/// The generator and distribution tables a grid axis may be (shared by every axis).
fn generators() -> Value {
    let pair = json!({ "type": "array", "items": { "type": "number" }, "minItems": 2, "maxItems": 2 });
    let triple = json!({ "type": "array", "items": { "type": "number" }, "minItems": 3, "maxItems": 3 });
    let one = |key: &str, args: &Value| json!({ "type": "object", "additionalProperties": false, "required": [key], "properties": { key: args } });
    json!({ "anyOf": [
        one("logspace", &triple), one("linspace", &triple), one("range", &triple),
        one("uniform", &pair), one("loguniform", &pair), one("randint", &pair),
    ] })
}

/// A grid axis: a list of values, or a generator / distribution table.
fn axis(p: &ParamSpec) -> Value {
    json!({ "anyOf": [
        { "type": "array", "minItems": 1, "items": param_type(&p.ty) },
        { "$ref": "#/definitions/generator" },
    ], "description": p.help })
}

/// One `[[model]]` of a kind: its name, kind, fixed parameters and grid axes.
fn model(kind: &crate::spec::catalog::KindSpec) -> Value {
    let mut props = Map::new();
    props.insert("name".into(), json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]+$" }));
    props.insert("kind".into(), json!({ "const": kind.name(), "description": kind.summary }));
    let mut grid = Map::new();
    for p in kind.params() {
        let mut v = param_type(&p.ty);
        v["description"] = json!(p.help);
        v["default"] = default_of(kind.default_of(p));
        props.insert(p.name.into(), v);
        grid.insert(p.name.into(), axis(p));
    }
    props.insert("grid".into(), json!({ "type": "object", "additionalProperties": false, "properties": grid }));
    json!({
        "type": "object",
        "title": kind.name(),
        "additionalProperties": false,
        "required": ["name", "kind"],
        "properties": props,
    })
}
