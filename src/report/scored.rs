//! `runner predict`'s output: one line per input row, in file order, with its id (the row
//! number from 1, or the `--id` column), the prediction (a value, or a class label) and with
//! `--proba` one `p_CLASS` column per class. CSV floats are written in their shortest form
//! that reads back exactly; Parquet keeps them as f64.

use super::csv::{field, number};
use crate::metrics::predicted_classes;
use crate::models::Prediction;
use polars::prelude::*;

/// Predicted rows and how to label them.
pub struct Scored<'a> {
    /// `--id`'s column name and values; row numbers (from 1) when `None`.
    pub ids: Option<(&'a str, &'a [String])>,
    pub prediction: &'a Prediction,
    pub classes: &'a [String],
    pub proba: bool,
}

impl Scored<'_> {
    fn id_name(&self) -> &str {
        self.ids.map_or("row", |(name, _)| name)
    }

    fn id(&self, row: usize) -> String {
        match self.ids {
            Some((_, values)) => field(values.get(row).map_or("", String::as_str)),
            None => (row + 1).to_string(),
        }
    }

    /// The predicted label of each row (classifiers).
    fn labels(&self, proba: &ndarray::Array2<f64>) -> Vec<String> {
        let class = |k: usize| self.classes.get(k).cloned().unwrap_or_default();
        predicted_classes(proba).into_iter().map(class).collect()
    }

    pub fn to_csv(&self) -> String {
        let mut out = format!("{},prediction", field(self.id_name()));
        if self.proba {
            for c in self.classes {
                out.push(',');
                out.push_str(&field(&format!("p_{c}")));
            }
        }
        out.push('\n');
        match self.prediction {
            Prediction::Values(values) => {
                for (i, v) in values.iter().enumerate() {
                    out.push_str(&format!("{},{}\n", self.id(i), number(*v)));
                }
            }
            Prediction::Probabilities(p) => {
                for (i, label) in self.labels(p).iter().enumerate() {
                    out.push_str(&format!("{},{}", self.id(i), field(label)));
                    if self.proba {
                        for v in p.row(i) {
                            out.push_str(&format!(",{}", number(*v)));
                        }
                    }
                    out.push('\n');
                }
            }
        }
        out
    }

    pub fn to_parquet(&self) -> Result<Vec<u8>, String> {
        let rows = match self.prediction {
            Prediction::Values(v) => v.len(),
            Prediction::Probabilities(p) => p.nrows(),
        };
        let id = match self.ids {
            Some((name, values)) => Column::new(name.into(), values),
            None => Column::new("row".into(), (1..=rows as u64).collect::<Vec<u64>>()),
        };
        let mut columns = vec![id];
        match self.prediction {
            Prediction::Values(v) => columns.push(Column::new("prediction".into(), v.to_vec())),
            Prediction::Probabilities(p) => {
                columns.push(Column::new("prediction".into(), self.labels(p)));
                if self.proba {
                    for (k, c) in self.classes.iter().enumerate() {
                        columns.push(Column::new(format!("p_{c}").into(), p.column(k).to_vec()));
                    }
                }
            }
        }
        let mut frame = DataFrame::new(rows, columns).map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes).finish(&mut frame).map_err(|e| e.to_string())?;
        Ok(bytes)
    }
}
