//! The report's typed tables. Each serializes as a JSON object whose keys keep the order
//! the report gives them (the file's metric order, the design matrix's column order).

use crate::config::Metric;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// A metric over the folds: mean and (population) std when every fold has a value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub folds: Vec<Option<f64>>,
}

/// Values by name, in a given order; serialized as an object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Named<T>(pub Vec<(String, T)>);

impl<T> Named<T> {
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One side's (test or train) metric summaries, in the report's metric order; empty for a
/// trial that did not end ok.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricTable(pub Vec<(Metric, Summary)>);

impl MetricTable {
    pub fn get(&self, metric: Metric) -> Option<&Summary> {
        self.0.iter().find(|(m, _)| *m == metric).map(|(_, s)| s)
    }

    pub fn mean(&self, metric: Metric) -> Option<f64> {
        self.get(metric)?.mean
    }

    pub fn std(&self, metric: Metric) -> Option<f64> {
        self.get(metric)?.std
    }
}

impl Serialize for MetricTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (m, summary) in &self.0 {
            map.serialize_entry(m.name(), summary)?;
        }
        map.end()
    }
}

/// Mean coefficients over folds by feature name, `(intercept)` last.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum CoefficientTable {
    Single(Named<f64>),
    /// A row per class (multinomial models).
    PerClass(Named<Named<f64>>),
}
