//! `poly`: scikit-learn's PolynomialFeatures on a dense matrix: the same columns in the same
//! order, each product multiplied in the same order, and `get_feature_names_out`'s names.

use super::FittedStep;
use crate::spec::value::{params, DefaultValue::*, ParamType};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

params! {
    /// `poly`: PolynomialFeatures.
    PolyParams {
        degree: usize = I(2), ParamType::Int { min: 1, max: 20 }, "the largest total degree of a product";
        interaction_only: bool = B(false), ParamType::Bool, "only products of distinct columns (no x0^2)";
        include_bias: bool = B(true), ParamType::Bool, "a first column of ones";
    }
}

/// The most columns a `poly` step may make (a guard against a degree the memory cannot hold).
const MAX_COLUMNS: usize = 1_000_000;

/// A fitted `poly` step: its output columns as the input columns each multiplies, in
/// scikit-learn's order (an empty product is the bias column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedPoly {
    pub degree: usize,
    pub interaction_only: bool,
    pub include_bias: bool,
    pub n_features_in: usize,
}

impl FittedPoly {
    /// Each output column's factors, ascending: sklearn's `combinations(_with_replacement)`
    /// of the input columns, degree by degree.
    fn combinations(&self) -> Vec<Vec<usize>> {
        let start = if self.include_bias { 0 } else { 1 };
        let mut out = Vec::new();
        for d in start..=self.degree {
            let mut combo = Vec::with_capacity(d);
            push_combinations(self.n_features_in, d, self.interaction_only, &mut combo, &mut out);
        }
        out
    }
}

fn push_combinations(n: usize, left: usize, distinct: bool, combo: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if left == 0 {
        out.push(combo.clone());
        return;
    }
    let from = match combo.last() {
        Some(&last) if distinct => last + 1,
        Some(&last) => last,
        None => 0,
    };
    for j in from..n {
        combo.push(j);
        push_combinations(n, left - 1, distinct, combo, out);
        combo.pop();
    }
}

/// The number of output columns, or `None` past `MAX_COLUMNS`.
fn output_width(n: usize, degree: usize, interaction_only: bool, include_bias: bool) -> Option<usize> {
    let mut total = usize::from(include_bias);
    for d in 1..=degree {
        // C(n, d) or C(n + d - 1, d), built up term by term (exact at every step).
        let top = if interaction_only { n } else { n + d - 1 };
        let mut c: u128 = 1;
        for k in 0..d as u128 {
            c = c * (top as u128).checked_sub(k)? / (k + 1);
            if c > MAX_COLUMNS as u128 {
                return None;
            }
        }
        total += c as usize;
    }
    (total <= MAX_COLUMNS).then_some(total)
}

pub fn fit(p: &PolyParams, x: ArrayView2<f64>) -> Result<FittedPoly, String> {
    let n = x.ncols();
    let width = output_width(n, p.degree, p.interaction_only, p.include_bias);
    match width {
        None => Err(format!("degree {} of {n} columns makes more than {MAX_COLUMNS} columns", p.degree)),
        Some(0) => Err("it makes no column (no bias, and no product of distinct columns at this degree)".into()),
        Some(_) => Ok(FittedPoly {
            degree: p.degree,
            interaction_only: p.interaction_only,
            include_bias: p.include_bias,
            n_features_in: n,
        }),
    }
}

impl FittedStep for FittedPoly {
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let combos = self.combinations();
        let mut out = Array2::zeros((x.nrows(), combos.len()));
        for (mut o, row) in out.rows_mut().into_iter().zip(x.rows()) {
            for (v, combo) in o.iter_mut().zip(&combos) {
                // sklearn builds a degree-d column as a degree-(d-1) column times its
                // smallest factor: the product runs from the last factor to the first.
                *v = match combo.split_last() {
                    None => 1.0,
                    Some((&last, rest)) => rest.iter().rev().fold(row[last], |acc, &j| acc * row[j]),
                };
            }
        }
        out
    }

    fn feature_names(&self, input: &[String]) -> Vec<String> {
        self.combinations()
            .iter()
            .map(|combo| {
                if combo.is_empty() {
                    return "1".to_string();
                }
                let mut parts: Vec<String> = Vec::new();
                let mut i = 0;
                while i < combo.len() {
                    let power = combo[i..].iter().take_while(|&&j| j == combo[i]).count();
                    let name = input.get(combo[i]).map_or("?", String::as_str);
                    parts.push(if power == 1 { name.to_string() } else { format!("{name}^{power}") });
                    i += power;
                }
                parts.join(" ")
            })
            .collect()
    }

    fn check(&self, width: usize) -> Result<(), String> {
        if self.n_features_in != width {
            return Err(format!("n_features_in is {}, but its input has {width} columns", self.n_features_in));
        }
        if !(1..=20).contains(&self.degree) {
            return Err(format!("degree is {}; expected an integer in [1, 20]", self.degree));
        }
        match output_width(width, self.degree, self.interaction_only, self.include_bias) {
            Some(w) if w > 0 => Ok(()),
            _ => Err("these settings make no column, or too many".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn poly(degree: usize, interaction_only: bool, include_bias: bool, n: usize) -> FittedPoly {
        FittedPoly { degree, interaction_only, include_bias, n_features_in: n }
    }

    #[test]
    fn names_and_order_are_scikit_learns() {
        // PolynomialFeatures(2).fit(np.zeros((1, 2))).get_feature_names_out(["a", "b"])
        let names = poly(2, false, true, 2).feature_names(&["a".into(), "b".into()]);
        assert_eq!(names, ["1", "a", "b", "a^2", "a b", "b^2"]);
        let names = poly(3, true, false, 3).feature_names(&["a".into(), "b".into(), "c".into()]);
        assert_eq!(names, ["a", "b", "c", "a b", "a c", "b c", "a b c"]);
    }

    #[test]
    fn values_are_the_products() {
        let out = poly(3, false, false, 2).transform(array![[2.0, 3.0]].view());
        assert_eq!(out, array![[2.0, 3.0, 4.0, 6.0, 9.0, 8.0, 12.0, 18.0, 27.0]]);
    }

    #[test]
    fn a_degree_too_large_is_refused() {
        let p = PolyParams { degree: 20, interaction_only: false, include_bias: true };
        assert!(fit(&p, Array2::zeros((1, 50)).view()).unwrap_err().contains("more than 1000000 columns"));
    }
}
