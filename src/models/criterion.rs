//! scikit-learn's split criteria (`tree/_criterion.pyx`: `Gini`, `Entropy`, `MSE`, `Poisson`), in its
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
}

impl SplitCriterion<'_> {
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

    /// `init`: the sums of a node's rows, in their order.
    pub fn node_stats(&self, rows: &[usize]) -> Stats {
        let mut s = self.empty();
        for &r in rows {
            self.add(&mut s, r, 1.0);
        }
        s
    }

    /// `node_value`: class fractions, or the mean.
    pub fn node_value(&self, s: &Stats) -> Vec<f64> {
        s.sums.iter().map(|v| v / s.n).collect()
    }

    /// `node_impurity` of the node's `rows` (scikit-learn computes it for the root only; a
    /// child inherits the value its parent's `children_impurity` gave it).
    pub fn node_impurity(&self, s: &Stats, rows: &[usize]) -> f64 {
        match self.impurity {
            Impurity::SquaredError => s.sq_sum / s.n - (s.sums[0] / s.n).powi(2),
            Impurity::Poisson => self.poisson_loss(rows, s),
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
        match self.impurity {
            Impurity::Entropy => {
                // In bits: scikit-learn's tree `log` is `ln(x) / ln(2.0)`.
                let mut entropy = 0.0;
                for &count in s.sums.iter().filter(|&&c| c > 0.0) {
                    let fraction = count / s.n;
                    entropy -= fraction * (fraction.ln() / 2.0f64.ln());
                }
                entropy
            }
            _ => {
                let mut sq_count = 0.0;
                for &count in &s.sums {
                    sq_count += count * count;
                }
                1.0 - sq_count / (s.n * s.n)
            }
        }
    }

    /// `update`: the left sums at `new_pos` from those at `pos`, walking from the nearer end
    /// (from the node's sums backwards when the end is nearer), so sums round as its do.
    pub fn update(&self, mut left: Stats, node: &Stats, rows: &[usize], pos: usize, new_pos: usize) -> Stats {
        if new_pos - pos <= rows.len() - new_pos {
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
    pub fn right_into(&self, node: &Stats, left: &Stats, right: &mut Stats) {
        for ((r, t), l) in right.sums.iter_mut().zip(&node.sums).zip(&left.sums) {
            *r = t - l;
        }
        right.n = node.n - left.n;
        right.sq_sum = node.sq_sum - left.sq_sum;
    }

    /// `proxy_impurity_improvement`: larger is better.
    pub fn proxy(&self, left: &Stats, right: &Stats) -> f64 {
        match self.impurity {
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
            _ => (self.class_impurity(&left), self.class_impurity(&right)),
        };
        let improvement = (node.n / self.n_total)
            * (parent_impurity - (right.n / node.n * impurity_right) - (left.n / node.n * impurity_left));
        Children { impurity_left, impurity_right, improvement }
    }
}
