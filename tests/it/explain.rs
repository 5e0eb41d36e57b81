//! Permutation importance: equal to scikit-learn's `permutation_importance` fold by fold
//! (tests/fixtures/importance), and the linear shortcut (a model rebuilt from its fold records'
//! coefficients, each shuffle an O(n) update of the linear predictor) gives the numbers of
//! the general path (refit, then a full predict per shuffle), for every linear head.

use crate::common::*;
use runner::after_sweep::explain::{explain, explain_with, Explanation, REPEATS};
use runner::after_sweep::kept::{BestModels, Keeper};
use runner::config::SampleSize;
use runner::models::Fitted;
use runner::plan::{prepare, RunPlan};
use runner::report;
use runner::sweep::{run, SweepInput, UnitFilter};
use runner::trial::{unit_seed, SeedStream, Trial, UnitRecord};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-3)
}

#[test]
fn the_linear_shortcut_gives_the_refitted_importance() {
    // OLS (identity head: its scores are the prediction), binary logistic (sigmoid; by log-loss
    // and by f1), 3-class logistic (softmax), lasso and elastic net (identity, coordinate descent).
    // Cold starts (path = false), so that a refit reproduces the sweep's model exactly.
    for (file, max_samples, overrides) in [
        ("experiments/boston.toml", None, &[][..]),
        ("experiments/breast_cancer.toml", None, &["model.logreg.path=false"][..]),
        // A metric of labels: each shuffle scored by its predicted classes alone.
        ("experiments/breast_cancer.toml", None, &["model.logreg.path=false", "report.rank_by=f1"][..]),
        ("experiments/iris.toml", Some(SampleSize::Fraction(0.5)), &["model.softmax.path=false"][..]),
        (
            "experiments/diabetes.toml",
            Some(SampleSize::Count(40)),
            &["model.lasso.path=false", "model.enet.path=false"][..],
        ),
    ] {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let plan = prepare(&root().join(file), &overrides).unwrap_or_else(|e| panic!("{e}"));
        let done = HashSet::new();
        let filter = UnitFilter { done: &done, shard: None };
        let records = run(&SweepInput::of(&plan), 2, &filter, &AtomicBool::new(false), &|_| {}).unwrap();
        let none = BestModels::default();
        for trial in &plan.trials {
            let fast = explain_with(&plan, trial, &records, max_samples, &none, true).unwrap();
            let slow = explain_with(&plan, trial, &records, max_samples, &none, false).unwrap();
            assert_eq!(fast.permutation_importance.len(), slow.permutation_importance.len());
            for (a, b) in fast.permutation_importance.iter().zip(&slow.permutation_importance) {
                assert_eq!(a.feature, b.feature, "{file} {}", trial.id);
                assert!(
                    close(a.mean, b.mean) && close(a.std, b.std),
                    "{file} {} {}: {a:?} vs {b:?}",
                    trial.id,
                    a.feature
                );
            }
            for (a, b) in fast.actual_and_predicted().iter().zip(&slow.actual_and_predicted()) {
                assert!(close(a.1, b.1), "{file} {}", trial.id);
            }
        }
    }
}

/// Trees, forests and boosted ensembles: re-routing only the rows a shuffle moves
/// (`flat::Routed`, `hgb::Routed`) gives every drop and prediction of a full predict per
/// shuffle, to the bit (one-hot groups of columns, both tasks, all rows or some).
#[test]
fn the_tree_shortcut_gives_the_full_predicts_importance_to_the_bit() {
    let forest = "kind = \"random_forest\"\nn_estimators = 12\nrandom_state = 1";
    let extra = "kind = \"extra_trees\"\nn_estimators = 8\nmax_features = 0.5\nrandom_state = 2";
    for (file, model, max_samples) in [
        ("experiments/penguins.toml", forest, None),
        ("experiments/penguins.toml", "kind = \"decision_tree\"", Some(SampleSize::Fraction(0.5))),
        ("experiments/diabetes.toml", extra, Some(SampleSize::Count(40))),
        ("experiments/diabetes.toml", "kind = \"decision_tree\"\nmax_leaf_nodes = 20", None),
        ("experiments/penguins.toml", "kind = \"hist_gradient_boosting\"\nmax_iter = 8", Some(SampleSize::Count(50))),
        ("experiments/diabetes.toml", "kind = \"hist_gradient_boosting\"\nmax_iter = 30", None),
    ] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let head = &text[..text.find("[[model]]").unwrap()];
        let datasets = root().join("datasets");
        let head = head.replace("../datasets", datasets.to_str().unwrap());
        let dir = scratch(&[("exp.toml", &format!("{head}[[model]]\nname = \"m\"\n{model}\n"))]);
        let plan = prepare(&dir.path().join("exp.toml"), &[]).unwrap_or_else(|e| panic!("{e}"));
        let done = HashSet::new();
        let filter = UnitFilter { done: &done, shard: None };
        let records = run(&SweepInput::of(&plan), 2, &filter, &AtomicBool::new(false), &|_| {}).unwrap();
        let none = BestModels::default();
        let trial = &plan.trials[0];
        let fast = explain_with(&plan, trial, &records, max_samples, &none, true).unwrap();
        let slow = explain_with(&plan, trial, &records, max_samples, &none, false).unwrap();
        let drops = |e: &Explanation| e.permutation_importance.iter().map(|f| f.drops.clone()).collect::<Vec<_>>();
        assert_eq!(drops(&fast), drops(&slow), "{file} {model}");
        assert_eq!(format!("{:?}", fast.out_of_fold.folds), format!("{:?}", slow.out_of_fold.folds));
    }
}

#[test]
fn importance_is_scikit_learns_permutation_importance() {
    let path = root().join("tests/fixtures/importance/cases.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["repeats"], REPEATS);
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let files = [("data.csv", case["csv"].as_str().unwrap()), ("exp.toml", case["toml"].as_str().unwrap())];
        let dir = scratch(&files);
        let plan = prepare(&dir.path().join("exp.toml"), &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let done = HashSet::new();
        let filter = UnitFilter { done: &done, shard: None };
        let records = run(&SweepInput::of(&plan), 2, &filter, &AtomicBool::new(false), &|_| {}).unwrap();
        let trial = plan.trials.iter().find(|t| t.id == case["trial"]).unwrap();
        let e = explain(&plan, trial, &records, plan.experiment.report.permutation_max_samples, &BestModels::default())
            .unwrap();
        let folds = case["folds"].as_array().unwrap();
        for (f, fold) in folds.iter().enumerate() {
            // scikit-learn's random_state is the fold's unit seed.
            let seed = unit_seed(plan.experiment.seed, SeedStream::Unit { trial: &trial.id, fold: f });
            assert_eq!(fold["random_state"], seed, "{name} fold {f}");
        }
        let tolerance = case["tolerance"].as_f64().unwrap();
        let mut worst = 0.0f64;
        for fi in &e.permutation_importance {
            let theirs: Vec<f64> = folds.iter().flat_map(|f| floats(&f["importances"][&fi.feature])).collect();
            assert_eq!(fi.drops.len(), theirs.len(), "{name} {}", fi.feature);
            for (k, (a, b)) in fi.drops.iter().zip(&theirs).enumerate() {
                let err = (a - b).abs() / b.abs().max(1.0);
                worst = worst.max(err);
                assert!(
                    err <= tolerance,
                    "{name} {} fold {} repeat {}: {a} vs scikit-learn {b}",
                    fi.feature,
                    k / REPEATS,
                    k % REPEATS
                );
            }
        }
        eprintln!("{name}: largest difference {worst:e}");
    }
}

/// A small table: three numeric features, a class label and a numeric target.
fn small_table() -> String {
    let mut csv = String::from("a,b,c,label,value\n");
    for i in 0..60 {
        let (a, b, c) = ((i * 7 % 13) as f64 / 3.0, (i * 5 % 11) as f64 - 4.0, (i % 4) as f64 * 0.5);
        let label = ["x", "y", "z"][(a + 0.5 * b).rem_euclid(3.0) as usize];
        csv += &format!("{a},{b},{c},{label},{}\n", 2.0 * a - b + 0.3 * c * c);
    }
    csv
}

/// A sweep that keeps its best trial's models, resuming from `previous` (whose units it skips).
fn sweep_keeping(plan: &RunPlan, jobs: usize, previous: &[UnitRecord]) -> (Vec<UnitRecord>, BestModels) {
    let keeper = Keeper::new(plan, previous);
    let done: HashSet<(String, usize)> = previous.iter().map(|r| (r.trial.clone(), r.fold)).collect();
    let filter = UnitFilter { done: &done, shard: None };
    let mut records = {
        let keep = |t: &Trial, f: usize, m: Box<dyn Fitted>| keeper.offer(t, f, m);
        let input = SweepInput { keep: Some(&keep), ..SweepInput::of(plan) };
        run(&input, jobs, &filter, &AtomicBool::new(false), &|r| keeper.record(r)).unwrap()
    };
    records.extend(previous.iter().cloned());
    (records, keeper.into_best())
}

fn same_explanation(a: &Explanation, b: &Explanation, what: &str) {
    let numbers = |e: &Explanation| -> Vec<(String, Vec<f64>)> {
        e.permutation_importance.iter().map(|f| (f.feature.clone(), f.drops.clone())).collect()
    };
    assert_eq!(numbers(a), numbers(b), "{what}");
    let predictions = |e: &Explanation| format!("{:?}", e.out_of_fold.folds);
    assert_eq!(predictions(a), predictions(b), "{what}");
}

#[test]
fn the_sweeps_kept_models_give_the_refitted_explanation() {
    let csv = small_table();
    let kinds = [
        ("label", "decision_tree", "max_depth = 3"),
        ("value", "decision_tree", "max_depth = 3"),
        ("label", "random_forest", "n_estimators = 4"),
        ("value", "extra_trees", "n_estimators = 4"),
        ("label", "hist_gradient_boosting", "max_iter = 5"),
        ("value", "hist_gradient_boosting", "max_iter = 5"),
        ("label", "knn", "n_neighbors = 3"),
        ("value", "knn", "n_neighbors = 3"),
        ("label", "naive_bayes", ""),
        ("label", "svm", ""),
        ("value", "svm", ""),
        ("label", "mlp", "hidden_layers = [4]\nepochs = 20"),
        ("value", "mlp", "hidden_layers = [4]\nepochs = 20"),
        ("value", "ridge", ""),
    ];
    for (target, kind, params) in kinds {
        let toml = format!(
            "name = \"k\"\nseed = 3\n[dataset]\npath = \"data.csv\"\ntarget = \"{target}\"\nexclude = [\"{}\"]\n\
             [preprocess]\nscale = \"standard\"\n[split]\nmethod = \"kfold\"\nfolds = 3\nshuffle = true\n\
             [report]\npermutation_max_samples = 0.7\n[[model]]\nname = \"m\"\nkind = \"{kind}\"\n{params}\n",
            if target == "label" { "value" } else { "label" }
        );
        let dir = scratch(&[("data.csv", &csv), ("exp.toml", &toml)]);
        let plan = prepare(&dir.path().join("exp.toml"), &[]).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let (records, kept) = sweep_keeping(&plan, 2, &[]);
        // Linear kinds are rebuilt from their records: nothing to keep.
        assert_eq!(kept.len(), if kind == "ridge" { 0 } else { 3 }, "{kind} {target}");
        let trial = &plan.trials[0];
        let max_samples = plan.experiment.report.permutation_max_samples;
        let with_kept = explain(&plan, trial, &records, max_samples, &kept).unwrap();
        let refitted = explain(&plan, trial, &records, max_samples, &BestModels::default()).unwrap();
        same_explanation(&with_kept, &refitted, &format!("{kind} {target}"));
    }
}

#[test]
fn the_kept_trial_is_the_reports_best_for_any_jobs_and_after_a_resume() {
    // `k2` is `k[n_neighbors=1]` again, the best: a tie the report breaks by file order.
    let toml = "name = \"k\"\nseed = 3\n[dataset]\npath = \"data.csv\"\ntarget = \"label\"\nexclude = [\"value\"]\n\
                [split]\nmethod = \"kfold\"\nfolds = 4\nshuffle = true\n[[model]]\nname = \"t\"\n\
                kind = \"decision_tree\"\ngrid.max_depth = [1, 9, 6, 2]\n[[model]]\nname = \"k\"\nkind = \"knn\"\n\
                grid.n_neighbors = [1, 15]\n[[model]]\nname = \"k2\"\nkind = \"knn\"\nn_neighbors = 1\n";
    let dir = scratch(&[("data.csv", &small_table()), ("exp.toml", toml)]);
    let plan = prepare(&dir.path().join("exp.toml"), &[]).unwrap();
    let max_samples = plan.experiment.report.permutation_max_samples;
    let mut explained = Vec::new();
    for (jobs, resumed_folds) in [(1, 0), (2, 0), (2, 1), (1, 3)] {
        // A resume: the folds below `resumed_folds` ran in an earlier process.
        let (all, _) = sweep_keeping(&plan, 1, &[]);
        let previous: Vec<UnitRecord> = all.into_iter().filter(|r| r.fold < resumed_folds).collect();
        let (records, kept) = sweep_keeping(&plan, jobs, &previous);
        let summary = report::summarize(&plan, &records);
        let best = report::best_trial(&summary, plan.rank_by).unwrap().trial;
        let trial = plan.trials.iter().find(|t| t.id == best).unwrap();
        let best_mean = summary.iter().find(|t| t.id == best).and_then(|t| t.test.mean(plan.rank_by));
        let ties: Vec<&str> =
            summary.iter().filter(|t| t.test.mean(plan.rank_by) == best_mean).map(|t| t.id.as_str()).collect();
        let means: Vec<_> = summary.iter().map(|t| (&t.id, t.test.mean(plan.rank_by))).collect();
        assert!(ties.len() >= 2 && ties[0] == best, "the best has no tie: {means:?}");
        for f in 0..4 {
            assert_eq!(kept.get(&best, f).is_some(), f >= resumed_folds, "{best} fold {f} (jobs {jobs})");
        }
        explained.push(explain(&plan, trial, &records, max_samples, &kept).unwrap());
    }
    let refitted = {
        let (records, _) = sweep_keeping(&plan, 1, &[]);
        let best = report::best_trial(&report::summarize(&plan, &records), plan.rank_by).unwrap().trial;
        let trial = plan.trials.iter().find(|t| t.id == best).unwrap();
        explain(&plan, trial, &records, max_samples, &BestModels::default()).unwrap()
    };
    for e in &explained {
        same_explanation(e, &refitted, "kept vs refitted");
    }
}

/// Issue #24: report.json's `partial_dependence` is scikit-learn's `partial_dependence`
/// (brute, default grid) of the refitted model to 1e-12, on its two most important input
/// features: ridge through standard scaling, a binary tree (the positive class's
/// probability), a regression forest and a 3-class forest (each class's probability), and rbf
/// kernel machines (an SVR; a binary SVC's softmax of its decision function), whose kernel runner
/// factors by column (`svm::predictions_with_column`: worst difference 6e-15 here).
#[test]
fn partial_dependence_equals_scikit_learns() {
    let path = root().join("tests/fixtures/partial_dependence/cases.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let dir = scratch(&[("data.csv", case["csv"].as_str().unwrap()), ("exp.toml", case["toml"].as_str().unwrap())]);
        let (report, _out) = run_report(&dir.path().join("exp.toml"), &[]);
        let pd = &report["partial_dependence"];
        let features = pd["features"].as_array().unwrap_or_else(|| panic!("{name}: {report:#}"));
        assert_eq!(features.len(), 2, "{name}");
        let first = report["explanation"]["permutation_importance"][0]["feature"].clone();
        assert_eq!(features[0]["feature"], first, "{name}: the most important feature first");
        for f in features {
            let theirs = &case["partial_dependence"][f["feature"].as_str().unwrap()];
            assert_eq!(floats(&f["grid"]), floats(&theirs["grid"]), "{name}: grid");
            let curves = f["curves"].as_array().unwrap();
            let want = theirs["average"].as_array().unwrap();
            assert_eq!(curves.len(), want.len(), "{name}: curves");
            for (ours, want) in curves.iter().zip(want) {
                let (ours, want) = (floats(&ours["average"]), floats(want));
                assert_eq!(ours.len(), want.len(), "{name}");
                for (a, b) in ours.iter().zip(&want) {
                    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{name}: {a} vs {b}");
                }
            }
        }
    }
}
