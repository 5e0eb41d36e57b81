//! Partial dependence of an rbf kernel model (`after_sweep::partial`): every row of a matrix
//! with one column set to each grid value in turn, without a predict per value. Only that
//! column moves, and `exp(-γ‖x - s‖²)` is the product of `exp(-γ Σ_{k≠c} (x_k - s_k)²)`, the
//! same for every value, and `exp(-γ (v - s_c)²)`, the same for every row: the first is
//! computed once per (row, support vector), the second once per (value, support vector), and
//! each machine's decisions at every value are one matrix product per block of rows. A product
//! of two exps is not the exp of the sum bit for bit: the curves differ from a predict's in
//! the last digits (`svm::tests::the_factored_kernel_is_a_predict_to_the_last_digits`).

use super::{distinct_vectors, row_major, KernelMachine, KernelModel};
use crate::models::libsvm::{FeatureMajor, KernelFn};
use crate::models::Prediction;
use ndarray::{Array2, Axis};
use rayon::prelude::*;

/// Rows whose (row, support vector) factors are held at once (a block's matrix is
/// `BLOCK` × support vectors).
const BLOCK: usize = 128;

/// The model's predictions of every row of `x` with column `column` set to each of `values`
/// (one prediction per value), or `None` unless every machine is rbf with one gamma.
pub fn predictions_with_column(
    model: &dyn KernelModel,
    x: &Array2<f64>,
    column: usize,
    values: &[f64],
) -> Option<Vec<Prediction>> {
    let machines = model.machines();
    let kernel = machines.first()?.parts().0;
    let KernelFn::Rbf { gamma } = kernel else { return None };
    let width = x.ncols();
    let other = |m: &&KernelMachine| !matches!(m, KernelMachine::Rbf { gamma: g, .. } if *g == gamma);
    if column >= width || machines.iter().any(other) {
        return None;
    }
    let (vectors, terms) = distinct_vectors(&machines);
    // The column's factor of each vector at each value: factor[u · values + g].
    let mut factor: Vec<f64> = vectors
        .chunks_exact(width)
        .flat_map(|s| values.iter().map(move |v| (v - s[column]) * (v - s[column])))
        .collect();
    kernel.predicting_all(&mut factor);
    // Each machine's coefficient times that factor: terms × values.
    let weighted: Vec<Array2<f64>> = machines
        .iter()
        .zip(&terms)
        .map(|(m, at)| {
            let coef = m.parts().2;
            Array2::from_shape_fn((at.len(), values.len()), |(t, g)| coef[t] * factor[at[t] * values.len() + g])
        })
        .collect();
    // The other columns' factor: the column zeroed in the vectors and the rows adds nothing.
    let distinct = vectors.len() / width;
    let mut others = vectors;
    others.chunks_exact_mut(width).for_each(|s| s[column] = 0.0);
    let lanes = FeatureMajor::new(&others, width);
    let rows = row_major(x);
    let (weighted, terms, machines) = (&weighted, &terms, &machines);
    let parts = Parts { kernel, lanes: &lanes, distinct, weighted, terms, machines, column, width };
    let blocks: Vec<Vec<Array2<f64>>> = rows.par_chunks(BLOCK * width).map(|block| parts.decisions(block)).collect();
    // Each value's decisions of every row, machine by machine, make its prediction.
    let at_value = |g: usize| -> Vec<Vec<f64>> {
        (0..machines.len()).map(|m| blocks.iter().flat_map(|b| b[m].column(g).to_vec()).collect()).collect()
    };
    Some((0..values.len()).map(|g| model.prediction_from(at_value(g))).collect())
}

/// What every block of rows reads.
struct Parts<'a> {
    kernel: KernelFn,
    /// The support vectors with the column zeroed, feature-major.
    lanes: &'a FeatureMajor,
    distinct: usize,
    weighted: &'a [Array2<f64>],
    terms: &'a [Vec<usize>],
    machines: &'a [&'a KernelMachine],
    column: usize,
    width: usize,
}

impl Parts<'_> {
    /// Each machine's decisions (rows × values) for one block of rows (row-major).
    fn decisions(&self, block: &[f64]) -> Vec<Array2<f64>> {
        let n = block.len() / self.width;
        let mut others = Array2::<f64>::zeros((n, self.distinct));
        let mut row = vec![0.0; self.width];
        for (x, mut out) in block.chunks_exact(self.width).zip(others.rows_mut()) {
            row.copy_from_slice(x);
            row[self.column] = 0.0;
            if let Some(out) = out.as_slice_mut() {
                self.kernel.predicting_parts(&row, self.lanes, out);
                self.kernel.predicting_all(out);
            }
        }
        self.machines
            .iter()
            .zip(self.terms)
            .zip(self.weighted)
            .map(|((m, at), w)| others.select(Axis(1), at).dot(w) - m.parts().3)
            .collect()
    }
}
