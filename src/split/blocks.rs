//! Streaming's compact fold plan: one byte per row naming its block, never index lists.
//! Block `f < folds` is fold f's test part; block `folds` holds the rows every fold trains
//! on (a holdout's training part, fold id -1). Fold f trains on every block but f. The
//! assignment is the in-memory split's, row for row.

use super::{column_folds, holdout, stratified_kfold_assignment, SplitError};
use crate::config::SplitConfig;
use crate::data::SplitColumn;
use crate::random::RandomState;

#[derive(Debug, Clone)]
pub struct FoldBlocks {
    pub block_of: Vec<u8>,
    pub folds: usize,
    /// (training rows, test rows) of each fold.
    pub sizes: Vec<(usize, usize)>,
}

impl FoldBlocks {
    fn new(block_of: Vec<u8>, folds: usize) -> FoldBlocks {
        let mut counts = vec![0usize; folds + 1];
        for &b in &block_of {
            counts[b as usize] += 1;
        }
        let n = block_of.len();
        let sizes = (0..folds).map(|f| (n - counts[f], counts[f])).collect();
        FoldBlocks { block_of, folds, sizes }
    }

    /// Whether fold `f` trains on / tests a row of block `b`.
    pub fn trains(&self, f: usize, b: u8) -> bool {
        b as usize != f
    }
}

/// The most folds a byte per row can name (one value is the always-training block).
pub const MAX_FOLDS: usize = 254;

/// The blocks of the splits streaming supports: holdout, k-fold and stratified k-fold
/// without repeats, and a column. `labels` are the rows' classes (sorted class order).
pub fn fold_blocks(
    cfg: &SplitConfig,
    n: usize,
    labels: Option<(&[u32], &[String])>,
    split_column: Option<&SplitColumn>,
    seed: u32,
) -> Result<FoldBlocks, SplitError> {
    let wide: Option<Vec<usize>> = labels.map(|(l, _)| l.iter().map(|&c| c as usize).collect());
    let classes = wide.as_deref().zip(labels.map(|(_, names)| names));
    let (assignment, folds) = match cfg {
        SplitConfig::Holdout { test_size, shuffle, stratify } => {
            let fold = holdout(*test_size, *shuffle, *stratify, n, classes, seed)?.remove(0);
            (from_test_rows(n, &[fold.test]), 1)
        }
        SplitConfig::KFold { folds, shuffle, repeats: 1 } if *folds <= MAX_FOLDS => {
            if *folds > n {
                return Err(SplitError::MoreFoldsThanRows { folds: *folds, rows: n });
            }
            (kfold_blocks(n, *folds, *shuffle, seed), *folds)
        }
        SplitConfig::StratifiedKFold { folds, shuffle, repeats: 1 } if *folds <= MAX_FOLDS => {
            let (labels, _) = classes.ok_or(SplitError::NeedsClasses)?;
            if *folds > n {
                return Err(SplitError::MoreFoldsThanRows { folds: *folds, rows: n });
            }
            let fold_of = stratified_kfold_assignment(labels, *folds, *shuffle, &mut RandomState::new(seed))?;
            (fold_of.into_iter().map(|f| f as u8).collect(), *folds)
        }
        SplitConfig::Column { .. } => {
            let column = split_column.ok_or(SplitError::OneSided("the split column was not loaded"))?;
            let tests: Vec<Vec<usize>> = column_folds(column, n)?.into_iter().map(|f| f.test).collect();
            if tests.len() > MAX_FOLDS {
                return Err(SplitError::OneSided("a streamed split column names at most 254 folds"));
            }
            (from_test_rows(n, &tests), tests.len())
        }
        _ => return Err(SplitError::OneSided("this split is not streamed")),
    };
    Ok(FoldBlocks::new(assignment, folds))
}

/// Blocks from disjoint test parts; rows in none go to the last block.
fn from_test_rows(n: usize, tests: &[Vec<usize>]) -> Vec<u8> {
    let mut block_of = vec![tests.len() as u8; n];
    for (f, rows) in tests.iter().enumerate() {
        for &r in rows {
            block_of[r] = f as u8;
        }
    }
    block_of
}

/// KFold's assignment (as `kfold_assignment`) straight into bytes: a streamed file's rows
/// may be many, and only the shuffled order (when shuffling) is held besides.
fn kfold_blocks(n: usize, k: usize, shuffle: bool, seed: u32) -> Vec<u8> {
    let mut block_of = vec![0u8; n];
    let sizes = (0..k).map(|f| n / k + usize::from(f < n % k));
    let starts: Vec<usize> = sizes
        .scan(0, |at, size| {
            *at += size;
            Some(*at - size)
        })
        .collect();
    let fold_at = |position: usize| starts.partition_point(|&s| s <= position) - 1;
    if shuffle {
        let mut order: Vec<usize> = (0..n).collect();
        RandomState::new(seed).shuffle(&mut order);
        for (position, &row) in order.iter().enumerate() {
            block_of[row] = fold_at(position) as u8;
        }
    } else {
        for (row, b) in block_of.iter_mut().enumerate() {
            *b = fold_at(row) as u8;
        }
    }
    block_of
}
