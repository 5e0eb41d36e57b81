//! Logistic regression by linfa-logistic (L-BFGS). linfa minimises
//! `Σ log-loss + α/2 ||w||²`; with `α = 1/C` that is scikit-learn's `½||w||² + C Σ log-loss`
//! divided by C, so both have the same optimum. The intercept is not penalised in either.

use super::catalog::Params;
use super::{Coefficients, FitError, Fitted, Prediction};
use linfa::traits::Fit;
use ndarray::{Array1, Array2, Axis};

struct Binary {
    weights: Array1<f64>,
    intercept: f64,
}

impl Fitted for Binary {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let z = x.dot(&self.weights) + self.intercept;
        let mut proba = Array2::<f64>::zeros((x.nrows(), 2));
        for (i, zi) in z.iter().enumerate() {
            let p1 = 1.0 / (1.0 + (-zi).exp());
            proba[[i, 0]] = 1.0 - p1;
            proba[[i, 1]] = p1;
        }
        Prediction::Probabilities(proba)
    }

    fn coefficients(&self) -> Option<Coefficients> {
        Some(Coefficients::Single { weights: self.weights.to_vec(), intercept: self.intercept })
    }
}

struct Multinomial {
    /// features × classes
    weights: Array2<f64>,
    intercepts: Array1<f64>,
}

impl Fitted for Multinomial {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let mut z = x.dot(&self.weights) + &self.intercepts;
        for mut row in z.axis_iter_mut(Axis(0)) {
            let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            row.mapv_inplace(|v| (v - m).exp());
            let s = row.sum();
            row.mapv_inplace(|v| v / s);
        }
        Prediction::Probabilities(z)
    }

    fn coefficients(&self) -> Option<Coefficients> {
        Some(Coefficients::PerClass {
            weights: self.weights.columns().into_iter().map(|c| c.to_vec()).collect(),
            intercepts: self.intercepts.to_vec(),
        })
    }
}

pub fn fit(params: &Params, x: &Array2<f64>, y: &[usize], class_names: &[String]) -> Result<Box<dyn Fitted>, FitError> {
    let mut present: Vec<usize> = y.to_vec();
    present.sort_unstable();
    present.dedup();
    if present.len() < 2 {
        let name = present.first().and_then(|&c| class_names.get(c)).cloned().unwrap_or_default();
        return Err(FitError::OneClass(name));
    }
    if let Some(absent) = (0..class_names.len()).find(|c| !present.contains(c)) {
        return Err(FitError::Solver(format!(
            "class `{}` has no rows in this fold's training part, so a multinomial model cannot learn it",
            class_names[absent]
        )));
    }
    let alpha = 1.0 / params.f64("c");
    let fit_intercept = params.bool("fit_intercept");
    let max_iter = params.usize("max_iter") as u64;
    // Our tol is on the gradient of the mean loss (as scikit-learn's); linfa's objective is a sum.
    let gtol = params.f64("tol") * y.len() as f64;
    let n_classes = class_names.len();
    let solver_error = |e: linfa_logistic::error::Error| FitError::Solver(format!("L-BFGS failed: {e}"));
    if n_classes == 2 {
        let labels = Array1::from_iter(y.iter().copied());
        let dataset = linfa::DatasetBase::new(x.view(), labels.view());
        let model = linfa_logistic::LogisticRegression::default()
            .alpha(alpha)
            .with_intercept(fit_intercept)
            .max_iterations(max_iter)
            .gradient_tolerance(gtol)
            .fit(&dataset)
            .map_err(solver_error)?;
        // linfa's positive class is the first label it saw; orient the model on class 1.
        let (mut w, mut b) = (model.params().clone(), model.intercept());
        if model.labels().pos.class != 1 {
            w.mapv_inplace(|v| -v);
            b = -b;
        }
        Ok(Box::new(Binary { weights: w, intercept: b }))
    } else {
        let labels = Array1::from_iter(y.iter().copied());
        let dataset = linfa::DatasetBase::new(x.view(), labels.view());
        let model = linfa_logistic::MultiLogisticRegression::default()
            .alpha(alpha)
            .with_intercept(fit_intercept)
            .max_iterations(max_iter)
            .gradient_tolerance(gtol)
            .fit(&dataset)
            .map_err(solver_error)?;
        // linfa orders columns by the classes present in the training part; widen to all classes.
        let classes = model.classes().to_vec();
        let mut weights = Array2::<f64>::zeros((x.ncols(), n_classes));
        let mut intercepts = Array1::from_elem(n_classes, f64::NEG_INFINITY);
        for (col, &class) in classes.iter().enumerate() {
            weights.column_mut(class).assign(&model.params().column(col));
            intercepts[class] = model.intercept()[col];
        }
        Ok(Box::new(Multinomial { weights, intercepts }))
    }
}
