//! Per-column sums over a block of rows, and every column's preprocessing fitted from a
//! part's sums: what the streamed sweep and the ridge shortcut fit imputation and scaling
//! from, without the rows.

use super::impute::most_frequent;
use super::scale::{scale_from_sums, ScaleSums};
use super::{PreprocessError, SavedColumn};
use crate::config::{FillValue, Impute, PreprocessConfig, Scale};
use crate::data::{Dataset, Feature};

/// Per-column sums over a block of rows: what imputation and scaling are fitted from.
#[derive(Debug, Clone)]
pub enum ColumnSums {
    /// Over present values, shifted by the column's mean: count, Σ(x−s), Σ(x−s)², min, max.
    Numeric { present: f64, s1: f64, s2: f64, min: f64, max: f64 },
    /// Rows per category.
    Categorical { counts: Vec<f64> },
}

/// A block's rows and column sums.
#[derive(Debug, Clone)]
pub struct BlockColumns {
    pub rows: f64,
    pub columns: Vec<ColumnSums>,
}

impl BlockColumns {
    pub fn zeros(ds: &Dataset) -> BlockColumns {
        let columns = ds
            .columns()
            .iter()
            .map(|c| match c.categories {
                None => {
                    ColumnSums::Numeric { present: 0.0, s1: 0.0, s2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
                }
                Some(categories) => ColumnSums::Categorical { counts: vec![0.0; categories.len()] },
            })
            .collect();
        BlockColumns { rows: 0.0, columns }
    }

    /// Adds rows `rows_of[b]` of a batch's features to `blocks[b]`, column by column (one
    /// column's values stay in cache across the blocks); each block's sums in row order.
    pub fn add_blocks(blocks: &mut [BlockColumns], features: &[Feature], rows_of: &[Vec<usize>], means: &[f64]) {
        for (block, rows) in blocks.iter_mut().zip(rows_of) {
            block.rows += rows.len() as f64;
        }
        for (j, f) in features.iter().enumerate() {
            for (block, rows) in blocks.iter_mut().zip(rows_of) {
                match (&mut block.columns[j], f) {
                    (ColumnSums::Numeric { present, s1, s2, min, max }, Feature::Numeric { values, .. }) => {
                        for &r in rows {
                            let v = values[r];
                            if !v.is_nan() {
                                let d = v - means[j];
                                *present += 1.0;
                                *s1 += d;
                                *s2 += d * d;
                                *min = min.min(v);
                                *max = max.max(v);
                            }
                        }
                    }
                    (ColumnSums::Categorical { counts }, Feature::Categorical { codes, .. }) => {
                        for c in rows.iter().filter_map(|&r| codes[r]) {
                            if let Some(n) = counts.get_mut(c as usize) {
                                *n += 1.0;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    pub fn add(&mut self, o: &BlockColumns) {
        self.rows += o.rows;
        for (a, b) in self.columns.iter_mut().zip(&o.columns) {
            match (a, b) {
                (
                    ColumnSums::Numeric { present, s1, s2, min, max },
                    ColumnSums::Numeric { present: p, s1: t1, s2: t2, min: lo, max: hi },
                ) => {
                    *present += p;
                    *s1 += t1;
                    *s2 += t2;
                    *min = min.min(*lo);
                    *max = max.max(*hi);
                }
                (ColumnSums::Categorical { counts }, ColumnSums::Categorical { counts: more }) => {
                    for (c, m) in counts.iter_mut().zip(more) {
                        *c += m;
                    }
                }
                _ => {}
            }
        }
    }
}

/// Every column's preprocessing fitted on a part's sums, as `preprocess::fit_saved` fits it
/// on the part's rows (the same fills, scales and levels, up to rounding).
pub fn fit_from_sums(
    ds: &Dataset,
    cfg: &PreprocessConfig,
    part: &BlockColumns,
    means: &[f64],
) -> Result<Vec<SavedColumn>, PreprocessError> {
    let columns = ds.columns();
    let mut saved = Vec::with_capacity(columns.len());
    for (j, (c, sums)) in columns.iter().zip(&part.columns).enumerate() {
        let rule = cfg.rule_for(c.name);
        let name = c.name.to_string();
        saved.push(match (c.categories, sums) {
            (None, &ColumnSums::Numeric { present, s1, s2, min, max }) => {
                let fill = match (rule.impute, &rule.fill_value) {
                    (Impute::Mean, _) if present == 0.0 => {
                        return Err(PreprocessError::NothingToImpute { column: name, what: "mean" });
                    }
                    (Impute::Mean, _) => Some(means[j] + s1 / present),
                    (Impute::Constant, Some(FillValue::Number(x))) => Some(*x),
                    _ => None,
                };
                let filled = ScaleSums { rows: part.rows, present, s1, s2, min, max, shift: means[j], fill };
                let (shift, scale) = scale_from_sums(&filled, rule.scale);
                SavedColumn::Numeric { name, impute: rule.impute, fill, shift, scale }
            }
            (Some(categories), ColumnSums::Categorical { counts }) => {
                let fill = match (rule.impute, &rule.fill_value) {
                    (Impute::Mode, _) => most_frequent(counts).map(|c| categories[c].clone()),
                    (Impute::Constant, Some(FillValue::Text(t))) => categories.iter().find(|c| *c == t).cloned(),
                    _ => None,
                };
                let drop_first = cfg.drop_first && categories.len() > 1;
                SavedColumn::Categorical { name, levels: categories.to_vec(), impute: rule.impute, fill, drop_first }
            }
            _ => return Err(PreprocessError::Mismatch { column: name }),
        });
    }
    Ok(saved)
}

/// Why `[preprocess]` may give a row another design row in another fold, or `None` when every
/// fold makes the same one (what a model step's row functions need to be summed once for all
/// folds): a column with gaps has a fill fitted per fold, a scaled numeric column a scale.
pub fn fold_dependence(ds: &Dataset, cfg: &PreprocessConfig) -> Option<String> {
    let columns = ds.columns();
    if let Some(c) = columns.iter().zip(&ds.missing_counts).find(|(_, &gaps)| gaps > 0).map(|(c, _)| c) {
        return Some(format!("column `{}` has gaps, filled by a value each fold fits", c.name));
    }
    let scaled = |c: &&crate::data::ColumnView| c.categories.is_none() && cfg.rule_for(c.name).scale != Scale::None;
    columns.iter().find(scaled).map(|c| {
        format!(
            "column `{}` is scaled (scale = \"{}\") by each fold's own fit",
            c.name,
            cfg.rule_for(c.name).scale.name()
        )
    })
}
