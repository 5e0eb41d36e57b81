//! scikit-learn's split criteria (`tree/_criterion.pyx`: `Gini`, `Entropy`, `MSE`, `Poisson`, `MAE`), in its
//! order of operations, so that impurities round as scikit-learn's do. That matters beyond
//! the last digit: a node is a leaf when its impurity is at most `EPSILON`, and a child's
//! impurity is not computed from the child's rows but from its parent's sums by subtraction
//! (`sq_sum_total - sq_sum_left`), so two equal targets can leave a residue (5.7e-14 for
//! 15.9, 15.9) that makes scikit-learn split the node again, and that split draws from the
//! feature-order stream. Every impurity of the tree is computed here, nowhere else.

/// The impurity a split minimises: the classifier's criterion, or squared error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Impurity {
    Gini,
    Entropy,
    SquaredError,
    /// Half the Poisson deviance (`y log(y / mean)` per row).
    Poisson,
    /// Mean absolute error around the node's weighted median (1.9.1's `MAE`: each `reset`
    /// precomputes every prefix's and suffix's error with a Fenwick tree, see [`AbsErrors`]).
    AbsoluteError,
}

/// The targets a tree fits: class indices, or values.
pub enum Targets<'a> {
    Classes { y: &'a [usize], n_classes: usize },
    Values(&'a [f64]),
}

/// The sums of a set of rows (scikit-learn's `weighted_n_*`, `sum_*`, `sq_sum_total`): the row
/// count, the class counts or the sum of values, and the sum of squared values.
#[derive(Debug, Clone)]
pub struct Stats {
    pub n: f64,
    pub sums: Vec<f64>,
    sq_sum: f64,
}

/// A chosen split's children, as `node_split_best` records them after the final partition.
pub struct Children {
    pub impurity_left: f64,
    pub impurity_right: f64,
    pub improvement: f64,
}

pub struct SplitCriterion<'a> {
    pub impurity: Impurity,
    pub targets: Targets<'a>,
    /// Each row's sample weight (1 when the fit has none: multiplying by 1 is exact, so an
    /// unweighted tree's sums are unchanged).
    pub weights: &'a [f64],
    /// The weight of the rows the tree is trained on (`weighted_n_samples`).
    pub n_total: f64,
    /// `MAE.node_medians`: the weighted median its last `reset` found, which is what
    /// `node_value` reports (so a node's value depends on the row order of that reset, as
    /// scikit-learn's does when weights are fractional).
    pub last_median: std::cell::Cell<f64>,
}

impl<'a> SplitCriterion<'a> {
    fn width(&self) -> usize {
        match self.targets {
            Targets::Classes { n_classes, .. } => n_classes,
            Targets::Values(_) => 1,
        }
    }

    /// No rows: the left side before a scan.
    pub fn empty(&self) -> Stats {
        Stats { n: 0.0, sums: vec![0.0; self.width()], sq_sum: 0.0 }
    }

    /// Moves one row into (`sign` 1) or out of (`sign` -1) `stats` with its weight, as
    /// `init` and `update` do (`w * y`, then `w_y * y` for the squares).
    fn add(&self, stats: &mut Stats, row: usize, sign: f64) {
        let w = sign * self.weights[row];
        stats.n += w;
        match self.targets {
            Targets::Classes { y, .. } => stats.sums[y[row]] += w,
            Targets::Values(y) => {
                let w_y = w * y[row];
                stats.sums[0] += w_y;
                stats.sq_sum += w_y * y[row];
            }
        }
    }

    /// `init`: the sums of a node's rows, in their order (and MAE's `reset` on them).
    pub fn node_stats(&self, rows: &[usize]) -> Stats {
        let mut s = self.empty();
        for &r in rows {
            self.add(&mut s, r, 1.0);
        }
        self.reset(rows);
        s
    }

    /// `node_value`: class fractions, the mean, or (MAE) the median of the last `reset`.
    pub fn node_value(&self, s: &Stats) -> Vec<f64> {
        if self.impurity == Impurity::AbsoluteError {
            return vec![self.last_median.get()];
        }
        s.sums.iter().map(|v| v / s.n).collect()
    }

    /// `reset` on `rows` in their current order: MAE's precomputed errors (and its median
    /// kept for `node_value`); the other criteria keep nothing that depends on the order.
    pub fn reset(&self, rows: &[usize]) -> Option<AbsErrors> {
        if self.impurity != Impurity::AbsoluteError {
            return None;
        }
        let Targets::Values(y) = self.targets else { return None };
        let errors = AbsErrors::new(y, self.weights, rows);
        self.last_median.set(errors.median);
        Some(errors)
    }

    /// `node_impurity` of the node's `rows` (scikit-learn computes it for the root only; a
    /// child inherits the value its parent's `children_impurity` gave it).
    pub fn node_impurity(&self, s: &Stats, rows: &[usize]) -> f64 {
        match self.impurity {
            Impurity::SquaredError => s.sq_sum / s.n - (s.sums[0] / s.n).powi(2),
            Impurity::Poisson => self.poisson_loss(rows, s),
            // `right_abs_errors[start] / weighted_n_node_samples`, the root's reset.
            Impurity::AbsoluteError => self.reset(rows).map_or(f64::NAN, |e| e.right[0] / s.n),
            _ => self.class_impurity(s),
        }
    }

    /// `Poisson.poisson_loss`: the weighted mean of `xlogy(y, y / mean)` over the rows (infinite
    /// when the sum of targets is at most `EPSILON`).
    fn poisson_loss(&self, rows: &[usize], s: &Stats) -> f64 {
        let Targets::Values(y) = self.targets else { return f64::NAN };
        if s.sums[0] <= f64::EPSILON {
            return f64::INFINITY;
        }
        let mean = s.sums[0] / s.n;
        let mut loss = 0.0;
        for &r in rows {
            // scipy's xlogy: 0 where y is 0.
            let xlogy = if y[r] == 0.0 { 0.0 } else { y[r] * (y[r] / mean).ln() };
            loss += self.weights[r] * xlogy;
        }
        loss / s.n
    }

    /// Gini or entropy of class counts, summed class by class as scikit-learn does.
    fn class_impurity(&self, s: &Stats) -> f64 {
        class_impurity(self.impurity, &s.sums, s.n)
    }

    /// `update`: the left sums at `new_pos` from those at `pos`, walking from the nearer end
    /// (from the node's sums backwards when the end is nearer), so sums round as its do;
    /// MAE's `update` always walks forward.
    pub fn update(&self, mut left: Stats, node: &Stats, rows: &[usize], pos: usize, new_pos: usize) -> Stats {
        if self.impurity == Impurity::AbsoluteError || new_pos - pos <= rows.len() - new_pos {
            for &r in &rows[pos..new_pos] {
                self.add(&mut left, r, 1.0);
            }
        } else {
            // `node`'s sums, into `left`'s buffers.
            left.n = node.n;
            left.sums.copy_from_slice(&node.sums);
            left.sq_sum = node.sq_sum;
            for &r in rows[new_pos..].iter().rev() {
                self.add(&mut left, r, -1.0);
            }
        }
        left
    }

    /// The right sums: the node's minus the left's (`sum_right = sum_total - sum_left`).
    pub fn right_of(&self, node: &Stats, left: &Stats) -> Stats {
        let mut right = self.empty();
        self.right_into(node, left, &mut right);
        right
    }

    /// [`Self::right_of`] into `right`'s buffers (the scan's, reused from position to position).
    fn right_into(&self, node: &Stats, left: &Stats, right: &mut Stats) {
        for ((r, t), l) in right.sums.iter_mut().zip(&node.sums).zip(&left.sums) {
            *r = t - l;
        }
        right.n = node.n - left.n;
        right.sq_sum = node.sq_sum - left.sq_sum;
    }

    /// `proxy_impurity_improvement` of the split at `pos` (`errors`: MAE's `reset` of the
    /// rows in the order they are split in): larger is better.
    pub fn proxy(&self, left: &Stats, right: &Stats, errors: Option<&AbsErrors>, pos: usize) -> f64 {
        match self.impurity {
            Impurity::AbsoluteError => {
                // The base class's: `children_impurity`, then weighted back.
                let (impurity_left, impurity_right) = errors.map_or((0.0, 0.0), |e| e.children(left, right, pos));
                -right.n * impurity_right - left.n * impurity_left
            }
            Impurity::SquaredError => left.sums[0] * left.sums[0] / left.n + right.sums[0] * right.sums[0] / right.n,
            Impurity::Poisson => {
                // No child may predict 0 or less; the tree module's `log` is in bits.
                if left.sums[0] <= f64::EPSILON || right.sums[0] <= f64::EPSILON {
                    return f64::NEG_INFINITY;
                }
                let log = |v: f64| v.ln() / 2.0f64.ln();
                let proxy_left = 0.0 - left.sums[0] * log(left.sums[0] / left.n);
                let proxy_right = 0.0 - right.sums[0] * log(right.sums[0] / right.n);
                -proxy_left - proxy_right
            }
            _ => -right.n * self.class_impurity(right) - left.n * self.class_impurity(left),
        }
    }

    /// The running sums of a scan over the node's `rows` (in their sorted order), for any criterion.
    pub fn general_scan<'b>(&'b self, node: &'b Stats, rows: &[usize]) -> GeneralScan<'a, 'b> {
        let (left, right) = (self.empty(), self.empty());
        GeneralScan { criterion: self, node, left, right, errors: self.reset(rows), kept: [0.0; BATCH] }
    }

    /// The running sums of a scan of gini or entropy over at most `K` classes, in fixed-size
    /// arrays (`None` for the other criteria or more classes).
    pub fn class_scan<const K: usize>(&self, node: &Stats) -> Option<ClassScan<'a, K>> {
        let Targets::Classes { y, n_classes } = self.targets else { return None };
        if !matches!(self.impurity, Impurity::Gini | Impurity::Entropy) || n_classes > K {
            return None;
        }
        let mut node_sums = [0.0; K];
        node_sums[..n_classes].copy_from_slice(&node.sums);
        Some(ClassScan {
            impurity: self.impurity,
            y,
            weights: self.weights,
            node_n: node.n,
            node: node_sums,
            left_n: 0.0,
            left: [0.0; K],
            right_n: 0.0,
            right: [0.0; K],
            kept_n: [(0.0, 0.0); BATCH],
            kept: [([0.0; K], [0.0; K]); BATCH],
        })
    }

    /// The chosen split of a node whose `rows` are partitioned at `pos`: `reset`, `update(pos)`,
    /// `children_impurity` and `impurity_improvement` against the node's inherited impurity.
    pub fn children(&self, node: &Stats, rows: &[usize], pos: usize, parent_impurity: f64) -> Children {
        let left = self.update(self.empty(), node, rows, 0, pos);
        let right = self.right_of(node, &left);
        let (impurity_left, impurity_right) = match self.impurity {
            Impurity::SquaredError => {
                // The left squares are summed afresh over the left rows; the right ones are
                // what remains of the node's.
                let mut sq_sum_left = 0.0;
                if let Targets::Values(y) = self.targets {
                    for &r in &rows[..pos] {
                        sq_sum_left += self.weights[r] * y[r] * y[r];
                    }
                }
                let sq_sum_right = node.sq_sum - sq_sum_left;
                (
                    sq_sum_left / left.n - (left.sums[0] / left.n).powi(2),
                    sq_sum_right / right.n - (right.sums[0] / right.n).powi(2),
                )
            }
            Impurity::Poisson => (self.poisson_loss(&rows[..pos], &left), self.poisson_loss(&rows[pos..], &right)),
            Impurity::AbsoluteError => self.reset(rows).map_or((0.0, 0.0), |e| e.children(&left, &right, pos)),
            _ => (self.class_impurity(&left), self.class_impurity(&right)),
        };
        let improvement = (node.n / self.n_total)
            * (parent_impurity - (right.n / node.n * impurity_right) - (left.n / node.n * impurity_left));
        Children { impurity_left, impurity_right, improvement }
    }
}

/// Gini or entropy of class counts `sums` of weight `n`, summed class by class as scikit-learn
/// does (a class of count 0 adds nothing: `+ 0 * 0` to gini's sum, skipped by entropy).
#[inline(always)]
fn class_impurity(impurity: Impurity, sums: &[f64], n: f64) -> f64 {
    match impurity {
        Impurity::Entropy => {
            // In bits: scikit-learn's tree `log` is `ln(x) / ln(2.0)`.
            let mut entropy = 0.0;
            for &count in sums.iter().filter(|&&c| c > 0.0) {
                let fraction = count / n;
                entropy -= fraction * (fraction.ln() / 2.0f64.ln());
            }
            entropy
        }
        _ => {
            let mut sq_count = 0.0;
            for &count in sums {
                sq_count += count * count;
            }
            1.0 - sq_count / (n * n)
        }
    }
}

/// Split positions whose proxies are computed together (one after another, none waiting on the
/// one before: the divisions overlap).
pub const BATCH: usize = 32;

/// The running sums of `node_split_best`'s scan over one feature's sorted rows.
pub trait ScanSums {
    /// `update` from `pos` to `new_pos`, then the right sums (`sum_total - sum_left`).
    fn move_to(&mut self, rows: &[usize], pos: usize, new_pos: usize);
    /// The left and right weights (`weighted_n_left`, `weighted_n_right`).
    fn sides(&self) -> (f64, f64);
    /// Keeps the split at `pos` (the sums now) as candidate `slot` (below [`BATCH`]).
    fn keep(&mut self, slot: usize, pos: usize);
    /// `proxy_impurity_improvement` of the first `len` kept splits, into `out`.
    fn proxies(&self, len: usize, out: &mut [f64; BATCH]);
}

/// Any criterion's scan, on [`Stats`] (MAE's `reset` kept for its proxies).
pub struct GeneralScan<'a, 'b> {
    criterion: &'b SplitCriterion<'a>,
    node: &'b Stats,
    left: Stats,
    right: Stats,
    errors: Option<AbsErrors>,
    kept: [f64; BATCH],
}

impl ScanSums for GeneralScan<'_, '_> {
    fn move_to(&mut self, rows: &[usize], pos: usize, new_pos: usize) {
        let left = std::mem::replace(&mut self.left, Stats { n: 0.0, sums: Vec::new(), sq_sum: 0.0 });
        self.left = self.criterion.update(left, self.node, rows, pos, new_pos);
        self.criterion.right_into(self.node, &self.left, &mut self.right);
    }

    fn sides(&self) -> (f64, f64) {
        (self.left.n, self.right.n)
    }

    fn keep(&mut self, slot: usize, pos: usize) {
        self.kept[slot] = self.criterion.proxy(&self.left, &self.right, self.errors.as_ref(), pos);
    }

    fn proxies(&self, len: usize, out: &mut [f64; BATCH]) {
        out[..len].copy_from_slice(&self.kept[..len]);
    }
}

/// Gini's or entropy's scan over at most `K` classes: [`SplitCriterion::update`],
/// [`SplitCriterion::right_into`] and [`SplitCriterion::proxy`] on arrays, the same operations
/// in the same order (the classes past the tree's are 0 throughout and add nothing).
pub struct ClassScan<'a, const K: usize> {
    impurity: Impurity,
    y: &'a [usize],
    weights: &'a [f64],
    node_n: f64,
    node: [f64; K],
    left_n: f64,
    left: [f64; K],
    right_n: f64,
    right: [f64; K],
    /// The kept splits' (left, right) weights and class sums.
    kept_n: [(f64, f64); BATCH],
    kept: [([f64; K], [f64; K]); BATCH],
}

impl<const K: usize> ScanSums for ClassScan<'_, K> {
    fn move_to(&mut self, rows: &[usize], pos: usize, new_pos: usize) {
        // As `update`: from the nearer end (`-w` is `sign * w` for a sign of -1).
        if new_pos - pos <= rows.len() - new_pos {
            for &r in &rows[pos..new_pos] {
                let w = self.weights[r];
                self.left_n += w;
                self.left[self.y[r]] += w;
            }
        } else {
            self.left_n = self.node_n;
            self.left = self.node;
            for &r in rows[new_pos..].iter().rev() {
                let w = -self.weights[r];
                self.left_n += w;
                self.left[self.y[r]] += w;
            }
        }
        for k in 0..K {
            self.right[k] = self.node[k] - self.left[k];
        }
        self.right_n = self.node_n - self.left_n;
    }

    fn sides(&self) -> (f64, f64) {
        (self.left_n, self.right_n)
    }

    fn keep(&mut self, slot: usize, _pos: usize) {
        self.kept_n[slot] = (self.left_n, self.right_n);
        self.kept[slot] = (self.left, self.right);
    }

    fn proxies(&self, len: usize, out: &mut [f64; BATCH]) {
        for ((o, &(left_n, right_n)), (left, right)) in out.iter_mut().zip(&self.kept_n).zip(&self.kept).take(len) {
            *o = class_proxy(self.impurity, left_n, left, right_n, right);
        }
    }
}

/// Gini's or entropy's `proxy_impurity_improvement` from both sides' weights and class sums.
#[inline(always)]
fn class_proxy(impurity: Impurity, left_n: f64, left: &[f64], right_n: f64, right: &[f64]) -> f64 {
    -right_n * class_impurity(impurity, right, right_n) - left_n * class_impurity(impurity, left, left_n)
}

/// A tree's class sums as integers, where every row's weight is a whole number: each row's weight
/// in its class's field of `bits` bits of one `u64` (`w << (bits * y)`), so one integer addition
/// adds a row to every class sum. Every sum of these rows is below `2^bits` (the fields never
/// carry) and below `2^53`, so it decodes to the exact f64 sum the f64 scan holds, in any order.
pub struct PackedClasses {
    /// Each row's packed weight (0 for rows of weight 0).
    rows: Vec<u64>,
    /// Each class's field: where it starts and its mask (0 past the tree's classes).
    shifts: [u32; 8],
    masks: [u64; 8],
    n_classes: usize,
}

impl PackedClasses {
    /// `None` for a criterion other than gini or entropy, more than 8 classes, a weight that is
    /// not a whole number, or a total weight that does not fit a field.
    pub fn of(criterion: &SplitCriterion) -> Option<PackedClasses> {
        let Targets::Classes { y, n_classes } = criterion.targets else { return None };
        if !matches!(criterion.impurity, Impurity::Gini | Impurity::Entropy) || !(2..=8).contains(&n_classes) {
            return None;
        }
        let bits = 64 / n_classes as u32;
        let whole = criterion.weights.iter().all(|&w| w >= 0.0 && w.fract() == 0.0);
        let total = criterion.weights.iter().fold(0.0, |s, w| s + w);
        if !whole || total >= 2f64.powi(bits.min(53) as i32) {
            return None;
        }
        let rows = y.iter().zip(criterion.weights).map(|(&c, &w)| (w as u64) << (bits * c as u32)).collect();
        let (mut shifts, mut masks) = ([0; 8], [0; 8]);
        for k in 0..n_classes {
            (shifts[k], masks[k]) = (bits * k as u32, (1 << bits) - 1);
        }
        Some(PackedClasses { rows, shifts, masks, n_classes })
    }

    /// The tree's class count.
    pub fn width(&self) -> usize {
        self.n_classes
    }

    /// A row's packed weight.
    #[inline(always)]
    pub fn of_row(&self, row: usize) -> u64 {
        self.rows[row]
    }

    /// The class sums `K` wide (the classes past the tree's 0) of packed sums `acc`, and their total.
    #[inline(always)]
    fn decode<const K: usize>(&self, acc: u64) -> ([f64; K], u64) {
        // Every class of the K, unrolled: the sums stay in registers.
        let (mut sums, mut total) = ([0.0; K], 0);
        for (k, sum) in sums.iter_mut().enumerate() {
            let count = (acc >> self.shifts[k]) & self.masks[k];
            total += count;
            // Below 2^32: as i64, one conversion instruction.
            *sum = count as i64 as f64;
        }
        (sums, total)
    }

    /// `init`'s sums of a node's rows (the weights and class sums added in f64 are these exact integers).
    pub fn stats(&self, rows: &[usize]) -> Stats {
        let acc = rows.iter().fold(0u64, |acc, &r| acc + self.rows[r]);
        let (sums, total) = self.decode::<8>(acc);
        Stats { n: total as i64 as f64, sums: sums[..self.n_classes].to_vec(), sq_sum: 0.0 }
    }

    /// The scan of a node of sums `node` over at most `K` classes (`K >= n_classes`).
    pub fn scan<const K: usize>(&self, impurity: Impurity, node: &Stats) -> PackedScan<'_, K> {
        let mut node_sums = [0.0; K];
        node_sums[..self.n_classes].copy_from_slice(&node.sums);
        PackedScan { packed: self, impurity, node_n: node.n, node: node_sums }
    }
}

/// A node's scan on [`PackedClasses`]: a split position is the packed sums of the rows left of it.
pub struct PackedScan<'a, const K: usize> {
    packed: &'a PackedClasses,
    impurity: Impurity,
    node_n: f64,
    node: [f64; K],
}

impl<const K: usize> PackedScan<'_, K> {
    /// Whether both sides of the split at packed left sums `acc` weigh at least `min_weight`.
    #[inline(always)]
    pub fn sides_weigh(&self, acc: u64, min_weight: f64) -> bool {
        let left_n = self.packed.decode::<K>(acc).1 as i64 as f64;
        left_n >= min_weight && self.node_n - left_n >= min_weight
    }

    /// [`ClassScan`]'s proxies of the splits at packed left sums `kept`, into `out`: the same
    /// f64 values (left sums exact, right ones `node - left`), the same arithmetic.
    pub fn proxies(&self, kept: &[u64], out: &mut [f64; BATCH]) {
        for (o, &acc) in out.iter_mut().zip(kept) {
            let (left, total) = self.packed.decode::<K>(acc);
            let left_n = total as i64 as f64;
            let mut right = [0.0; K];
            for k in 0..K {
                right[k] = self.node[k] - left[k];
            }
            *o = class_proxy(self.impurity, left_n, &left, self.node_n - left_n, &right);
        }
    }
}

/// MAE's precomputation over a node's rows in one order (`reset`): `left[p]` is the weighted
/// absolute error of `rows[..=p]` around their weighted median, `right[p]` that of `rows[p..]`
/// (`left_abs_errors` / `right_abs_errors`), and `median` the node's weighted median.
pub struct AbsErrors {
    left: Vec<f64>,
    right: Vec<f64>,
    pub median: f64,
}

impl AbsErrors {
    /// The node-local ranks of the targets (`compute_ranks`: the three-way introsort), then a
    /// forward and a backward pass (`precompute_absolute_errors`).
    fn new(y: &[f64], weights: &[f64], rows: &[usize]) -> AbsErrors {
        let n = rows.len();
        let mut sorted_y: Vec<f64> = rows.iter().map(|&r| y[r]).collect();
        let mut order: Vec<usize> = (0..n).collect();
        super::introsort::simultaneous_sort(&mut sorted_y, &mut order);
        let mut ranks = vec![0; n];
        for (i, &p) in order.iter().enumerate() {
            ranks[p] = i;
        }
        let mut tree = Fenwick::new(n);
        let mut left = vec![0.0; n];
        let mut right = vec![0.0; n];
        let pass = Pass { sorted_y: &sorted_y, ranks: &ranks, weights, rows };
        pass.run(&mut tree, 0..n, &mut left);
        let median = pass.run(&mut tree, (0..n).rev(), &mut right);
        AbsErrors { left, right, median }
    }

    /// `children_impurity` at `pos`: each side's error over its weight (0 for an empty side).
    fn children(&self, left: &Stats, right: &Stats, pos: usize) -> (f64, f64) {
        let error_left = if pos > 0 { self.left[pos - 1] } else { 0.0 };
        let error_right = if pos < self.right.len() { self.right[pos] } else { 0.0 };
        (error_left / left.n, error_right / right.n)
    }
}

/// One pass of `precompute_absolute_errors` over a node's rows.
struct Pass<'a> {
    sorted_y: &'a [f64],
    ranks: &'a [usize],
    weights: &'a [f64],
    rows: &'a [usize],
}

impl Pass<'_> {
    /// Activates the rows at `positions` one at a time, writing each prefix's error at its
    /// position; returns the median of the last prefix (all the rows).
    fn run(&self, tree: &mut Fenwick, positions: impl Iterator<Item = usize>, errors: &mut [f64]) -> f64 {
        tree.reset();
        let mut median = f64::NAN;
        for p in positions {
            let rank = self.ranks[p];
            tree.add(rank, self.sorted_y[rank], self.weights[self.rows[p]]);
            let found = tree.search(0.5 * tree.total_w);
            median = if found.rank != found.prev_rank {
                // The half weight falls exactly between two ranks: their midpoint.
                (self.sorted_y[found.prev_rank] + self.sorted_y[found.rank]) / 2.0
            } else {
                self.sorted_y[found.rank]
            };
            let w_right = tree.total_w - found.w_left;
            let wy_right = tree.total_wy - found.wy_left;
            // The pinball-loss identity, added to the zeroed array as scikit-learn does.
            errors[p] = 0.0 + ((wy_right - median * w_right) + (median * found.w_left - found.wy_left));
        }
        median
    }
}

/// `_utils.pyx`'s `WeightedFenwickTree`: prefix sums of weights and of weight × y by rank.
struct Fenwick {
    /// 1-based.
    w: Vec<f64>,
    wy: Vec<f64>,
    size: usize,
    max_pow2: usize,
    total_w: f64,
    total_wy: f64,
}

/// What `search` finds: the smallest rank whose cumulative weight passes the target, the
/// sums before it, and the rank before an exact match (`prev_idx`).
struct Found {
    rank: usize,
    prev_rank: usize,
    w_left: f64,
    wy_left: f64,
}

impl Fenwick {
    fn new(size: usize) -> Fenwick {
        let mut p = 1;
        while p <= size {
            p <<= 1;
        }
        let zeros = vec![0.0; size + 1];
        Fenwick { w: zeros.clone(), wy: zeros, size, max_pow2: p >> 1, total_w: 0.0, total_wy: 0.0 }
    }

    fn reset(&mut self) {
        self.w.fill(0.0);
        self.wy.fill(0.0);
        self.total_w = 0.0;
        self.total_wy = 0.0;
    }

    fn add(&mut self, rank: usize, y: f64, weight: f64) {
        let weighted_y = weight * y;
        let mut i = rank + 1;
        while i <= self.size {
            self.w[i] += weight;
            self.wy[i] += weighted_y;
            i += i & i.wrapping_neg();
        }
        self.total_w += weight;
        self.total_wy += weighted_y;
    }

    /// `search(target_weight)`, its three phases as written.
    fn search(&self, mut target: f64) -> Found {
        let (mut current, mut w_left, mut wy_left) = (0, 0.0, 0.0);
        let mut bit = self.max_pow2;
        while bit != 0 {
            let next = current + bit;
            if next <= self.size {
                if target == self.w[next] {
                    break;
                } else if target > self.w[next] {
                    target -= self.w[next];
                    current = next;
                    w_left += self.w[next];
                    wy_left += self.wy[next];
                }
            }
            bit >>= 1;
        }
        if bit == 0 {
            return Found { rank: current, prev_rank: current, w_left, wy_left };
        }
        // An exact match: the largest rank whose cumulative weight is below the target ...
        let (equal_bit, equal_target) = (bit, target);
        let mut prev = current;
        while bit != 0 {
            let next = prev + bit;
            if next <= self.size && target > self.w[next] {
                target -= self.w[next];
                prev = next;
            }
            bit >>= 1;
        }
        // ... and the largest whose cumulative weight is at most it.
        let (mut bit, mut target) = (equal_bit, equal_target);
        while bit != 0 {
            let next = current + bit;
            if next <= self.size && target >= self.w[next] {
                target -= self.w[next];
                current = next;
                w_left += self.w[next];
                wy_left += self.wy[next];
            }
            bit >>= 1;
        }
        Found { rank: current, prev_rank: prev, w_left, wy_left }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn 1.9.1's `_py_precompute_absolute_errors` on fractional weights, tied
    /// targets and half weights met exactly (where the median is a midpoint), both passes.
    #[test]
    fn absolute_errors_are_scikit_learns() {
        let y = [3.0, 1.0, 2.0, 2.0, 5.0, 0.5, 4.0];
        let w = [1.0, 0.5, 2.0, 1.5, 1.0, 0.25, 0.75];
        let e = AbsErrors::new(&y, &w, &[4, 0, 2, 6, 1, 3, 5]);
        assert_eq!(e.left, [0.0, 2.0, 4.0, 4.75, 5.75, 6.0, 6.375]);
        assert_eq!(e.right, [6.375, 3.375, 2.375, 2.375, 0.875, 0.375, 0.0]);
        assert_eq!(e.median, 2.0);
        // Two rows of equal weight: the midpoint of their targets.
        assert_eq!(AbsErrors::new(&y, &w, &[0, 4]).median, 4.0);
    }
}
