//! A fitted model as plain data: what model.json saves and `runner predict` loads back.
//! Loading checks every shape against the design matrix, so a hand-edited file is refused
//! with a message instead of panicking at prediction time.

use super::mlp::MlpModel;
use super::svm::{KernelMachine, OneVsOne, PairMachine, Svr};
use super::tree::{Node, Tree};
use super::{Coefficients, Fitted, Head, Linear, Prediction};
use crate::spec::Activation;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// A fitted model's parameters, by family. Weights index the design-matrix columns
/// (model.json's `features`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelState {
    /// `head(x·weightsᵀ + intercepts)`: one weight row and intercept per output (one output
    /// for regression and binary classification, one per class for multinomial).
    Linear { head: Head, weights: Vec<Vec<f64>>, intercepts: Vec<f64> },
    /// Nodes in build order (children after their parent). `classes` is 0 for regression.
    Tree { classes: usize, nodes: Vec<Node> },
    /// Dense layers; hidden layers use `activation`, the output is linear (regression) or a
    /// softmax over classes.
    Mlp { activation: Activation, softmax: bool, layers: Vec<Layer> },
    /// Epsilon-SVR: `decision(x) - rho`.
    Svr { machine: KernelMachine },
    /// C-SVC, one machine per pair of classes (a positive decision votes for `positive`).
    Svc { classes: usize, machines: Vec<PairMachine> },
}

/// One dense layer: `weights` is outputs × inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub weights: Vec<Vec<f64>>,
    pub biases: Vec<f64>,
}

impl From<Linear> for ModelState {
    fn from(l: Linear) -> Self {
        let weights = l.weights.columns().into_iter().map(|c| c.to_vec()).collect();
        ModelState::Linear { head: l.head, weights, intercepts: l.intercepts }
    }
}

/// A linear model loaded from its state.
struct LoadedLinear(Linear);

impl Fitted for LoadedLinear {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let l = &self.0;
        l.head.apply(x.dot(&l.weights) + ndarray::ArrayView1::from(l.intercepts.as_slice()))
    }
    fn coefficients(&self) -> Option<Coefficients> {
        None
    }
    fn state(&self) -> Option<ModelState> {
        Some(ModelState::from(Linear {
            weights: self.0.weights.clone(),
            intercepts: self.0.intercepts.clone(),
            head: self.0.head,
        }))
    }
}

fn check(ok: bool, problem: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(problem())
    }
}

/// Every row of `rows` has `width` entries.
fn check_rows(rows: &[Vec<f64>], width: usize, what: &str) -> Result<(), String> {
    match rows.iter().position(|r| r.len() != width) {
        Some(i) => Err(format!("{what} {i} has {} values, expected {width}", rows[i].len())),
        None => Ok(()),
    }
}

impl ModelState {
    /// The model, ready to predict a design matrix of `width` columns for a target with
    /// `classes` classes (0: regression). Every shape is checked first.
    pub fn into_fitted(self, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        let outputs = classes.max(1);
        match self {
            ModelState::Linear { head, weights, intercepts } => {
                let expected = match head {
                    Head::Identity | Head::Sigmoid => 1,
                    Head::Softmax => classes,
                };
                check(head == Head::Identity || classes > 0, || format!("a {head:?} head needs classes"))?;
                check(weights.len() == expected && intercepts.len() == expected, || {
                    format!("{} weight rows and {} intercepts, expected {expected}", weights.len(), intercepts.len())
                })?;
                check_rows(&weights, width, "weight row")?;
                let flat: Vec<f64> = weights.concat();
                let w = Array2::from_shape_vec((expected, width), flat).map_err(|e| e.to_string())?;
                let linear = Linear { weights: w.reversed_axes().as_standard_layout().into_owned(), intercepts, head };
                Ok(Box::new(LoadedLinear(linear)))
            }
            ModelState::Tree { classes: c, nodes } => {
                check(c == classes, || format!("the tree has {c} classes, the target {classes}"))?;
                Ok(Box::new(Tree::from_nodes(nodes, classes, width)?))
            }
            ModelState::Mlp { activation, softmax, layers } => {
                check(softmax == (classes > 0), || "softmax is for classifiers only".to_string())?;
                Ok(Box::new(MlpModel::from_layers(activation, softmax, &layers, width, outputs)?))
            }
            ModelState::Svr { machine } => {
                check(classes == 0, || "an SVR predicts values, not classes".to_string())?;
                machine.check(width)?;
                Ok(Box::new(Svr(machine)))
            }
            ModelState::Svc { classes: c, machines } => {
                check(c == classes && c >= 2, || format!("the SVC has {c} classes, the target {classes}"))?;
                for m in &machines {
                    check(m.negative < m.positive && m.positive < c, || {
                        format!("machine pair ({}, {}) is out of range", m.negative, m.positive)
                    })?;
                    m.machine.check(width)?;
                }
                Ok(Box::new(OneVsOne { pairs: machines, n_classes: c }))
            }
        }
    }
}
