//! `mlp`: a feed-forward network trained by the gradient-descent optimizers.

use super::Streamed;
use crate::spec::kinds::{choice, Activation, MlpLoss};
use crate::spec::value::{params, DefaultValue::*, ParamType};
use crate::models::{mlp, FitError, Fitted, ModelState};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::value::DefaultValue;
use crate::spec::ModelKind;
use crate::models::mlp::MlpParams;
use crate::models::gd::OptimizerParams;

params! {
    impl MlpParams {
        hidden_layers: Vec<usize> = L(&[100]), ParamType::IntList { min: 1, max: 100_000 }, "units per hidden layer, e.g. [64, 32] (a grid axis is a list of lists)";
        activation: Activation = S("relu"), choice::<Activation>(), "hidden-layer activation";
        loss: MlpLoss = S("auto"), choice::<MlpLoss>(), "half mse for regression, softmax cross-entropy for classification";
    }
}

pub struct Kind;

impl super::Kind for Kind {
    type Params = (MlpParams, OptimizerParams);
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::Mlp,
        engine: "runner's multi-layer perceptron, trained by the gradient-descent optimizers",
        task: TaskSupport::Both,
        summary: "feed-forward network: mean (z-y)^2 / 2 for regression and softmax cross-entropy for classification (sklearn's MLP losses), + l2/2 ||W||^2 (biases not penalised); sklearn's Glorot-uniform initialisation and stopping rule",
        groups: &[MlpParams::SPECS, OptimizerParams::SPECS],
        // scikit-learn's MLP defaults.
        defaults: &[
            ("optimizer", DefaultValue::S("adam")),
            ("learning_rate", DefaultValue::F(0.001)),
            ("epochs", DefaultValue::I(200)),
            ("batch_size", DefaultValue::I(32)),
            ("tol", DefaultValue::F(1e-4)),
            ("patience", DefaultValue::I(10)),
        ],
        saves: "an `mlp`: every layer's weights and biases, the activation and the output (linear or softmax)",
    };

    fn fit(p: &Self::Params, data: &FoldData, classes: &[String], seed: u32) -> Result<Box<dyn Fitted>, FitError> {
        let (arch, opt) = p;
        let (x, sw) = (&data.train_x, data.train_w.as_deref());
        Ok(Box::new(match &data.train_y {
            FoldTargets::Regression(y) => mlp::fit(arch, opt, (x, &y.to_vec(), sw), 0, seed)?,
            FoldTargets::Classes(y) => {
                let targets: Vec<f64> = y.iter().map(|&c| c as f64).collect();
                mlp::fit(arch, opt, (x, &targets, sw), classes.len(), seed)?
            }
        }))
    }

    /// MLPRegressor/MLPClassifier.fit(sample_weight): see `mlp::fit`.
    fn sample_weights(_: &Self::Params) -> bool {
        true
    }

    fn streamed(_: &Self::Params) -> Streamed<'_> {
        Streamed::Refused("the MLP is not streamed yet; use streaming = false")
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Mlp { .. })
    }
}
