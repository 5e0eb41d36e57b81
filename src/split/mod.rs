//! Split planning: which rows train and which test, per fold. Pure functions over row
//! counts and labels; folds are index sets into the shared dataset, never copies.

mod blocks;

pub use blocks::{fold_blocks, FoldBlocks, MAX_FOLDS};

use crate::random::RandomState;

use crate::config::{SampleSize, SplitConfig, SplitMethod, TestSize};
use crate::data::SplitColumn;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct SplitPlan {
    pub method: SplitMethod,
    /// Streamed, each fold's index lists are empty and `blocks` says where its rows are.
    pub folds: Vec<Fold>,
    pub blocks: Option<FoldBlocks>,
}

impl SplitPlan {
    /// (training rows, test rows) of each fold.
    pub fn sizes(&self) -> Vec<(usize, usize)> {
        match &self.blocks {
            Some(b) => b.sizes.clone(),
            None => self.folds.iter().map(|f| (f.train.len(), f.test.len())).collect(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SplitError {
    #[error("{folds} folds need at least {folds} rows, but the dataset has {rows}")]
    MoreFoldsThanRows { folds: usize, rows: usize },
    #[error("test_size {test_size} leaves no rows for training ({rows} rows in all)")]
    NoTrainRows { test_size: String, rows: usize },
    #[error("test_size {test_size} selects no test rows ({rows} rows in all)")]
    NoTestRows { test_size: String, rows: usize },
    #[error("{folds} stratified folds need at least {folds} rows of some class, but the largest class has {largest}")]
    FoldsExceedClasses { folds: usize, largest: usize },
    #[error("stratified holdout needs at least 2 rows of every class; class `{class}` has {count}")]
    ClassTooSmall { class: String, count: usize },
    #[error("stratified holdout with {classes} classes needs at least {classes} train and test rows (got {train} train, {test} test)")]
    StratifiedTooSmall { classes: usize, train: usize, test: usize },
    #[error("stratification needs a classification target")]
    NeedsClasses,
    #[error("the split column puts every row on one side: {0}")]
    OneSided(&'static str),
    #[error("{folds} group folds need at least {folds} distinct groups, but the group column has {groups}")]
    MoreFoldsThanGroups { folds: usize, groups: usize },
    #[error("{folds} time-series folds of {test_size} test rows after a gap of {gap} need more than {} rows, but the dataset has {rows}", gap + test_size * folds)]
    TimeSeriesTooShort { folds: usize, test_size: usize, gap: usize, rows: usize },
}

/// Plans the folds. `classes` is each row's class index (sorted class order) when the task
/// is classification; `class_names` names them for errors.
pub fn plan_split(
    cfg: &SplitConfig,
    n: usize,
    classes: Option<(&[usize], &[String])>,
    split_column: Option<&SplitColumn>,
    seed: u32,
) -> Result<SplitPlan, SplitError> {
    let folds = match cfg {
        SplitConfig::Holdout { test_size, shuffle, stratify } => {
            holdout(*test_size, *shuffle, *stratify, n, classes, seed)?
        }
        SplitConfig::KFold { folds, shuffle, repeats } => {
            if *folds > n {
                return Err(SplitError::MoreFoldsThanRows { folds: *folds, rows: n });
            }
            // RepeatedKFold: one generator, each repeat's KFold shuffles with it in turn.
            let mut rng = RandomState::new(seed);
            (0..*repeats)
                .flat_map(|_| folds_from_assignment(&kfold_assignment(n, *folds, *shuffle, &mut rng), *folds))
                .collect()
        }
        SplitConfig::StratifiedKFold { folds, shuffle, repeats } => {
            let (labels, _) = classes.ok_or(SplitError::NeedsClasses)?;
            if *folds > n {
                return Err(SplitError::MoreFoldsThanRows { folds: *folds, rows: n });
            }
            let mut rng = RandomState::new(seed);
            let mut all = Vec::with_capacity(folds * repeats);
            for _ in 0..*repeats {
                let fold_of = stratified_kfold_assignment(labels, *folds, *shuffle, &mut rng)?;
                all.extend(folds_from_assignment(&fold_of, *folds));
            }
            all
        }
        SplitConfig::GroupKFold { folds, shuffle, .. } => match split_column {
            Some(SplitColumn::Groups(groups)) => group_kfold(groups, *folds, *shuffle, seed)?,
            _ => return Err(SplitError::OneSided("the group column was not loaded")),
        },
        SplitConfig::TimeSeries { folds, test_size, max_train_size, gap } => {
            time_series(n, *folds, *test_size, *max_train_size, *gap)?
        }
        SplitConfig::Column { .. } => {
            column_folds(split_column.ok_or(SplitError::OneSided("the split column was not loaded"))?, n)?
        }
        SplitConfig::None => vec![Fold { train: (0..n).collect(), test: (0..n).collect() }],
    };
    Ok(SplitPlan { method: cfg.method(), folds, blocks: None })
}

/// KFold's assignment of rows to test folds: the first `n % k` folds get one extra row.
fn kfold_assignment(n: usize, k: usize, shuffle: bool, rng: &mut RandomState) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if shuffle {
        rng.shuffle(&mut order);
    }
    let mut fold_of = vec![0usize; n];
    let mut start = 0;
    for f in 0..k {
        let size = n / k + usize::from(f < n % k);
        for &row in &order[start..start + size] {
            fold_of[row] = f;
        }
        start += size;
    }
    fold_of
}

/// scikit-learn's GroupKFold. `groups` index the sorted distinct groups. Unshuffled, the
/// largest groups go first, each to the fold with the fewest rows so far (ties: the first
/// fold; equal-sized groups: the later one first, as a reversed stable argsort). Shuffled,
/// the groups are permuted and cut into `k` nearly equal runs (`np.array_split`).
fn group_kfold(groups: &[usize], k: usize, shuffle: bool, seed: u32) -> Result<Vec<Fold>, SplitError> {
    let n_groups = groups.iter().copied().max().map_or(0, |g| g + 1);
    if k > n_groups {
        return Err(SplitError::MoreFoldsThanGroups { folds: k, groups: n_groups });
    }
    let mut fold_of_group = vec![0usize; n_groups];
    if shuffle {
        let order = RandomState::new(seed).permutation(n_groups);
        let mut start = 0;
        for f in 0..k {
            let size = n_groups / k + usize::from(f < n_groups % k);
            for &g in &order[start..start + size] {
                fold_of_group[g] = f;
            }
            start += size;
        }
    } else {
        let mut sizes = vec![0usize; n_groups];
        for &g in groups {
            sizes[g] += 1;
        }
        let mut order: Vec<usize> = (0..n_groups).collect();
        order.sort_by_key(|&g| sizes[g]);
        let mut fold_rows = vec![0usize; k];
        for &g in order.iter().rev() {
            let lightest = (0..k).min_by_key(|&f| fold_rows[f]).unwrap_or(0);
            fold_rows[lightest] += sizes[g];
            fold_of_group[g] = lightest;
        }
    }
    let fold_of: Vec<usize> = groups.iter().map(|&g| fold_of_group[g]).collect();
    Ok(folds_from_assignment(&fold_of, k))
}

/// scikit-learn's TimeSeriesSplit: `k` test blocks of `test_size` rows (default
/// `n / (k + 1)`) at the end of the data; each trains on the rows before it, less `gap`,
/// and at most the last `max_train_size` of them.
fn time_series(
    n: usize,
    k: usize,
    test_size: Option<usize>,
    max_train_size: Option<usize>,
    gap: usize,
) -> Result<Vec<Fold>, SplitError> {
    if k + 1 > n {
        return Err(SplitError::MoreFoldsThanRows { folds: k + 1, rows: n });
    }
    let test_size = test_size.unwrap_or(n / (k + 1));
    if n <= gap + test_size * k || test_size == 0 {
        return Err(SplitError::TimeSeriesTooShort { folds: k, test_size, gap, rows: n });
    }
    let first = n - k * test_size;
    Ok((0..k)
        .map(|f| {
            let test_start = first + f * test_size;
            let train_end = test_start - gap;
            let train_start = max_train_size.map_or(0, |m| train_end.saturating_sub(m));
            Fold { train: (train_start..train_end).collect(), test: (test_start..test_start + test_size).collect() }
        })
        .collect())
}

/// scikit-learn's `resample(rows, replace=False, n_samples=n, random_state=seed)`: a fresh
/// generator shuffles the positions and the first `n` are kept, in shuffled order.
pub fn resample(rows: &[usize], n: usize, seed: u32) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..rows.len()).collect();
    RandomState::new(seed).shuffle(&mut positions);
    positions.iter().take(n).map(|&p| rows[p]).collect()
}

/// scikit-learn's `_translate_train_sizes`: a learning curve's training sizes in rows of a
/// training part of `n_max` rows, sorted and distinct. As in numpy, one fraction in the
/// list makes every entry a fraction (a count of 1 is then 100%).
pub fn train_sizes(sizes: &[SampleSize], n_max: usize) -> Result<Vec<usize>, String> {
    let fractions = sizes.iter().any(|s| matches!(s, SampleSize::Fraction(_)));
    let mut abs = Vec::with_capacity(sizes.len());
    for s in sizes {
        abs.push(match (*s, fractions) {
            (SampleSize::Fraction(f), _) => ((f * n_max as f64) as usize).clamp(1, n_max.max(1)),
            (SampleSize::Count(1), true) => n_max,
            (SampleSize::Count(c), true) => {
                return Err(format!("{c} is neither a fraction in (0, 1] nor, in a list with fractions, a row count"))
            }
            (SampleSize::Count(c), false) if c > n_max => {
                return Err(format!("{c} rows is more than a training part holds ({n_max})"));
            }
            (SampleSize::Count(c), false) => c,
        });
    }
    abs.sort_unstable();
    abs.dedup();
    Ok(abs)
}

/// scikit-learn's train_test_split: the test part is `ceil(test_size × n)` rows (or a count).
fn holdout(
    test_size: TestSize,
    shuffle: bool,
    stratify: bool,
    n: usize,
    classes: Option<(&[usize], &[String])>,
    seed: u32,
) -> Result<Vec<Fold>, SplitError> {
    let (n_test, shown) = match test_size {
        TestSize::Fraction(f) => ((f * n as f64).ceil() as usize, f.to_string()),
        TestSize::Count(c) => (c, c.to_string()),
    };
    if n_test >= n {
        return Err(SplitError::NoTrainRows { test_size: shown, rows: n });
    }
    if n_test == 0 {
        return Err(SplitError::NoTestRows { test_size: shown, rows: n });
    }
    let n_train = n - n_test;
    Ok(if stratify {
        let (labels, names) = classes.ok_or(SplitError::NeedsClasses)?;
        vec![stratified_holdout(labels, names, n_train, n_test, seed)?]
    } else if shuffle {
        let perm = RandomState::new(seed).permutation(n);
        vec![Fold { test: perm[..n_test].to_vec(), train: perm[n_test..].to_vec() }]
    } else {
        vec![Fold { train: (0..n_train).collect(), test: (n_train..n).collect() }]
    })
}

/// Folds from a split column: one train/test fold, or PredefinedSplit's fold per id.
fn column_folds(column: &SplitColumn, n: usize) -> Result<Vec<Fold>, SplitError> {
    match column {
        SplitColumn::TrainTest(is_test) => {
            let test: Vec<usize> = (0..n).filter(|&i| is_test[i]).collect();
            let train: Vec<usize> = (0..n).filter(|&i| !is_test[i]).collect();
            if test.is_empty() {
                return Err(SplitError::OneSided("no row is marked `test`"));
            }
            if train.is_empty() {
                return Err(SplitError::OneSided("no row is marked `train`"));
            }
            Ok(vec![Fold { train, test }])
        }
        SplitColumn::FoldIds(ids) => {
            let mut distinct: Vec<i64> = ids.iter().copied().filter(|&i| i != -1).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.is_empty() {
                return Err(SplitError::OneSided("every fold id is -1"));
            }
            let folds: Vec<Fold> = distinct
                .iter()
                .map(|&id| Fold {
                    train: (0..n).filter(|&i| ids[i] != id).collect(),
                    test: (0..n).filter(|&i| ids[i] == id).collect(),
                })
                .collect();
            if folds.iter().any(|f| f.train.is_empty()) {
                return Err(SplitError::OneSided("one fold id covers every row"));
            }
            Ok(folds)
        }
        SplitColumn::Groups(_) => Err(SplitError::OneSided("a group column is not a train/test column")),
    }
}

/// KFold semantics: fold k tests the rows assigned to k; both sides come out in row order.
fn folds_from_assignment(fold_of: &[usize], k: usize) -> Vec<Fold> {
    (0..k)
        .map(|f| Fold {
            train: (0..fold_of.len()).filter(|&i| fold_of[i] != f).collect(),
            test: (0..fold_of.len()).filter(|&i| fold_of[i] == f).collect(),
        })
        .collect()
}

/// scikit-learn's `StratifiedKFold._make_test_folds`, shuffling with `rng`.
fn stratified_kfold_assignment(
    labels: &[usize],
    k: usize,
    shuffle: bool,
    rng: &mut RandomState,
) -> Result<Vec<usize>, SplitError> {
    // Re-encode classes by order of first appearance, as scikit-learn does.
    let mut first_seen: Vec<usize> = Vec::new();
    let mut encode = std::collections::HashMap::new();
    for &l in labels {
        encode.entry(l).or_insert_with(|| {
            first_seen.push(l);
            first_seen.len() - 1
        });
    }
    let encoded: Vec<usize> = labels.iter().map(|l| encode[l]).collect();
    let n_classes = first_seen.len();
    let mut counts = vec![0usize; n_classes];
    for &c in &encoded {
        counts[c] += 1;
    }
    let largest = counts.iter().copied().max().unwrap_or(0);
    if k > largest {
        return Err(SplitError::FoldsExceedClasses { folds: k, largest });
    }
    // allocation[f][c]: rows of class c in test fold f, by round robin over the sorted labels.
    let mut sorted = encoded.clone();
    sorted.sort_unstable();
    let mut allocation = vec![vec![0usize; n_classes]; k];
    for (i, &c) in sorted.iter().enumerate() {
        allocation[i % k][c] += 1;
    }
    let mut fold_of = vec![0usize; labels.len()];
    // `c` picks a column of `allocation` (indexed by fold first): no iterator over it.
    #[allow(clippy::needless_range_loop)]
    for c in 0..n_classes {
        let mut folds_for_class: Vec<usize> = (0..k).flat_map(|f| std::iter::repeat_n(f, allocation[f][c])).collect();
        if shuffle {
            rng.shuffle(&mut folds_for_class);
        }
        let rows = (0..labels.len()).filter(|&i| encoded[i] == c);
        for (row, fold) in rows.zip(folds_for_class) {
            fold_of[row] = fold;
        }
    }
    Ok(fold_of)
}

/// scikit-learn's `_approximate_mode`: how many rows of each class to draw.
fn approximate_mode(class_counts: &[usize], n_draws: usize, rng: &mut RandomState) -> Vec<usize> {
    let total: usize = class_counts.iter().sum();
    let continuous: Vec<f64> = class_counts.iter().map(|&c| c as f64 / total as f64 * n_draws as f64).collect();
    let mut floored: Vec<f64> = continuous.iter().map(|x| x.floor()).collect();
    let mut need_to_add = n_draws as i64 - floored.iter().sum::<f64>() as i64;
    if need_to_add > 0 {
        let remainder: Vec<f64> = continuous.iter().zip(&floored).map(|(c, f)| c - f).collect();
        let mut values = remainder.clone();
        values.sort_by(|a, b| b.total_cmp(a));
        values.dedup();
        for value in values {
            let inds: Vec<usize> = (0..remainder.len()).filter(|&i| remainder[i] == value).collect();
            let add_now = inds.len().min(need_to_add as usize);
            // RandomState.choice(inds, add_now, replace=False) takes a permutation's head.
            let perm = rng.permutation(inds.len());
            for &p in &perm[..add_now] {
                floored[inds[p]] += 1.0;
            }
            need_to_add -= add_now as i64;
            if need_to_add == 0 {
                break;
            }
        }
    }
    floored.into_iter().map(|x| x as usize).collect()
}

/// scikit-learn's `StratifiedShuffleSplit` (what `train_test_split(stratify=y)` uses).
fn stratified_holdout(
    labels: &[usize],
    names: &[String],
    n_train: usize,
    n_test: usize,
    seed: u32,
) -> Result<Fold, SplitError> {
    let n_classes = names.len();
    let mut class_counts = vec![0usize; n_classes];
    for &l in labels {
        class_counts[l] += 1;
    }
    if let Some((c, &count)) = class_counts.iter().enumerate().find(|(_, &c)| c < 2) {
        return Err(SplitError::ClassTooSmall { class: names[c].clone(), count });
    }
    if n_train < n_classes || n_test < n_classes {
        return Err(SplitError::StratifiedTooSmall { classes: n_classes, train: n_train, test: n_test });
    }
    // Rows of each class in row order (a stable argsort of the labels).
    let class_indices: Vec<Vec<usize>> =
        (0..n_classes).map(|c| (0..labels.len()).filter(|&i| labels[i] == c).collect()).collect();
    let mut rng = RandomState::new(seed);
    let n_i = approximate_mode(&class_counts, n_train, &mut rng);
    let remaining: Vec<usize> = class_counts.iter().zip(&n_i).map(|(c, n)| c - n).collect();
    let t_i = approximate_mode(&remaining, n_test, &mut rng);
    let mut train = Vec::with_capacity(n_train);
    let mut test = Vec::with_capacity(n_test);
    for c in 0..n_classes {
        let perm = rng.permutation(class_counts[c]);
        let rows: Vec<usize> = perm.iter().map(|&p| class_indices[c][p]).collect();
        train.extend_from_slice(&rows[..n_i[c]]);
        test.extend_from_slice(&rows[n_i[c]..n_i[c] + t_i[c]]);
    }
    let train_perm = rng.permutation(train.len());
    let test_perm = rng.permutation(test.len());
    Ok(Fold {
        train: train_perm.iter().map(|&p| train[p]).collect(),
        test: test_perm.iter().map(|&p| test[p]).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boston_holdout_matches_spec_check() {
        let cfg = SplitConfig::Holdout { test_size: TestSize::Fraction(0.3), shuffle: true, stratify: false };
        let plan = plan_split(&cfg, 506, None, None, 42).unwrap();
        let f = &plan.folds[0];
        assert_eq!(f.test.len(), 152);
        assert_eq!(f.train.len(), 354);
        assert_eq!(&f.test[..10], &[173, 274, 491, 72, 452, 76, 316, 140, 471, 500]);
        assert_eq!(&f.train[..10], &[5, 116, 45, 16, 468, 360, 3, 405, 185, 60]);
    }

    #[test]
    fn unshuffled_kfold_gives_extra_rows_to_the_first_folds() {
        let cfg = SplitConfig::KFold { folds: 3, shuffle: false, repeats: 1 };
        let plan = plan_split(&cfg, 7, None, None, 0).unwrap();
        let tests: Vec<Vec<usize>> = plan.folds.iter().map(|f| f.test.clone()).collect();
        assert_eq!(tests, vec![vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
        assert_eq!(plan.folds[1].train, vec![0, 1, 2, 5, 6]);
    }

    #[test]
    fn every_row_is_tested_exactly_once_in_kfold() {
        for (n, k, shuffle) in [(10, 3, true), (11, 5, false), (50, 7, true)] {
            let plan = plan_split(&SplitConfig::KFold { folds: k, shuffle, repeats: 1 }, n, None, None, 7).unwrap();
            let mut all: Vec<usize> = plan.folds.iter().flat_map(|f| f.test.clone()).collect();
            all.sort_unstable();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
            for f in &plan.folds {
                assert_eq!(f.train.len() + f.test.len(), n);
            }
        }
    }

    #[test]
    fn too_many_folds_is_an_error() {
        let err =
            plan_split(&SplitConfig::KFold { folds: 6, shuffle: false, repeats: 1 }, 5, None, None, 0).unwrap_err();
        assert_eq!(err, SplitError::MoreFoldsThanRows { folds: 6, rows: 5 });
    }

    #[test]
    fn holdout_rejects_a_test_part_covering_everything() {
        let cfg = SplitConfig::Holdout { test_size: TestSize::Count(10), shuffle: true, stratify: false };
        assert!(matches!(plan_split(&cfg, 10, None, None, 0), Err(SplitError::NoTrainRows { .. })));
    }

    #[test]
    fn column_fold_ids_work_like_predefined_split() {
        // scikit-learn's PredefinedSplit([0, 1, -1, 1, 0]): -1 rows always train.
        let ids = SplitColumn::FoldIds(vec![0, 1, -1, 1, 0]);
        let plan = plan_split(&SplitConfig::Column { column: "fold".into() }, 5, None, Some(&ids), 0).unwrap();
        assert_eq!(
            plan.folds,
            vec![Fold { train: vec![1, 2, 3], test: vec![0, 4] }, Fold { train: vec![0, 2, 4], test: vec![1, 3] }]
        );
        let tags = SplitColumn::TrainTest(vec![false, true, false]);
        let plan = plan_split(&SplitConfig::Column { column: "s".into() }, 3, None, Some(&tags), 0).unwrap();
        assert_eq!(plan.folds, vec![Fold { train: vec![0, 2], test: vec![1] }]);
        let all_train = SplitColumn::TrainTest(vec![false, false]);
        assert!(plan_split(&SplitConfig::Column { column: "s".into() }, 2, None, Some(&all_train), 0).is_err());
    }

    #[test]
    fn stratified_kfold_keeps_class_proportions() {
        let labels: Vec<usize> = (0..30).map(|i| usize::from(i >= 20)).collect();
        let names = vec!["a".to_string(), "b".to_string()];
        let plan = plan_split(
            &SplitConfig::StratifiedKFold { folds: 5, shuffle: true, repeats: 1 },
            30,
            Some((&labels, &names)),
            None,
            3,
        )
        .unwrap();
        for f in &plan.folds {
            let b = f.test.iter().filter(|&&i| labels[i] == 1).count();
            assert_eq!((f.test.len(), b), (6, 2));
        }
    }
}
