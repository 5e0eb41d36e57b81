//! One-hot column names and the fill of a design matrix from fitted column transforms.

use super::impute::NumericFill;
use ndarray::Array2;
use rayon::prelude::*;

/// A categorical column's indicator names, `name_level`, the first left out with `drop_first`.
pub(super) fn one_hot_names<'a>(
    name: &'a str,
    levels: &'a [String],
    drop_first: bool,
) -> impl Iterator<Item = String> + 'a {
    levels.iter().skip(usize::from(drop_first)).map(move |c| format!("{name}_{c}"))
}

/// One feature column's fitted transform, writing into design-matrix columns from `column`.
pub(super) enum ColumnTransform<'a> {
    Numeric {
        values: &'a [f64],
        fill: NumericFill,
        shift: f64,
        scale: f64,
        column: usize,
    },
    /// Codes at or past `levels` (a level unseen in training) get no indicator.
    OneHot {
        codes: &'a [Option<u32>],
        fill: Option<u32>,
        skip: usize,
        levels: usize,
        column: usize,
    },
}

const FILL_BLOCK: usize = 2048;

pub(super) fn design_matrix(transforms: &[ColumnTransform<'_>], rows: &[usize], width: usize) -> Array2<f64> {
    let mut x = Array2::<f64>::zeros((rows.len(), width));
    let Some(data) = x.as_slice_mut() else { return x };
    let width = width.max(1);
    data.par_chunks_mut(FILL_BLOCK * width).enumerate().for_each(|(block, out)| {
        let block_rows = &rows[block * FILL_BLOCK..][..out.len() / width];
        // Column by column: rows come in any order (a shuffled fold), and one column's values
        // stay in cache where a whole row's would be a cache miss per column.
        for t in transforms {
            let cells = out.chunks_mut(width).zip(block_rows);
            match t {
                ColumnTransform::Numeric { values, fill, shift, scale, column } => {
                    for (row_out, &r) in cells {
                        let v = if values[r].is_nan() { fill.value_at(r) } else { values[r] };
                        row_out[*column] = (v - shift) / scale;
                    }
                }
                ColumnTransform::OneHot { codes, fill, skip, levels, column } => {
                    for (row_out, &r) in cells {
                        if let Some(c) = codes[r].or(*fill) {
                            let c = c as usize;
                            if c >= *skip && c < *levels {
                                row_out[column + c - skip] = 1.0;
                            }
                        }
                    }
                }
            }
        }
    });
    x
}
