//! One boosted tree as `TreePredictor` keeps it: nodes in depth-first order, a value per
//! leaf (shrinkage applied), numeric thresholds on raw values and the bin they came from,
//! and categorical splits as the sorted codes that go left.

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
    /// A categorical feature of `count` known codes 0..count-1 (its bins are its codes): a
    /// code in `left_codes` (sorted) goes left, any other known code right; NaN, a negative
    /// value or an unknown one goes left iff `missing_left`.
    Category {
        feature: usize,
        count: usize,
        left_codes: Vec<usize>,
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
    /// `_predict_one_from_raw_data` for each row of `x`: the leaf node each reaches, into
    /// `out`, several rows walking at once (`flat::walk`).
    pub fn leaves(&self, x: ArrayView2<f64>, out: &mut [u32]) {
        crate::models::flat::walk(out, |at, r| match &self.nodes[at] {
            HgbNode::Leaf(_) => None,
            &HgbNode::Split { feature, threshold, missing_left, left, right, .. } => {
                let v = x[[r, feature]];
                let go_left = if v.is_nan() { missing_left } else { v <= threshold };
                Some(if go_left { left } else { right } as u32)
            }
            HgbNode::Category { feature, count, left_codes, missing_left, left, right } => {
                let go_left = code_goes_left(x[[r, *feature]], *count, left_codes).unwrap_or(*missing_left);
                Some(if go_left { *left } else { *right } as u32)
            }
        });
    }

    /// The value of leaf node `leaf` (0 for a split, which no walk ends at).
    pub fn value(&self, leaf: usize) -> f64 {
        match self.nodes[leaf] {
            HgbNode::Leaf(v) => v,
            HgbNode::Split { .. } | HgbNode::Category { .. } => 0.0,
        }
    }

    /// `_predict_one_from_binned_data`: the missing bin follows `missing_left`; a categorical
    /// feature's bin is its code.
    pub fn predict_binned(&self, bin_of: impl Fn(usize) -> u8, missing_bin: u8) -> f64 {
        let mut at = 0;
        loop {
            at = match &self.nodes[at] {
                HgbNode::Leaf(v) => return *v,
                &HgbNode::Split { feature, bin, missing_left, left, right, .. } => {
                    let b = bin_of(feature);
                    let go_left = if b == missing_bin { missing_left } else { b <= bin };
                    if go_left {
                        left
                    } else {
                        right
                    }
                }
                HgbNode::Category { feature, left_codes, missing_left, left, right, .. } => {
                    let b = bin_of(*feature);
                    let go_left = if b == missing_bin {
                        *missing_left
                    } else {
                        left_codes.binary_search(&usize::from(b)).is_ok()
                    };
                    if go_left {
                        *left
                    } else {
                        *right
                    }
                }
            };
        }
    }

    /// A loaded tree, checked: features within `width`, children later nodes, each node
    /// but the first the child of exactly one node, finite leaf values, and a categorical
    /// split's codes sorted, unique and below its count (at most 255).
    pub fn check(&self, width: usize, at: &str) -> Result<(), String> {
        let n = self.nodes.len();
        if n == 0 {
            return Err(format!("{at}.nodes is empty; a tree has at least one node"));
        }
        let mut parent = vec![false; n];
        for (i, node) in self.nodes.iter().enumerate() {
            let (kind, feature, left, right) = match node {
                HgbNode::Leaf(v) if !v.is_finite() => {
                    return Err(format!("{at}.nodes[{i}].leaf is {v}; a leaf value is a finite number"))
                }
                HgbNode::Leaf(_) => continue,
                HgbNode::Split { feature, threshold, left, right, .. } => {
                    if threshold.is_nan() {
                        return Err(format!("{at}.nodes[{i}].split.threshold is NaN"));
                    }
                    ("split", *feature, *left, *right)
                }
                HgbNode::Category { feature, count, left_codes, left, right, .. } => {
                    check_codes(*count, left_codes).map_err(|e| format!("{at}.nodes[{i}].category.{e}"))?;
                    ("category", *feature, *left, *right)
                }
            };
            if feature >= width {
                return Err(format!("{at}.nodes[{i}].{kind}.feature is {feature}, but there are {width} features"));
            }
            for (side, c) in [("left", left), ("right", right)] {
                if !(i + 1..n).contains(&c) || std::mem::replace(&mut parent[c], true) {
                    return Err(format!(
                        "{at}.nodes[{i}].{kind}.{side} is {c}; a child is a later node (up to {}) of one parent",
                        n - 1
                    ));
                }
            }
        }
        match (1..n).find(|&i| !parent[i]) {
            Some(orphan) => Err(format!("{at}.nodes[{orphan}] is no node's child")),
            None => Ok(()),
        }
    }
}

/// A categorical split's side for raw value `v` (`_predict_one_from_raw_data`): `Some(true)`
/// for a code going left, `Some(false)` for another known code, `None` (the missing side)
/// for NaN, a negative value or a value that is not a whole number below `count`.
#[inline]
fn code_goes_left(v: f64, count: usize, left_codes: &[usize]) -> Option<bool> {
    if !is_code(v, count) {
        return None;
    }
    Some(left_codes.binary_search(&(v as usize)).is_ok())
}

/// Whether `v` is one of the codes 0..count-1 (NaN fails every comparison: it is not).
#[inline]
pub fn is_code(v: f64, count: usize) -> bool {
    v >= 0.0 && v < count as f64 && v.fract() == 0.0
}

/// A categorical split's count and codes: at most 255 known codes (a bin each), the codes
/// going left increasing and below the count.
fn check_codes(count: usize, left_codes: &[usize]) -> Result<(), String> {
    if count > 255 {
        return Err(format!("count is {count}; a categorical feature has at most 255 codes"));
    }
    if let Some(c) = left_codes.iter().find(|&&c| c >= count) {
        return Err(format!("left_codes holds {c}, but the feature's codes are 0 to {}", count as i64 - 1));
    }
    if let Some(w) = left_codes.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!("left_codes are not increasing ({} then {}); they are sorted and unique", w[0], w[1]));
    }
    Ok(())
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
