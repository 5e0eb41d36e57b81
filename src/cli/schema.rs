//! `runner schema`: a JSON Schema (draft-07) of the experiment file, for editors (taplo /
//! Even Better TOML, or any JSON-Schema tool). The model kinds, their parameters, types,
//! ranges, defaults and help come from the catalog that validates the file; the sections'
//! keys, types, ranges, defaults and help from the config's key declarations (`keys!`). The parser stays the authority (it also checks
//! what a schema cannot, such as the data); the schema catches typos and types as you type.

use crate::config::reader::{KeyDecl, KeyDefault, Section, Ty};
use crate::config::{
    ColumnKey, DatasetKey, ModelKey, OneHotKey, PreprocessKey, ReportKey, SearchKey, SplitKey, TopKey,
};
use crate::kinds::KINDS;
use crate::preprocess::steps::target::TargetParams;
use crate::preprocess::steps::STEPS;
use crate::spec::catalog::TaskSupport;
use crate::spec::value::{DefaultValue, ParamSpec, ParamType};
use serde_json::{json, Map, Value};

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
    let (properties, required) = properties(|k: TopKey| match k {
        TopKey::Dataset => Some(section::<DatasetKey>("The data file and its target.", |_| None)),
        TopKey::Preprocess => Some(preprocess()),
        TopKey::Split => Some(split(true)),
        TopKey::Search => Some(section::<SearchKey>("How each model's trials are chosen.", |_| None)),
        TopKey::Model => Some(
            json!({ "type": "array", "minItems": 1, "items": { "anyOf": KINDS.iter().map(model).collect::<Vec<_>>() } }),
        ),
        TopKey::Report => Some(section::<ReportKey>("What the report holds.", |_| None)),
        TopKey::Name | TopKey::Description | TopKey::Seed | TopKey::MaxUnits => None,
    });
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/runner-ml/runner/docs/experiment.schema.json",
        "title": "runner experiment file",
        "description": "One experiment: dataset, preprocessing, split, search, models and report (docs/SPEC.md).",
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "definitions": definitions(),
        "properties": properties,
    })
}

/// A section's keys as properties (a table key's from `sub`), and the required ones.
fn properties<K: Section>(sub: impl Fn(K) -> Option<Value>) -> (Map<String, Value>, Vec<&'static str>) {
    let mut props = Map::new();
    let mut required = Vec::new();
    for &k in K::ALL {
        let d = k.decl();
        props.insert(d.name.into(), sub(k).unwrap_or_else(|| property(&d)));
        if d.default == KeyDefault::Required {
            required.push(d.name);
        }
    }
    (props, required)
}

/// A section's table.
fn section<K: Section>(description: &str, sub: impl Fn(K) -> Option<Value>) -> Value {
    let (props, required) = properties(sub);
    let mut t = table(description, Value::Object(props));
    if !required.is_empty() {
        t["required"] = json!(required);
    }
    t
}

/// A row count >= 1 or a fraction in (0, 1].
fn sample_size() -> Value {
    json!({ "anyOf": [{ "type": "integer", "minimum": 1 }, { "type": "number", "exclusiveMinimum": 0, "maximum": 1 }] })
}

/// One declared key: its type, default and help.
fn property(d: &KeyDecl) -> Value {
    let mut v = match d.ty {
        Ty::Str => json!({ "type": "string" }),
        Ty::Name => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]+$" }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Int { min, max } => param_type(&ParamType::Int { min, max }),
        Ty::Choice(words) => json!({ "enum": words() }),
        Ty::StrList => json!({ "type": "array", "items": { "type": "string" } }),
        Ty::ChoiceList { words, min_items } => {
            let mut v = json!({ "type": "array" });
            if min_items > 0 {
                v["minItems"] = json!(min_items);
            }
            v["items"] = json!({ "enum": words() });
            v
        }
        Ty::Streaming => json!({ "anyOf": [{ "type": "boolean" }, { "const": "auto" }] }),
        Ty::FillValue => json!({ "type": ["number", "string"] }),
        Ty::TestSize => json!({ "type": "number", "exclusiveMinimum": 0 }),
        Ty::MinResources => {
            json!({ "anyOf": [{ "enum": ["exhaust", "smallest"] }, { "type": "integer", "minimum": 1 }] })
        }
        Ty::SampleSize => sample_size(),
        Ty::SampleSizes => json!({ "type": "array", "minItems": 1, "items": sample_size() }),
        // Described by their sections.
        Ty::Table | Ty::Models => json!({ "type": "object" }),
    };
    match d.default {
        KeyDefault::Num(i) => v["default"] = json!(i),
        KeyDefault::Flag(b) => v["default"] = json!(b),
        KeyDefault::Word(w) => v["default"] = json!(w),
        KeyDefault::Words(l) => v["default"] = json!(l),
        KeyDefault::Required | KeyDefault::Absent => {}
    }
    if !d.help.is_empty() {
        v["description"] = json!(d.help);
    }
    v
}

fn preprocess() -> Value {
    section::<PreprocessKey>("Fitted on each training part only.", |k| match k {
        PreprocessKey::OneHot => Some(section::<OneHotKey>(k.decl().help, |_| None)),
        PreprocessKey::Columns => Some(json!({
            "type": "object",
            "description": k.decl().help,
            "additionalProperties": section::<ColumnKey>("One column's rule.", |_| None),
        })),
        PreprocessKey::Impute | PreprocessKey::FillValue | PreprocessKey::Scale => None,
    })
}

fn split(with_outer: bool) -> Value {
    let mut t = section::<SplitKey>("Which rows train and which test, per fold.", |k| match k {
        SplitKey::Outer if with_outer => Some(split(false)),
        _ => None,
    });
    if !with_outer {
        if let Some(props) = t["properties"].as_object_mut() {
            props.remove("outer");
        }
    }
    t
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
        // A choice with the words true and false also takes the booleans (`early_stopping`).
        ParamType::Choice(options) if options.contains(&"true") => {
            json!({ "anyOf": [{ "enum": options }, { "type": "boolean" }] })
        }
        ParamType::Choice(options) => json!({ "enum": options }),
        ParamType::PositiveOr(words) => {
            json!({ "anyOf": [{ "type": "number", "exclusiveMinimum": 0 }, { "enum": words }] })
        }
        ParamType::CountOrShare(words) => json!({ "anyOf": [
            { "type": "integer", "minimum": 1 },
            { "type": "number", "exclusiveMinimum": 0, "maximum": 1 },
            { "enum": words },
        ] }),
        ParamType::ChoiceOrWeights(words) => {
            let weights = json!({ "type": "object", "minProperties": 1,
                "additionalProperties": { "type": "number", "exclusiveMinimum": 0 } });
            json!({ "anyOf": [{ "enum": words }, weights] })
        }
        ParamType::IntList { min, max } => {
            let item = json!({ "type": "integer", "minimum": min, "maximum": max });
            json!({ "anyOf": [{ "type": "array", "minItems": 1, "items": item }, item] })
        }
        ParamType::Quantiles => {
            let item = json!({ "type": "number", "minimum": 0, "maximum": 100 });
            json!({ "type": "array", "minItems": 2, "maxItems": 2, "items": item })
        }
        ParamType::Names => json!({ "type": "array", "items": { "type": "string" } }),
    }
}

fn default_of(d: DefaultValue) -> Value {
    match d {
        DefaultValue::F(x) => json!(x),
        DefaultValue::I(i) => json!(i),
        DefaultValue::B(b) => json!(b),
        DefaultValue::S(s) => json!(s),
        DefaultValue::L(l) => json!(l),
        DefaultValue::FL(l) => json!(l),
        DefaultValue::SL(l) => json!(l),
    }
}

/// The shared definitions: grid generators, the step list, each step's table and axes.
fn definitions() -> Value {
    let mut defs = Map::new();
    defs.insert("generator".into(), generators());
    let step_names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
    let steps_help = "the model's own preprocessing steps, applied in this order after [preprocess]";
    defs.insert("steps".into(), json!({ "type": "array", "items": { "enum": step_names }, "description": steps_help }));
    for step in STEPS {
        let mut params = Map::new();
        for p in step.params {
            let mut v = param_type(&p.ty);
            v["description"] = json!(p.help);
            v["default"] = default_of(p.default);
            params.insert(p.name.into(), v);
            defs.insert(format!("axis.{}.{}", step.name, p.name), axis(p));
        }
        let table = json!({ "type": "object", "additionalProperties": false, "properties": params, "description": step.summary });
        defs.insert(format!("step.{}", step.name), table);
    }
    Value::Object(defs)
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
    props.insert("name".into(), property(&ModelKey::Name.decl()));
    props.insert("kind".into(), json!({ "const": kind.name(), "description": kind.summary }));
    let mut grid = Map::new();
    // A regression kind's target transform reads as its parameters do.
    let target = (kind.task != TaskSupport::Classification).then_some(&TargetParams::SPECS[0]);
    for p in kind.params().chain(target) {
        let mut v = param_type(&p.ty);
        v["description"] = json!(p.help);
        v["default"] = default_of(kind.default_of(p));
        props.insert(p.name.into(), v);
        grid.insert(p.name.into(), axis(p));
    }
    // Every kind takes the same steps: their tables and axes are shared definitions.
    props.insert("steps".into(), json!({ "$ref": "#/definitions/steps" }));
    for step in STEPS {
        props.insert(step.name.into(), json!({ "$ref": format!("#/definitions/step.{}", step.name) }));
        for p in step.params {
            let name = format!("{}.{}", step.name, p.name);
            grid.insert(name.clone(), json!({ "$ref": format!("#/definitions/axis.{name}") }));
        }
    }
    props.insert("grid".into(), json!({ "type": "object", "additionalProperties": false, "properties": grid }));
    json!({
        "type": "object",
        "title": kind.name(),
        "additionalProperties": false,
        "required": [ModelKey::Name.decl().name, ModelKey::Kind.decl().name],
        "properties": props,
    })
}
