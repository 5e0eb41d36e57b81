//! The registry: every model kind on one line, `Variant module`. The kind's file is
//! `src/kinds/<module>.rs`; `spec::catalog` makes `ModelKind` from this table and
//! `kinds` makes the rest (`ModelSpec`, the catalog `KINDS`, `check`, the fit dispatch,
//! streaming, loading a saved model), so a new kind is its file plus one line here.

/// Hands the table of kinds to the macro named `$then`.
macro_rules! registry {
    ($then:ident) => {
        $then! {
            LinearRegression linear_regression,
            Ridge ridge,
            Lasso lasso,
            ElasticNet elastic_net,
            LogisticRegression logistic_regression,
            Svm svm,
            DecisionTree decision_tree,
            Mlp mlp,
            LinearGd linear_gd,
            LogisticGd logistic_gd,
            RandomForest random_forest,
            ExtraTrees extra_trees,
            HistGradientBoosting hist_gradient_boosting,
            Knn knn,
            NaiveBayes naive_bayes,
        }
    };
}
pub(crate) use registry;
