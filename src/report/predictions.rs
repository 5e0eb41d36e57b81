//! predictions.csv: out-of-fold predictions, one line per (trial, test row), as scikit-learn's
//! `cross_val_predict` gives them. Rows are numbered as in data error messages (the first
//! data row is 1); floats are written in their shortest form that reads back exactly.

use super::csv::{field, number, push_number};
use super::Report;
use crate::models::Prediction;
use crate::preprocess::FoldTargets;
use rayon::prelude::*;
use std::fmt::Write;

/// Lines rendered per parallel piece.
const LINES: usize = 8192;

pub fn render(r: &Report) -> String {
    let classes: Vec<&str> = r.dataset.classes.iter().flatten().map(|c| c.class.as_str()).collect();
    let mut out = String::from("row,fold,trial,true,predicted");
    for c in &classes {
        out.push_str(&format!(",{}", field(&format!("p_{c}"))));
    }
    out.push('\n');
    for oof in &r.predictions {
        let trial = field(&oof.trial);
        for (fold, (rows, truth, prediction)) in oof.folds.iter().enumerate() {
            let mut order: Vec<usize> = (0..rows.len()).collect();
            order.sort_by_key(|&i| rows[i]);
            // Pieces of lines rendered in parallel, joined in order.
            let pieces: Vec<String> = order
                .par_chunks(LINES)
                .map(|chunk| {
                    let mut piece = String::new();
                    for &i in chunk {
                        let _ = write!(piece, "{},{},{trial},", rows[i] + 1, fold + 1);
                        line_end(&mut piece, &classes, truth, prediction, i);
                    }
                    piece
                })
                .collect();
            pieces.iter().for_each(|p| out.push_str(p));
        }
    }
    out
}

/// A line's target, prediction and probabilities, for test row `i`.
fn line_end(out: &mut String, classes: &[&str], truth: &FoldTargets, prediction: &Prediction, i: usize) {
    match (truth, prediction) {
        (FoldTargets::Regression(y), Prediction::Values(p)) => {
            push_number(out, y[i]);
            out.push(',');
            push_number(out, p[i]);
            out.push('\n');
        }
        (FoldTargets::Classes(y), Prediction::Probabilities(p)) => {
            let row = p.row(i);
            let best = crate::metrics::predicted_classes(&row.to_owned().insert_axis(ndarray::Axis(0)))[0];
            let name = |k: usize| field(classes.get(k).copied().unwrap_or(""));
            let probabilities: Vec<String> = row.iter().map(|&v| number(v)).collect();
            let _ = writeln!(out, "{},{},{}", name(y[i]), name(best), probabilities.join(","));
        }
        _ => out.push_str(",\n"),
    }
}
