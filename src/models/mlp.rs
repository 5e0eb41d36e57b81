//! A multi-layer perceptron: dense layers with relu or tanh, a linear output (mse) for
//! regression or a softmax output (cross-entropy) for classification, `l2/2 ||W||²` on the
//! weights (not the biases). Trained by the gradient-descent loop of `gd.rs`, so it has the
//! same optimizers, schedules, early stopping, divergence handling and loss curves.

use super::gd::{train_flat, GdConfig, Objective};
use super::loss::{row_loss, Loss};
use super::{FitError, Fitted, Layer, LossCurve, Prediction};
use crate::models::gd::OptimizerParams;
use crate::random::RandomState;
use crate::spec::{Activation, MlpLoss};
use ndarray::{Array1, Array2};
use rayon::prelude::*;

/// `mlp`: the architecture (the optimizer settings are [`OptimizerParams`]).
/// Its catalog entries (defaults, ranges, help) are in the kind's file.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpParams {
    pub hidden_layers: Vec<usize>,
    pub activation: Activation,
    pub loss: MlpLoss,
}

impl Activation {
    fn apply(self, z: f64) -> f64 {
        match self {
            Activation::Relu => z.max(0.0),
            Activation::Tanh => z.tanh(),
        }
    }

    /// The derivative, from the activation's output `a`.
    fn derivative(self, a: f64) -> f64 {
        match self {
            Activation::Relu => f64::from(u8::from(a > 0.0)),
            Activation::Tanh => 1.0 - a * a,
        }
    }
}

/// Layer sizes and where each layer's weights and biases sit in the flat parameter vector.
#[derive(Debug, Clone)]
pub struct Architecture {
    pub sizes: Vec<usize>,
    pub activation: Activation,
    /// The output is a softmax over classes (else one linear output).
    pub softmax: bool,
}

impl Architecture {
    fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Offset of layer `l`'s weights (out × in, row-major), then its biases.
    fn offsets(&self) -> Vec<(usize, usize)> {
        let mut at = 0;
        (0..self.layers())
            .map(|l| {
                let (i, o) = (self.sizes[l], self.sizes[l + 1]);
                let w = at;
                at += i * o;
                let b = at;
                at += o;
                (w, b)
            })
            .collect()
    }

    pub fn n_params(&self) -> usize {
        (0..self.layers()).map(|l| self.sizes[l] * self.sizes[l + 1] + self.sizes[l + 1]).sum()
    }

    /// scikit-learn's MLP initialisation: weights and biases uniform in ±sqrt(6 / (fan_in +
    /// fan_out)) (Glorot), for relu and tanh alike.
    pub fn init(&self, rng: &mut RandomState) -> Vec<f64> {
        let mut p = vec![0.0; self.n_params()];
        for (l, (w, b)) in self.offsets().into_iter().enumerate() {
            let (fan_in, fan_out) = (self.sizes[l], self.sizes[l + 1]);
            let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
            // A layer's biases follow its weights.
            debug_assert_eq!(b, w + fan_in * fan_out);
            for v in &mut p[w..b + fan_out] {
                *v = (2.0 * rng.next_f64() - 1.0) * limit;
            }
        }
        p
    }

    /// Every layer's activations for one input row (the last is the raw output z).
    fn forward(&self, params: &[f64], x: &[f64], acts: &mut Vec<Vec<f64>>) {
        acts.clear();
        acts.push(x.to_vec());
        let offsets = self.offsets();
        for (l, (w, b)) in offsets.iter().enumerate() {
            let (i, o) = (self.sizes[l], self.sizes[l + 1]);
            let input = &acts[l];
            let mut out = vec![0.0; o];
            for (k, out_k) in out.iter_mut().enumerate() {
                let row = &params[w + k * i..w + (k + 1) * i];
                let z: f64 = params[b + k] + row.iter().zip(input).map(|(a, c)| a * c).sum::<f64>();
                *out_k = if l + 1 < self.layers() { self.activation.apply(z) } else { z };
            }
            acts.push(out);
        }
    }

    fn predict_row(&self, params: &[f64], x: &[f64]) -> Vec<f64> {
        let mut acts = Vec::new();
        self.forward(params, x, &mut acts);
        acts.pop().unwrap_or_default()
    }
}

pub struct MlpObjective<'a> {
    pub arch: Architecture,
    pub x: &'a Array2<f64>,
    pub y: &'a [f64],
    /// The rows' sample weights (none: each weighs 1).
    pub sw: Option<&'a [f64]>,
    pub l2: f64,
}

const BLOCK: usize = 256;

/// scikit-learn's MLP losses: half the squared error for regression (so `tol` means what
/// it means there), the cross-entropy as it is for classification.
const LOSS_SCALE: [f64; 2] = [0.5, 1.0];

impl MlpObjective<'_> {
    /// Sums of losses and gradients over a block of rows (backpropagation, one row at a time),
    /// each times its sample weight, and the sum of the weights.
    fn block(&self, rows: &[usize], params: &[f64]) -> (f64, Vec<f64>, f64) {
        let arch = &self.arch;
        let offsets = arch.offsets();
        let mut grad = vec![0.0; params.len()];
        let (mut total, mut weight) = (0.0, 0.0);
        let mut acts = Vec::new();
        for &r in rows {
            // scikit-learn's `deltas[last] *= sample_weight`: the row's loss and output error.
            let s = self.sw.map_or(1.0, |w| w[r]);
            let scale = LOSS_SCALE[usize::from(arch.softmax)] * s;
            weight += s;
            let x = self.x.row(r);
            let x = x.as_slice().unwrap_or(&[]);
            arch.forward(params, x, &mut acts);
            let out = acts.last().map_or(0, Vec::len);
            let mut delta = vec![0.0; out];
            let loss = if arch.softmax { Loss::Softmax } else { Loss::Mse };
            total += row_loss(loss, &acts[arch.layers()], self.y[r], &mut delta) * scale;
            for d in &mut delta {
                *d *= scale;
            }
            for l in (0..arch.layers()).rev() {
                let (w, b) = offsets[l];
                let (i, o) = (arch.sizes[l], arch.sizes[l + 1]);
                let input = &acts[l];
                for k in 0..o {
                    grad[b + k] += delta[k];
                    let g = &mut grad[w + k * i..w + (k + 1) * i];
                    for (gj, aj) in g.iter_mut().zip(input) {
                        *gj += delta[k] * aj;
                    }
                }
                if l > 0 {
                    let mut prev = vec![0.0; i];
                    for k in 0..o {
                        let row = &params[w + k * i..w + (k + 1) * i];
                        for (p, wk) in prev.iter_mut().zip(row) {
                            *p += wk * delta[k];
                        }
                    }
                    for (p, a) in prev.iter_mut().zip(&acts[l]) {
                        *p *= arch.activation.derivative(*a);
                    }
                    delta = prev;
                }
            }
        }
        (total, grad, weight)
    }

    fn weight_ranges(&self) -> Vec<std::ops::Range<usize>> {
        self.arch
            .offsets()
            .into_iter()
            .enumerate()
            .map(|(l, (w, _))| w..w + self.arch.sizes[l] * self.arch.sizes[l + 1])
            .collect()
    }
}

impl Objective for MlpObjective<'_> {
    fn loss_and_gradient(&self, rows: Option<&[usize]>, params: &[f64]) -> (f64, Vec<f64>) {
        let all: Vec<usize>;
        let rows = match rows {
            Some(r) => r,
            None => {
                all = (0..self.x.nrows()).collect();
                &all
            }
        };
        // Fixed row blocks, reduced in block order: the same sums for any thread count.
        let parts: Vec<(f64, Vec<f64>, f64)> = rows.par_chunks(BLOCK).map(|chunk| self.block(chunk, params)).collect();
        let (mut total, mut weight) = (0.0, 0.0);
        let mut grad = vec![0.0; params.len()];
        for (t, g, s) in parts {
            total += t;
            weight += s;
            for (a, b) in grad.iter_mut().zip(g) {
                *a += b;
            }
        }
        // The (weighted) mean: over Σ w as scikit-learn's `sw_sum` (a batch of zero weight: its sum).
        let n = if weight > 0.0 { weight } else { 1.0 };
        for g in &mut grad {
            *g /= n;
        }
        if self.l2 > 0.0 {
            for range in self.weight_ranges() {
                for k in range {
                    grad[k] += self.l2 * params[k];
                }
            }
        }
        (total / n, grad)
    }

    fn mean_loss(&self, rows: &[usize], params: &[f64]) -> f64 {
        let (total, _, weight) = self.block(rows, params);
        total / if weight > 0.0 { weight } else { 1.0 }
    }

    fn penalty(&self, params: &[f64]) -> f64 {
        0.5 * self.l2 * self.weight_ranges().into_iter().flat_map(|r| params[r].iter()).map(|v| v * v).sum::<f64>()
    }
}

pub struct MlpModel {
    arch: Architecture,
    params: Vec<f64>,
    curve: LossCurve,
}

impl Fitted for MlpModel {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let outputs: Vec<Vec<f64>> =
            x.rows().into_iter().map(|r| self.arch.predict_row(&self.params, &r.to_vec())).collect();
        if self.arch.softmax {
            let k = self.arch.sizes[self.arch.layers()];
            let z = Array2::from_shape_fn((x.nrows(), k), |(i, j)| outputs[i][j]);
            Prediction::Probabilities(super::softmax_rows(z))
        } else {
            Prediction::Values(Array1::from_iter(outputs.iter().map(|z| z[0])))
        }
    }

    fn loss_curve(&self) -> Option<LossCurve> {
        Some(self.curve.clone())
    }

    fn state(&self) -> Option<super::ModelState> {
        let layers = self
            .arch
            .offsets()
            .into_iter()
            .enumerate()
            .map(|(l, (w, b))| {
                let (i, o) = (self.arch.sizes[l], self.arch.sizes[l + 1]);
                let weights = (0..o).map(|k| self.params[w + k * i..w + (k + 1) * i].to_vec()).collect();
                Layer { weights, biases: self.params[b..b + o].to_vec() }
            })
            .collect();
        Some(super::ModelState::Mlp { activation: self.arch.activation, softmax: self.arch.softmax, layers })
    }
}

impl MlpModel {
    /// A saved network, checked: the first layer takes `width` inputs, each layer takes the
    /// previous one's outputs, and the last gives `outputs`.
    pub fn from_layers(
        activation: Activation,
        softmax: bool,
        layers: &[Layer],
        width: usize,
        outputs: usize,
    ) -> Result<MlpModel, String> {
        let mut sizes = vec![width];
        let mut params = Vec::new();
        for (l, layer) in layers.iter().enumerate() {
            let inputs = sizes[l];
            let o = layer.weights.len();
            let at = format!("model.layers[{l}]");
            if o == 0 || layer.biases.len() != o {
                return Err(format!("{at} must have at least one output and one bias per output"));
            }
            super::state::check_rows(&layer.weights, inputs, &format!("{at}.weights"))?;
            super::state::check_finite(&layer.biases, &format!("{at}.biases"))?;
            params.extend(layer.weights.concat());
            params.extend(&layer.biases);
            sizes.push(o);
        }
        if sizes.len() < 2 || sizes.last() != Some(&outputs) {
            return Err(format!("model.layers must end in {outputs} output(s)"));
        }
        let arch = Architecture { sizes, activation, softmax };
        Ok(MlpModel { arch, params, curve: LossCurve { train: Vec::new(), validation: None } })
    }
}

/// Trains an MLP. `classes` is 0 for regression, else the number of classes. With sample
/// weights `sw`, each batch's loss and gradient are the weighted means over `Σ w` (scikit-learn's
/// MLP `fit(X, y, sample_weight)`); the penalty stays `l2/2 ||W||²` (scikit-learn's `alpha / (2 Σ w)`).
pub fn fit(
    params: &MlpParams,
    opt: &OptimizerParams,
    (x, y, sw): (&Array2<f64>, &[f64], Option<&[f64]>),
    classes: usize,
    seed: u32,
) -> Result<MlpModel, FitError> {
    let mut sizes = vec![x.ncols()];
    sizes.extend(&params.hidden_layers);
    sizes.push(classes.max(1));
    let arch = Architecture { sizes, activation: params.activation, softmax: classes > 0 };
    // Initial weights get their own stream, apart from the batch order's.
    let mut init_rng = RandomState::new(seed.rotate_left(16) ^ 0x5bd1_e995);
    let init = arch.init(&mut init_rng);
    // Every layer has biases; fit_intercept concerns the linear kinds only.
    let cfg = GdConfig::new(opt, Loss::Mse, true);
    let objective = MlpObjective { arch: arch.clone(), x, y, sw, l2: cfg.l2 };
    let (trained, curve) = train_flat(&cfg, x.nrows(), &objective, init, seed)?;
    Ok(MlpModel { arch, params: trained, curve })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ModelSpec;
    use crate::spec::{ModelKind, ParamValue};
    use std::collections::BTreeMap;

    fn params(pairs: &[(&str, ParamValue)]) -> (MlpParams, OptimizerParams) {
        let given: BTreeMap<String, ParamValue> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        match ModelSpec::check(ModelKind::Mlp, &given) {
            Ok(ModelSpec::Mlp(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn backpropagation_matches_finite_differences() {
        // Irregular inputs keep every relu pre-activation away from its kink.
        let x = Array2::from_shape_fn((7, 3), |(i, j)| (1.7 * i as f64 + 2.3 * j as f64 + 0.31).sin());
        // Sample weights too: the gradient of the weighted mean loss.
        let weights = [0.5, 2.0, 0.0, 1.0, 3.0, 1.5, 0.25];
        for (softmax, y, out, activation, sw) in [
            (false, vec![0.5, -1.0, 2.0, 0.3, 1.1, -0.4, 0.9], 1, Activation::Tanh, None),
            (true, vec![0.0, 2.0, 1.0, 2.0, 0.0, 1.0, 1.0], 3, Activation::Tanh, None),
            (false, vec![0.5, -1.0, 2.0, 0.3, 1.1, -0.4, 0.9], 1, Activation::Relu, None),
            (true, vec![0.0, 2.0, 1.0, 2.0, 0.0, 1.0, 1.0], 3, Activation::Tanh, Some(&weights[..])),
            (false, vec![0.5, -1.0, 2.0, 0.3, 1.1, -0.4, 0.9], 1, Activation::Relu, Some(&weights[..])),
        ] {
            let arch = Architecture { sizes: vec![3, 4, 3, out], activation, softmax };
            let objective = MlpObjective { arch: arch.clone(), x: &x, y: &y, sw, l2: 0.1 };
            let mut p0 = arch.init(&mut RandomState::new(3));
            // Non-zero biases: with zero biases a unit whose inputs are all zero sits exactly on
            // relu's kink, where finite differences are meaningless.
            for (l, (_, b)) in arch.offsets().into_iter().enumerate() {
                for k in 0..arch.sizes[l + 1] {
                    p0[b + k] = 0.05 + 0.01 * k as f64;
                }
            }
            let (_, grad) = objective.loss_and_gradient(None, &p0);
            let f = |p: &[f64]| objective.loss_and_gradient(None, p).0 + objective.penalty(p);
            let h = 1e-6;
            for k in 0..p0.len() {
                let mut plus = p0.clone();
                plus[k] += h;
                let mut minus = p0.clone();
                minus[k] -= h;
                let numeric = (f(&plus) - f(&minus)) / (2.0 * h);
                assert!(
                    (numeric - grad[k]).abs() < 1e-5,
                    "{activation:?} softmax={softmax} param {k}: {numeric} vs {}",
                    grad[k]
                );
            }
        }
    }

    #[test]
    fn learns_xor() {
        let x = ndarray::array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
        let y = [0.0, 1.0, 1.0, 0.0];
        let p = params(&[
            ("hidden_layers", ParamValue::IntList(vec![8])),
            ("activation", ParamValue::Str("tanh".into())),
            ("learning_rate", ParamValue::Float(0.05)),
            ("epochs", ParamValue::Int(2000)),
            ("batch_size", ParamValue::Int(0)),
            ("tol", ParamValue::Float(0.0)),
            ("patience", ParamValue::Int(100)),
        ]);
        let model = fit(&p.0, &p.1, (&x, &y, None), 2, 1).unwrap();
        let Prediction::Probabilities(proba) = model.predict(&x) else { panic!("classifier") };
        let predicted = crate::metrics::predicted_classes(&proba);
        assert_eq!(predicted, vec![0, 1, 1, 0]);
    }

    #[test]
    fn fits_a_sine_curve() {
        let n = 200;
        let x = Array2::from_shape_fn((n, 1), |(i, _)| -3.0 + 6.0 * i as f64 / (n - 1) as f64);
        let y: Vec<f64> = (0..n).map(|i| x[[i, 0]].sin()).collect();
        let p = params(&[
            ("hidden_layers", ParamValue::IntList(vec![32, 32])),
            ("activation", ParamValue::Str("tanh".into())),
            ("learning_rate", ParamValue::Float(0.01)),
            ("epochs", ParamValue::Int(1500)),
            ("batch_size", ParamValue::Int(32)),
            ("tol", ParamValue::Float(0.0)),
            ("patience", ParamValue::Int(200)),
        ]);
        let model = fit(&p.0, &p.1, (&x, &y, None), 0, 7).unwrap();
        let Prediction::Values(pred) = model.predict(&x) else { panic!("regressor") };
        let mse = crate::metrics::regression(crate::config::Metric::Mse, &y, &pred.to_vec(), None);
        assert!(mse < 0.01, "sine MSE {mse}");
    }

    #[test]
    fn training_is_seeded() {
        let x = Array2::from_shape_fn((50, 2), |(i, j)| ((i * 3 + j) % 11) as f64 / 5.0);
        let y: Vec<f64> = (0..50).map(|i| (i % 7) as f64).collect();
        let p = params(&[("hidden_layers", ParamValue::IntList(vec![5])), ("epochs", ParamValue::Int(20))]);
        let a = fit(&p.0, &p.1, (&x, &y, None), 0, 11).unwrap();
        let b = fit(&p.0, &p.1, (&x, &y, None), 0, 11).unwrap();
        assert_eq!(a.params, b.params);
        assert_eq!(a.curve, b.curve);
    }
}
