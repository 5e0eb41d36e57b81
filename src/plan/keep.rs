//! `impute = "keep"` against the models and the data. A kept gap is NaN in the design matrix,
//! which only `hist_gradient_boosting` takes (each split learns the side NaN goes to); every
//! other kind, a model's own steps and a scaled kept column are refused at their keys, before
//! training. A categorical column's kept gap gets no indicator: `hist_gradient_boosting` takes
//! it only with `categorical_features = "from_dtype"` (its kind refuses it otherwise).

use crate::config::{ColumnKey, Experiment, Impute, Key, ModelKey, PreprocessKey, Scale};
use crate::data::Dataset;
use crate::spec::ModelKind;

/// The kinds whose fit and prediction take NaN in the design matrix. (scikit-learn 1.9's
/// trees and forests do too, but runner's CART port does not.)
pub fn takes_nan(kind: ModelKind) -> bool {
    matches!(kind, ModelKind::HistGradientBoosting)
}

/// Where a column's `key` comes from: its own `[preprocess.columns.NAME]` line, else `[preprocess]`'s.
fn rule_key_at(experiment: &Experiment, column: &str, key: ColumnKey) -> String {
    experiment
        .given_at(Key::ColumnRule(column.to_string(), key))
        .unwrap_or_else(|| experiment.location(PreprocessKey::from(key)))
}

/// Every refusal `impute = "keep"` causes; none when no feature column keeps its gaps.
pub fn problems(experiment: &Experiment, dataset: &Dataset) -> Vec<String> {
    let preprocess = &experiment.preprocess;
    let columns = dataset.columns();
    let kept: Vec<&str> =
        columns.iter().map(|c| c.name).filter(|name| preprocess.rule_for(name).impute == Impute::Keep).collect();
    if kept.is_empty() {
        return Vec::new();
    }
    let list = kept.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    for m in &experiment.models {
        if !takes_nan(m.kind) {
            out.push(format!(
                "{}: model `{}`: kind {} cannot take the missing values impute = \"keep\" leaves as NaN in {list} \
                 (only hist_gradient_boosting handles them natively; runner's trees and forests do not); \
                 remove the model or fill those columns with another impute",
                experiment.location(Key::Model(m.name.clone(), ModelKey::Kind)),
                m.name,
                m.kind.name()
            ));
        } else if !m.steps.is_empty() {
            out.push(format!(
                "{}: model `{}`: its steps cannot take the missing values impute = \"keep\" leaves as NaN in {list}; \
                 remove the steps (hist_gradient_boosting needs none) or fill those columns with another impute",
                experiment.location(Key::Model(m.name.clone(), ModelKey::Steps)),
                m.name
            ));
        }
    }
    for c in &columns {
        let rule = preprocess.rule_for(c.name);
        if rule.impute != Impute::Keep {
            continue;
        }
        if c.categories.is_none() && rule.scale != Scale::None {
            out.push(format!(
                "{}: scale = \"{}\" cannot scale column `{}`, whose gaps impute = \"keep\" keeps as NaN; \
                 hist_gradient_boosting's bins need no scaling: set scale = \"none\" for it",
                rule_key_at(experiment, c.name, ColumnKey::Scale),
                rule.scale.name(),
                c.name
            ));
        }
    }
    out
}

/// The dataset's categorical columns, and those of them whose gaps `impute = "keep"` keeps.
pub fn categorical_columns(experiment: &Experiment, dataset: &Dataset) -> (Vec<String>, Vec<String>) {
    let (mut categorical, mut kept) = (Vec::new(), Vec::new());
    for (c, &gaps) in dataset.columns().iter().zip(&dataset.missing_counts) {
        if c.categories.is_none() {
            continue;
        }
        categorical.push(c.name.to_string());
        if gaps > 0 && experiment.preprocess.rule_for(c.name).impute == Impute::Keep {
            kept.push(c.name.to_string());
        }
    }
    (categorical, kept)
}
