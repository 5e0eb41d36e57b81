//! The rows the ridge shortcut sums: the parts `u` of which every fold's design row is an
//! affine map. Without steps they are the raw numeric columns (the map: the fold's
//! `[preprocess]` scaling). With steps they are the rows' design through the steps that are
//! fixed functions of a row (`poly`, `log1p`), and the map is the scaler after them, if any,
//! fitted from the sums (`standard`, `minmax`, `maxabs`): docs/SPEC.md, "ridge shortcut".

use super::stats::BlockStats;
use crate::config::PreprocessConfig;
use crate::data::Dataset;
use crate::preprocess::steps::{affine_from_sums, apply_all, fit_all, Affine};
use crate::preprocess::{fold_dependence, prepare_fold, SavedStep, ScaleSums, StepSpec};
use crate::split::Fold;
use ndarray::{s, Array1, Array2, Axis};
use rayon::prelude::*;

/// Rows per parallel piece of the sums.
pub const CHUNK: usize = 2048;

/// `z = A·u + o`: a fold's design row from a row's raw parts.
pub type DesignMap = (Array2<f64>, Array1<f64>);

/// Where a design's parts `u` come from.
pub enum Source<'a> {
    /// The raw numeric columns.
    Columns(Vec<&'a [f64]>),
    /// Every row's design (the same for every fold) through fitted row functions.
    Steps { base: Array2<f64>, fixed: Vec<SavedStep>, width: usize },
}

impl Source<'_> {
    pub fn width(&self) -> usize {
        match self {
            Source::Columns(columns) => columns.len(),
            Source::Steps { width, .. } => *width,
        }
    }

    /// The parts `u` of `rows` less `shift`, one row each (`u - shift`, the same bits), and,
    /// for steps, the parts' extremes before the shift (the scaler after the steps reads them;
    /// the raw columns' map does not). The raw columns are read straight into the shifted rows,
    /// eight columns at a time (a cache line of each row), with no unshifted copy.
    pub fn shifted(&self, rows: &[usize], shift: &Array1<f64>) -> (Array2<f64>, Option<Extremes>) {
        const GROUP: usize = 8;
        match self {
            Source::Columns(columns) => {
                let d = columns.len();
                let shift: Vec<f64> = shift.to_vec();
                let mut x = vec![0.0; rows.len() * d];
                for (g, (group, shifts)) in columns.chunks(GROUP).zip(shift.chunks(GROUP)).enumerate() {
                    let at = g * GROUP;
                    for (row, &r) in x.chunks_exact_mut(d).zip(rows) {
                        for ((out, col), s) in row[at..at + group.len()].iter_mut().zip(group).zip(shifts) {
                            *out = col[r] - s;
                        }
                    }
                }
                let x = Array2::from_shape_vec((rows.len(), d), x).expect("rows × columns values");
                (x, None)
            }
            Source::Steps { base, fixed, .. } => {
                let u = apply_all(fixed, base.select(Axis(0), rows));
                let extremes = Extremes::of(&u);
                (&u - shift, Some(extremes))
            }
        }
    }
}

/// Each column's least and greatest part over a block of rows.
#[derive(Debug, Clone)]
pub struct Extremes {
    pub min: Vec<f64>,
    pub max: Vec<f64>,
}

impl Extremes {
    pub fn empty(width: usize) -> Extremes {
        Extremes { min: vec![f64::INFINITY; width], max: vec![f64::NEG_INFINITY; width] }
    }

    pub fn of(u: &Array2<f64>) -> Extremes {
        let mut e = Extremes::empty(u.ncols());
        for row in u.rows() {
            for ((lo, hi), &v) in e.min.iter_mut().zip(e.max.iter_mut()).zip(row) {
                *lo = lo.min(v);
                *hi = hi.max(v);
            }
        }
        e
    }

    pub fn add(&mut self, o: &Extremes) {
        self.min.iter_mut().zip(&o.min).for_each(|(a, b)| *a = a.min(*b));
        self.max.iter_mut().zip(&o.max).for_each(|(a, b)| *a = a.max(*b));
    }
}

/// Every row's design as `[preprocess]` makes it for any fold alike, or `None`: a column with
/// gaps has a fill fitted per fold, and a scaled numeric column a scale fitted per fold.
pub fn fold_independent_design(ds: &Dataset, preprocess: &PreprocessConfig) -> Option<Array2<f64>> {
    if fold_dependence(ds, preprocess).is_some() {
        return None;
    }
    let every_row = Fold { train: (0..ds.rows()).collect(), test: Vec::new() };
    prepare_fold(ds, preprocess, &every_row).ok().map(|d| d.train_x)
}

/// The source of `base` through the row functions `fixed` (input columns `names`), and the
/// means of its parts; `None` when a step refuses some row (the ordinary path then fits it on
/// each fold's rows). Each chunk of rows is fitted on its own: a row function is the same
/// fitted step on any rows it accepts.
pub fn through_row_functions(
    base: Array2<f64>,
    fixed: &[StepSpec],
    names: &[String],
) -> Option<(Source<'static>, Array1<f64>, Vec<String>)> {
    let n = base.nrows();
    let starts: Vec<usize> = (0..n).step_by(CHUNK).collect();
    let pieces: Vec<Option<(Vec<SavedStep>, Array1<f64>)>> = starts
        .par_iter()
        .map(|&start| {
            let rows = base.slice(s![start..(start + CHUNK).min(n), ..]).to_owned();
            let (saved, u) = fit_all(fixed, rows, None, names).ok()?;
            Some((saved, u.sum_axis(Axis(0))))
        })
        .collect();
    let mut pieces = pieces.into_iter();
    let (fitted, mut sum) = pieces.next()??;
    for piece in pieces {
        sum += &piece?.1;
    }
    let names = crate::preprocess::steps::names_after(&fitted, names);
    let width = sum.len();
    Some((Source::Steps { base, fixed: fitted, width }, sum / n as f64, names))
}

/// Each fold's map after the row functions: the identity, or `scaler` fitted from the fold's
/// training sums (`total` minus its block) and extremes (every other block's).
pub fn scaler_maps(
    scaler: Option<&StepSpec>,
    blocks: &[BlockStats],
    extremes: &[Extremes],
    total: &BlockStats,
    shift: &Array1<f64>,
) -> Vec<Result<DesignMap, String>> {
    let p = shift.len();
    (0..blocks.len() - 1)
        .map(|f| {
            let Some(step) = scaler else { return Ok((Array2::eye(p), Array1::zeros(p))) };
            let mut range = Extremes::empty(p);
            extremes.iter().enumerate().filter(|&(b, _)| b != f).for_each(|(_, e)| range.add(e));
            scaler_map(step, &total.minus(&blocks[f]), &range, shift).map(|(map, _)| map)
        })
        .collect()
}

/// `scaler` fitted from a part's sums `train` (of parts shifted by `shift`) and its parts'
/// extremes `range`: its map `z = A·u + o` and the fitted scaler.
pub fn scaler_map(
    scaler: &StepSpec,
    train: &BlockStats,
    range: &Extremes,
    shift: &Array1<f64>,
) -> Result<(DesignMap, Affine), String> {
    let columns: Vec<ScaleSums> = (0..shift.len())
        .map(|j| ScaleSums {
            rows: train.n,
            present: train.n,
            s1: train.sx[j],
            s2: train.xx[[j, j]],
            min: range.min[j],
            max: range.max[j],
            shift: shift[j],
            fill: None,
        })
        .collect();
    let fitted = affine_from_sums(scaler, &columns).ok_or("the step is not fitted from sums")?;
    let a = Array2::from_diag(&fitted.scale.iter().map(|s| 1.0 / s).collect::<Array1<f64>>());
    let o = fitted.shift.iter().zip(&fitted.scale).map(|(s, c)| -s / c).collect();
    Ok(((a, o), fitted))
}
