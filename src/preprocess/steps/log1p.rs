//! `log1p`: `log(1 + x)` of the listed columns (every column when none is listed), the
//! others left as they are, in place and under their own names (a FunctionTransformer of
//! np.log1p on those columns).

use super::FittedStep;
use crate::spec::value::{params, DefaultValue::*, ParamType};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

params! {
    /// `log1p`.
    Log1pParams {
        columns: Vec<String> = SL(&[]), ParamType::Names, "the design columns to take log(1 + x) of; empty: all";
    }
}

/// A fitted `log1p` step: the input's width and the columns it takes the log of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedLog1p {
    pub n_features_in: usize,
    pub columns: Vec<usize>,
}

/// The columns by name among the step's input `names`; a training value below -1 (whose
/// log1p is not a number) is refused, naming the column.
pub fn fit(p: &Log1pParams, x: ArrayView2<f64>, names: &[String]) -> Result<FittedLog1p, String> {
    let columns: Vec<usize> = if p.columns.is_empty() {
        (0..x.ncols()).collect()
    } else {
        p.columns
            .iter()
            .map(|c| {
                names.iter().position(|n| n == c).ok_or_else(|| {
                    let hint = crate::suggest::suggestion(c, names.iter().map(String::as_str));
                    format!("column `{c}` is not one of the step's input columns{hint}")
                })
            })
            .collect::<Result<_, _>>()?
    };
    for &j in &columns {
        if let Some(r) = x.column(j).iter().position(|v| *v < -1.0) {
            let name = names.get(j).map_or("?", String::as_str);
            return Err(format!("column `{name}` has {} in a training row ({r}); log1p needs values >= -1", x[[r, j]]));
        }
    }
    Ok(FittedLog1p { n_features_in: x.ncols(), columns })
}

impl FittedStep for FittedLog1p {
    fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut out = x.to_owned();
        for &j in &self.columns {
            out.column_mut(j).mapv_inplace(f64::ln_1p);
        }
        out
    }

    fn feature_names(&self, input: &[String]) -> Vec<String> {
        input.to_vec()
    }

    fn check(&self, width: usize) -> Result<(), String> {
        if self.n_features_in != width {
            return Err(format!("n_features_in is {}, but its input has {width} columns", self.n_features_in));
        }
        match self.columns.iter().find(|&&j| j >= width) {
            Some(j) => Err(format!("columns holds {j}, past the input's {width} columns")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn only_the_listed_columns_change() {
        let names = ["a".to_string(), "b".to_string()];
        let p = Log1pParams { columns: vec!["b".into()] };
        let f = fit(&p, array![[1.0, 0.0]].view(), &names).unwrap();
        assert_eq!(f.transform(array![[1.0, 1.0]].view()), array![[1.0, 2f64.ln()]]);
        let bad = Log1pParams { columns: vec!["bb".into()] };
        let e = fit(&bad, array![[1.0, 0.0]].view(), &names).unwrap_err();
        assert!(e.contains("column `bb` is not one of the step's input columns, did you mean `b`?"), "{e}");
    }
}
