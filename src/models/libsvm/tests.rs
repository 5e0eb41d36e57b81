//! scikit-learn 1.9.1's SVC and SVR against the port, case by case
//! (tests/fixtures/libsvm/generate.py): support vectors and iteration counts exactly, dual
//! coefficients, intercepts and decision values to 1e-9, predictions exactly.

use super::{train_svc, train_svr, KernelStore, Rows, Sample};
use crate::models::svm::SvmParams;
use crate::models::svm::{first_argmax, libsvm_params, one_vs_one, row_major, weighted_c};
use crate::models::{Fitted, Prediction};
use crate::spec::{ClassWeight, DecisionShape, Gamma, Kernel};
use ndarray::Array2;
use serde_json::Value;

const CASES: &str = include_str!("../../../tests/fixtures/libsvm/cases.json");

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    let width = rows.first().map_or(0, Vec::len);
    Array2::from_shape_vec((rows.len(), width), rows.concat()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

fn params_of(case: &Value) -> SvmParams {
    SvmParams {
        kernel: case["kernel"].as_str().unwrap().parse::<Kernel>().unwrap(),
        c: case["C"].as_f64().unwrap(),
        gamma: Gamma::Scale,
        degree: case["degree"].as_u64().unwrap() as usize,
        coef0: case["coef0"].as_f64().unwrap(),
        epsilon: case["epsilon"].as_f64().unwrap(),
        tol: case["tol"].as_f64().unwrap(),
        max_iter: case["max_iter"].as_i64().unwrap(),
        cache_size: case["cache_size"].as_f64().unwrap(),
        shrinking: case["shrinking"].as_bool().unwrap(),
        class_weight: if case["class_weight"].is_null() { ClassWeight::None } else { ClassWeight::Balanced },
        decision_function_shape: DecisionShape::Ovr,
        break_ties: false,
    }
}

/// `|a - b| <= 1e-9 · max(1, |b|)` for each pair; the message names the first that is not.
fn close(ours: &[f64], theirs: &[f64], what: &str, name: &str) {
    assert_eq!(ours.len(), theirs.len(), "{name}: {what} lengths");
    for (k, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{name}: {what}[{k}] is {a}, scikit-learn's {b}");
    }
}

fn with_gamma(mut p: SvmParams, case: &Value) -> SvmParams {
    if p.kernel != Kernel::Linear {
        p.gamma = Gamma::Value(case["gamma"].as_f64().unwrap());
    }
    p
}

/// The class the metrics take from the scores: the first most probable.
fn classes_of(proba: &Array2<f64>) -> Vec<f64> {
    proba.rows().into_iter().map(|r| first_argmax(r.as_slice().unwrap()) as f64).collect()
}

/// The case's sample weights, if it was fitted with some.
fn sample_weight(case: &Value) -> Option<Vec<f64>> {
    case.get("sample_weight").map(floats)
}

fn check_svc(case: &Value, name: &str) {
    let (x, t) = (matrix(&case["X"]), matrix(&case["T"]));
    let y: Vec<usize> = floats(&case["y"]).iter().map(|&v| v as usize).collect();
    let w = sample_weight(case);
    let n_class = y.iter().max().unwrap() + 1;
    let params = with_gamma(params_of(case), case);
    let data = row_major(&x);
    let p = libsvm_params(&params, &data, x.ncols());
    let rows = Rows { data: &data, width: x.ncols() };
    let names: Vec<String> = (0..n_class).map(|c| c.to_string()).collect();
    let sample = Sample::new(y.len(), w.as_deref());
    let kept: Vec<usize> = sample.rows.iter().map(|&r| y[r]).collect();
    let model = train_svc(rows, &sample, &kept, &weighted_c(&params, &y, &names), &p, None);
    let support: Vec<usize> = serde_json::from_value(case["support"].clone()).unwrap();
    assert_eq!(model.support, support, "{name}: support_");
    assert_eq!(model.n_support, serde_json::from_value::<Vec<usize>>(case["n_support"].clone()).unwrap(), "{name}");
    let iters: Vec<usize> = model.pairs.iter().map(|p| p.iterations).collect();
    assert_eq!(iters, serde_json::from_value::<Vec<usize>>(case["n_iter"].clone()).unwrap(), "{name}: n_iter_");
    assert_eq!(model.pairs.iter().any(|p| p.timed_out), case["fit_status"] == 1, "{name}: fit_status_");
    for (k, row) in case["dual_coef"].as_array().unwrap().iter().enumerate() {
        close(&model.dual_coef[k], &floats(row), "dual_coef", name);
    }
    let rho: Vec<f64> = model.pairs.iter().map(|p| -p.rho).collect();
    close(&rho, &floats(&case["intercept"]), "intercept", name);

    let names: Vec<String> = (0..n_class).map(|c| c.to_string()).collect();
    let ovo = one_vs_one(&params, rows, (&y, w.as_deref()), &names, None).unwrap();
    let present: Vec<usize> = (0..n_class).collect();
    let want = case["decision"].as_array().unwrap();
    let predicted: Vec<f64> = floats(&case["predict"]);
    let per_pair = ovo.pair_decisions(&t);
    for r in 0..t.nrows() {
        let decisions: Vec<f64> = per_pair.iter().map(|d| d[r]).collect();
        let (scores, class) = ovo.scores(&decisions, &present);
        if n_class == 2 {
            close(&decisions, &[want[r].as_f64().unwrap()], "decision", name);
        } else {
            close(&scores, &floats(&want[r]), "ovr decision", name);
            let ovo_want: Vec<f64> = floats(&case["decision_ovo"][r]).iter().map(|v| -v).collect();
            close(&decisions, &ovo_want, "ovo decision", name);
        }
        assert_eq!(class, predicted[r] as usize, "{name}: predict row {r}");
    }
    let Prediction::Probabilities(proba) = ovo.predict(&t) else { panic!("{name}: a classifier") };
    assert_eq!(classes_of(&proba), predicted, "{name}: predicted classes from the scores");
    assert_eq!(ovo.notes().len(), usize::from(case["fit_status"] == 1), "{name}: the max_iter note");
    if let Some(ties) = case.get("predict_break_ties") {
        let broken =
            one_vs_one(&SvmParams { break_ties: true, ..params }, rows, (&y, w.as_deref()), &names, None).unwrap();
        let Prediction::Probabilities(proba) = broken.predict(&t) else { panic!("{name}") };
        assert_eq!(classes_of(&proba), floats(ties), "{name}: break_ties");
    }
}

fn check_svr(case: &Value, name: &str) {
    let (x, t) = (matrix(&case["X"]), matrix(&case["T"]));
    let y = floats(&case["y"]);
    let w = sample_weight(case);
    let params = with_gamma(params_of(case), case);
    let data = row_major(&x);
    let p = libsvm_params(&params, &data, x.ncols());
    let sample = Sample::new(y.len(), w.as_deref());
    let kept: Vec<f64> = sample.rows.iter().map(|&r| y[r]).collect();
    let model = train_svr(Rows { data: &data, width: x.ncols() }, &sample, &kept, &p, None);
    assert_eq!(model.support, serde_json::from_value::<Vec<usize>>(case["support"].clone()).unwrap(), "{name}");
    assert_eq!(vec![model.iterations], serde_json::from_value::<Vec<usize>>(case["n_iter"].clone()).unwrap(), "{name}");
    assert_eq!(model.timed_out, case["fit_status"] == 1, "{name}: fit_status_");
    close(&model.dual_coef, &floats(&case["dual_coef"][0]), "dual_coef", name);
    close(&[-model.rho], &floats(&case["intercept"]), "intercept", name);
    let fitted = crate::models::svm::fit_svr(&params, &x, &ndarray::Array1::from(y), w.as_deref()).unwrap();
    let Prediction::Values(v) = fitted.predict(&t) else { panic!("{name}: a regressor") };
    close(v.as_slice().unwrap(), &floats(&case["predict"]), "predict", name);
    assert_eq!(fitted.notes().len(), usize::from(model.timed_out), "{name}: the max_iter note");
}

#[test]
fn every_case_equals_scikit_learn() {
    let doc: Value = serde_json::from_str(CASES).unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        if case["svc"].as_bool().unwrap() {
            check_svc(case, name);
        } else {
            check_svr(case, name);
        }
    }
}

#[test]
fn gamma_scale_and_auto_are_scikit_learns() {
    let doc: Value = serde_json::from_str(CASES).unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let x = matrix(&case["X"]);
        let data = row_major(&x);
        let mut params = params_of(case);
        params.kernel = Kernel::Rbf;
        let gamma = |p: &SvmParams| match libsvm_params(p, &data, x.ncols()).kernel {
            super::KernelFn::Rbf { gamma } => gamma,
            _ => unreachable!(),
        };
        let want = case["gamma"].as_f64().unwrap();
        let name = case["name"].as_str().unwrap();
        if name == "svc-binary-rbf" || name == "svc-multi-rbf" || name == "svr-rbf" {
            assert_eq!(gamma(&params), want, "{name}: scale");
        }
        if name == "svc-multi-auto" {
            assert_eq!(gamma(&SvmParams { gamma: Gamma::Auto, ..params.clone() }), want, "{name}: auto");
        }
    }
}

/// Every fixture case fitted again reading a `KernelStore` of its rows (as the trials of a C
/// path do): the same support, iterations, dual coefficients and rho, bit for bit.
#[test]
fn fits_reading_a_shared_kernel_store_change_no_digit() {
    let doc: Value = serde_json::from_str(CASES).unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let x = matrix(&case["X"]);
        let params = with_gamma(params_of(case), case);
        let data = row_major(&x);
        let rows = Rows { data: &data, width: x.ncols() };
        let p = libsvm_params(&params, &data, x.ncols());
        // Whatever the case's cache_size (some are tiny, to evict): the store holds every value.
        let store = KernelStore::new(p.kernel, &data, x.ncols(), 1e6).unwrap();
        if case["svc"].as_bool().unwrap() {
            let y: Vec<usize> = floats(&case["y"]).iter().map(|&v| v as usize).collect();
            let names: Vec<String> = (0..=*y.iter().max().unwrap()).map(|c| c.to_string()).collect();
            let c = weighted_c(&params, &y, &names);
            let all = Sample::new(y.len(), sample_weight(case).as_deref());
            let y: Vec<usize> = all.rows.iter().map(|&r| y[r]).collect();
            let (alone, shared) =
                (train_svc(rows, &all, &y, &c, &p, None), train_svc(rows, &all, &y, &c, &p, Some(&store)));
            assert_eq!((&alone.support, &alone.dual_coef), (&shared.support, &shared.dual_coef), "{name}");
            let ends = |m: &super::train::SvcModel| m.pairs.iter().map(|p| (p.rho, p.iterations)).collect::<Vec<_>>();
            assert_eq!(ends(&alone), ends(&shared), "{name}: rho and n_iter_");
        } else {
            let y = floats(&case["y"]);
            let all = Sample::new(y.len(), sample_weight(case).as_deref());
            let y: Vec<f64> = all.rows.iter().map(|&r| y[r]).collect();
            let (alone, shared) = (train_svr(rows, &all, &y, &p, None), train_svr(rows, &all, &y, &p, Some(&store)));
            assert_eq!((&alone.support, &alone.dual_coef), (&shared.support, &shared.dual_coef), "{name}");
            assert_eq!((alone.rho, alone.iterations), (shared.rho, shared.iterations), "{name}: rho and n_iter_");
        }
    }
}

#[test]
fn a_kernel_store_is_kept_only_within_its_budget() {
    let data = vec![0.5; 1000 * 2];
    // 1000² single-precision values are 3.8 MB.
    assert!(KernelStore::new(super::KernelFn::Linear, &data, 2, 3.0).is_none());
    assert!(KernelStore::new(super::KernelFn::Linear, &data, 2, 4.0).is_some());
}
