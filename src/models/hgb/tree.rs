//! One boosted tree as `TreePredictor` keeps it: nodes in depth-first order, a value per
//! leaf (shrinkage applied), numeric thresholds on raw values and the bin they came from.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HgbNode {
    Leaf(f64),
    /// Rows whose value is at most `threshold` go left (an infinite threshold, saved as
    /// `null`, sends every value left); NaN goes left iff `missing_left`. `bin` is the
    /// threshold's bin, for binned rows.
    Split {
        feature: usize,
        #[serde(with = "infinite_as_null")]
        threshold: f64,
        bin: u8,
        missing_left: bool,
        left: usize,
        right: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HgbTree {
    pub nodes: Vec<HgbNode>,
}

impl HgbTree {
    /// `_predict_one_from_raw_data` (numeric features) for each row of `x`: the leaf node each
    /// reaches, into `out`, several rows walking at once (`flat::walk`).
    pub fn leaves(&self, x: ArrayView2<f64>, out: &mut [u32]) {
        crate::models::flat::walk(out, |at, r| match self.nodes[at] {
            HgbNode::Leaf(_) => None,
            HgbNode::Split { feature, threshold, missing_left, left, right, .. } => {
                let v = x[[r, feature]];
                let go_left = if v.is_nan() { missing_left } else { v <= threshold };
                Some(if go_left { left } else { right } as u32)
            }
        });
    }

    /// The value of leaf node `leaf` (0 for a split, which no walk ends at).
    pub fn value(&self, leaf: usize) -> f64 {
        match self.nodes[leaf] {
            HgbNode::Leaf(v) => v,
            HgbNode::Split { .. } => 0.0,
        }
    }

    /// `_predict_one_from_binned_data` (numeric features).
    pub fn predict_binned(&self, bin_of: impl Fn(usize) -> u8, missing_bin: u8) -> f64 {
        self.walk(|feature, _, bin, missing_left| {
            let b = bin_of(feature);
            if b == missing_bin {
                missing_left
            } else {
                b <= bin
            }
        })
    }

    /// The leaf a row reaches; `go_left(feature, threshold, bin, missing_left)` decides each split.
    fn walk(&self, go_left: impl Fn(usize, f64, u8, bool) -> bool) -> f64 {
        let mut at = 0;
        loop {
            match &self.nodes[at] {
                HgbNode::Leaf(v) => return *v,
                HgbNode::Split { feature, threshold, bin, missing_left, left, right } => {
                    at = if go_left(*feature, *threshold, *bin, *missing_left) { *left } else { *right };
                }
            }
        }
    }

    /// A loaded tree, checked: features within `width`, children later nodes, each node
    /// but the first the child of exactly one node, finite leaf values.
    pub fn check(&self, width: usize, at: &str) -> Result<(), String> {
        let n = self.nodes.len();
        if n == 0 {
            return Err(format!("{at}.nodes is empty; a tree has at least one node"));
        }
        let mut parent = vec![false; n];
        for (i, node) in self.nodes.iter().enumerate() {
            match node {
                HgbNode::Leaf(v) if !v.is_finite() => {
                    return Err(format!("{at}.nodes[{i}].leaf is {v}; a leaf value is a finite number"))
                }
                HgbNode::Leaf(_) => {}
                HgbNode::Split { feature, threshold, left, right, .. } => {
                    if *feature >= width {
                        return Err(format!(
                            "{at}.nodes[{i}].split.feature is {feature}, but there are {width} features"
                        ));
                    }
                    if threshold.is_nan() {
                        return Err(format!("{at}.nodes[{i}].split.threshold is NaN"));
                    }
                    for (side, c) in [("left", *left), ("right", *right)] {
                        if !(i + 1..n).contains(&c) || std::mem::replace(&mut parent[c], true) {
                            return Err(format!(
                                "{at}.nodes[{i}].split.{side} is {c}; a child is a later node (up to {}) of one parent",
                                n - 1
                            ));
                        }
                    }
                }
            }
        }
        match (1..n).find(|&i| !parent[i]) {
            Some(orphan) => Err(format!("{at}.nodes[{orphan}] is no node's child")),
            None => Ok(()),
        }
    }
}

/// JSON has no infinity: an infinite threshold is written as `null`.
mod infinite_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::INFINITY))
    }
}
