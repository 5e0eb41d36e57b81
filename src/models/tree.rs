//! Decision-tree classifiers by linfa-trees (CART with gini or entropy). linfa-trees has no
//! regression trees. Predictions are class labels; the probabilities behind log_loss and
//! roc_auc are therefore 0/1 (log_loss is large wherever the tree is wrong).

use super::catalog::Params;
use super::{FitError, Fitted, Prediction};
use linfa::traits::{Fit, Predict};
use linfa_trees::{DecisionTree, SplitQuality};
use ndarray::{Array1, Array2};

struct Tree {
    tree: DecisionTree<f64, usize>,
    n_classes: usize,
}

impl Fitted for Tree {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let labels: Array1<usize> = self.tree.predict(x);
        let mut p = Array2::<f64>::zeros((x.nrows(), self.n_classes));
        for (i, &c) in labels.iter().enumerate() {
            p[[i, c.min(self.n_classes - 1)]] = 1.0;
        }
        Prediction::Probabilities(p)
    }
    fn coefficients(&self) -> Option<super::Coefficients> {
        None
    }
}

pub fn fit(params: &Params, x: &Array2<f64>, y: &[usize], class_names: &[String]) -> Result<Box<dyn Fitted>, FitError> {
    let depth = params.usize("max_depth");
    let quality = if params.str("criterion") == "entropy" { SplitQuality::Entropy } else { SplitQuality::Gini };
    let labels = Array1::from(y.to_vec());
    let tree = DecisionTree::params()
        .split_quality(quality)
        .max_depth((depth > 0).then_some(depth))
        .min_weight_split(params.usize("min_samples_split") as f32)
        .min_weight_leaf(params.usize("min_samples_leaf") as f32)
        .fit(&linfa::DatasetBase::new(x.clone(), labels))
        .map_err(|e| FitError::Solver(format!("decision tree failed: {e}")))?;
    Ok(Box::new(Tree { tree, n_classes: class_names.len() }))
}
