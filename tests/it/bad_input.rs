//! Bad input: each case gives a precise message and exit 2 before training, or a trial
//! failure recorded in the report. None panics.

use crate::common::*;
use runner::plan::{prepare_with, DataMode};

const SMALL: &str = "x1,x2,y\n1.0,2.0,3.5\n2.0,1.0,4.0\n3.0,4.0,7.5\n4.0,3.0,7.0\n5.0,6.0,11.5\n6.0,5.0,11.0\n";

struct Case {
    toml: &'static str,
    /// Extra files beside the experiment (name, contents); `data.csv` defaults to SMALL.
    files: &'static [(&'static str, &'static str)],
    code: i32,
    expect: &'static [&'static str],
}

/// One `#[test]` per case, named by it (`bad_input::case::NAME`), so a failure names its
/// case and the cases run in parallel.
macro_rules! bad_input_cases {
    ($(fn $name:ident => $case:expr),* $(,)?) => {
        mod case {
            use super::*;
            $(#[test]
            fn $name() {
                check(stringify!($name), $case);
            })*
        }

        #[test]
        fn the_table_keeps_its_cases() {
            let count = [$(stringify!($name)),*].len();
            assert!(count >= 80, "{count} cases");
        }
    };
}

const HEAD: &str = "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n";
const MODEL: &str = "[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n";

bad_input_cases! {
    fn mlflow_to_a_local_store => Case {
        toml: "[report]\nmlflow = \"file:///tmp/mlruns\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:6:10", "`mlflow` in [report] must be a tracking server's address", "REST API"],
    },
    fn malformed_toml => Case { toml: "name = \"t\n[dataset]\n", files: &[], code: 2, expect: &["exp.toml:1:10", "invalid TOML"] },
    fn unknown_top_level_key => Case {
        toml: "\x00no-head\x00name = \"t\"\nsede = 1\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:2:1", "unknown key `sede` in the top level", "did you mean `seed`?"],
    },
    fn misspelt_model_parameter => Case {
        toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpah = 1.0\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:8:1", "unknown key `alpah` in [[model]] `r`", "did you mean `alpha`?"],
    },
    fn wrong_type => Case {
        toml: "\x00no-head\x00name = \"t\"\nseed = \"x\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:2:8", "`seed`", "must be an integer, found a string"],
    },
    fn missing_dataset_file => Case {
        toml: "name = \"t\"\n[dataset]\npath = \"nope.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:3:8", "nope.csv", "does not exist"],
    },
    fn missing_target_column => Case {
        toml: "name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"yy\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:4:10", "target `yy` is not a column", "did you mean `y`?"],
    },
    fn non_numeric_cell => Case {
        toml: "",
        files: &[("data.csv", "x1,x2,y\n1.0,2.0,3.5\n2.0,abc,4.0\n3.0,4.0,7.5\n4.0,3.0,7.0\n")],
        code: 2,
        expect: &["column `x2`", "row 2 (line 3 of the file)", "`abc` is not a number"],
    },
    fn infinite_value => Case {
        toml: "",
        files: &[("data.csv", "x1,x2,y\n1.0,2.0,3.5\n2.0,1.0,inf\n3.0,4.0,7.5\n4.0,3.0,7.0\n")],
        code: 2,
        expect: &["column `y`, row 2 (line 3 of the file): inf is not a finite number"],
    },
    fn infinite_parameter => Case {
        toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpha = inf\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:8:9", "inf is out of range"],
    },
    fn empty_file => Case { toml: "", files: &[("data.csv", "")], code: 2, expect: &["data.csv", "is empty"] },
    fn header_only => Case { toml: "", files: &[("data.csv", "x1,x2,y\n")], code: 2, expect: &["has a header but no data rows"] },
    fn more_folds_than_rows => Case {
        toml: "[split]\nmethod = \"kfold\"\nfolds = 10\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:7:9", "10 folds need at least 10 rows", "has 6"],
    },
    fn test_size_out_of_range => Case {
        toml: "[split]\ntest_size = 1.5\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:6:13", "fraction strictly between 0 and 1", "1.5"],
    },
    fn duplicate_model_names => Case {
        toml: "[[model]]\nname = \"ols\"\nkind = \"ridge\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:9:8", "duplicate model name `ols`", "line 6"],
    },
    fn unknown_model_kind => Case {
        toml: "[[model]]\nname = \"r\"\nkind = \"rigde\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:7:8", "unknown model kind `rigde`", "did you mean `ridge`?"],
    },
    fn missing_value_without_imputation => Case {
        toml: "",
        files: &[("data.csv", "x1,x2,y\n1.0,2.0,3.5\n2.0,,4.0\n3.0,4.0,7.5\n4.0,3.0,7.0\n")],
        code: 2,
        expect: &["column `x2` has a missing value at row 2 (line 3 of the file)", "impute"],
    },
    // Issue #24: `impute = "keep"` leaves NaN, which only hist_gradient_boosting takes.
    fn kept_gaps_with_a_linear_model => Case {
        toml: "[preprocess]\nimpute = \"keep\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:9:8", "model `r`: kind ridge cannot take the missing values impute = \"keep\" leaves", "`x1`, `x2`"],
    },
    fn kept_gaps_of_one_column_with_a_tree => Case {
        toml: "[preprocess.columns.x2]\nimpute = \"keep\"\n[[model]]\nname = \"t\"\nkind = \"decision_tree\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:9:8", "kind decision_tree cannot take", "in `x2` (only hist_gradient_boosting"],
    },
    fn kept_gaps_scaled => Case {
        toml: "[preprocess]\nimpute = \"keep\"\nscale = \"standard\"\n[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:7:9", "scale = \"standard\" cannot scale column `x1`", "set scale = \"none\""],
    },
    fn kept_gaps_through_steps => Case {
        toml: "[preprocess]\nimpute = \"keep\"\n[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\nsteps = [\"standard\"]\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:10:9", "model `h`: its steps cannot take the missing values"],
    },
    fn kept_gap_in_a_categorical_column_one_hot => Case {
        toml: "[preprocess]\nimpute = \"keep\"\n[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\n",
        files: &[("data.csv", "c,x,y\na,1,1.5\n,2,2.5\nb,3,3.5\na,4,4.5\nb,5,5.5\na,6,6.5\n")],
        code: 2,
        expect: &["exp.toml:9:8", "categorical_features = \"one_hot\" gives the gaps", "column `c` no indicator", "use categorical_features = \"from_dtype\""],
    },
    fn kept_gap_in_a_categorical_column_for_a_grid_of_encodings => Case {
        toml: "[preprocess]\nimpute = \"keep\"\n[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\ngrid.categorical_features = [\"from_dtype\", \"one_hot\"]\n",
        files: &[("data.csv", "c,x,y\na,1,1.5\n,2,2.5\nb,3,3.5\na,4,4.5\nb,5,5.5\na,6,6.5\n")],
        code: 2,
        expect: &["exp.toml:10:1", "categorical_features = \"one_hot\" gives the gaps"],
    },
    fn categorical_from_dtype_with_drop_first => Case {
        toml: "[preprocess]\none_hot = { drop_first = true }\n[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\ncategorical_features = \"from_dtype\"\n",
        files: &[("data.csv", "c,x,y\na,1,1.5\nb,2,2.5\nb,3,3.5\na,4,4.5\nb,5,5.5\na,6,6.5\n")],
        code: 2,
        expect: &["exp.toml:10:24", "categorical_features = \"from_dtype\" reads each categorical column's level (`c`)", "set drop_first = false"],
    },
    fn categorical_from_dtype_through_steps => Case {
        toml: "[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\ncategorical_features = \"from_dtype\"\nsteps = [\"standard\"]\n",
        files: &[("data.csv", "c,x,y\na,1,1.5\nb,2,2.5\nb,3,3.5\na,4,4.5\nb,5,5.5\na,6,6.5\n")],
        code: 2,
        expect: &["exp.toml:8:24", "the model's steps make new columns", "categorical_features = \"one_hot\""],
    },
    fn categorical_features_misspelt => Case {
        toml: "[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\ncategorical_features = \"from_dtyp\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:8:24", "did you mean `from_dtype`?"],
    },
    fn kept_gaps_streamed => Case {
        toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\nstreaming = true\n[preprocess]\nimpute = \"keep\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n",
        files: &[],
        code: 2,
        expect: &["impute = \"keep\" is not streamed", "streaming = false", "exp.toml:10:8"],
    },
    fn negative_regularization => Case {
        toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = [1, -2]\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:8:18", "-2 is out of range"],
    },
    fn classifier_on_a_regression_task => Case {
        toml: "[[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:7:8", "model `lr` (kind logistic_regression) is a classifier", "regression"],
    },
    fn unknown_split_method => Case {
        toml: "[split]\nmethod = \"kfodl\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:6:10", "`kfodl` is not", "did you mean `kfold`?"],
    },
    fn key_of_another_split_method => Case {
        toml: "[split]\nmethod = \"holdout\"\nfolds = 3\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:7:1", "`folds` in [split] does not apply to method = \"holdout\""],
    },
    fn unknown_metric => Case {
        toml: "[report]\nmetrics = [\"mse\", \"rmes\"]\n",
        files: &[],
        code: 2,
        expect: &["unknown metric `rmes`", "did you mean `rmse`?"],
    },
    fn integer_target_without_a_task => Case {
        toml: "",
        files: &[("data.csv", "x1,x2,y\n1.0,2.0,3\n2.0,1.0,4\n3.0,4.0,7\n4.0,3.0,7\n")],
        code: 2,
        expect: &["exp.toml:4:10", "target `y` holds integers", "task = \"classification\""],
    },
    fn empty_grid_axis => Case {
        toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = []\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:8:14", "`grid.alpha`", "is empty"],
    },
    fn malformed_logspace => Case {
        toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { logspace = [1, 2] }\n",
        files: &[],
        code: 2,
        expect: &["`grid.alpha.logspace`", "array of three numbers"],
    },
    fn unknown_grid_parameter => Case {
        toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.aplha = [1]\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:8:6", "unknown parameter `aplha`", "did you mean `alpha`?"],
    },
    fn missing_name => Case {
        toml: "\x00no-head\x00[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
        files: &[],
        code: 2,
        expect: &["missing the required key `name`"],
    },
    fn constant_imputation_without_a_fill_value => Case {
        toml: "[preprocess]\nimpute = \"constant\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:6:10", "needs a `fill_value`"],
    },
    fn stratified_split_of_a_regression_target => Case {
        toml: "[split]\nmethod = \"stratified_kfold\"\nfolds = 2\n",
        files: &[],
        code: 2,
        expect: &["stratified splits need a classification target"],
    },
    fn unsupported_dataset_format => Case {
        toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.xlsx\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n",
        files: &[],
        code: 2,
        expect: &["exp.toml:3:8", "must end in .csv, .parquet, .ndjson or .jsonl"],
    },
    fn single_class_in_a_training_fold => Case {
        toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[split]\nmethod = \"kfold\"\nfolds = 2\n[[model]]\nname = \"lr\"\nkind = \"logistic_regression\"\n",
        files: &[("data.csv", "x,y\n1,a\n2,a\n3,a\n4,b\n5,b\n6,b\n")],
        code: 1,
        expect: &["failed: lr: fold 1: the training part holds a single class (`b`)"],
    },
    // Issue #11: results that could be mixed or lost.
    fn repeated_grid_value => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = [1, 1.0]\n", files: &[], code: 2, expect: &["exp.toml:8:", "repeats the value 1"] },
    fn model_name_that_looks_like_a_trial_id => Case { toml: "[[model]]\nname = \"r[alpha=1]\"\nkind = \"ridge\"\n", files: &[], code: 2, expect: &["exp.toml:6:", "must be ASCII letters, digits"] },
    fn model_name_with_a_dot => Case { toml: "[[model]]\nname = \"a.b\"\nkind = \"ridge\"\n", files: &[], code: 2, expect: &["exp.toml:6:", "model name `a.b`"] },
    // Issue #24: forests.
    fn forest_oob_score_without_bootstrap => Case { toml: "[[model]]\nname = \"f\"\nkind = \"random_forest\"\nbootstrap = false\noob_score = true\n", files: &[], code: 2, expect: &["exp.toml:9:", "model `f`: oob_score needs bootstrap = true"] },
    fn extra_trees_max_samples_without_bootstrap => Case { toml: "[[model]]\nname = \"x\"\nkind = \"extra_trees\"\nmax_samples = 10\n", files: &[], code: 2, expect: &["exp.toml:8:", "model `x`: max_samples needs bootstrap = true"] },
    fn extra_trees_oob_score_without_bootstrap_in_a_grid => Case { toml: "[[model]]\nname = \"x\"\nkind = \"extra_trees\"\ngrid.oob_score = [false, true]\n", files: &[], code: 2, expect: &["exp.toml:8:", "model `x`: oob_score needs bootstrap = true"] },
    fn forest_friedman_mse_on_a_classifier => Case { toml: "[[model]]\nname = \"f\"\nkind = \"random_forest\"\ncriterion = \"friedman_mse\"\n", files: &[("data.csv", "x,y\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n")], code: 2, expect: &["exp.toml:8:", "criterion friedman_mse applies to regression"] },
    fn forest_max_features_misspelt => Case { toml: "[[model]]\nname = \"f\"\nkind = \"random_forest\"\nmax_features = \"sqr\"\n", files: &[], code: 2, expect: &["exp.toml:8:", "did you mean `sqrt`"] },
    fn forest_max_features_share_above_one => Case { toml: "[[model]]\nname = \"f\"\nkind = \"random_forest\"\nmax_features = 1.5\n", files: &[], code: 2, expect: &["exp.toml:8:", "float in (0, 1]"] },
    fn forest_max_features_above_the_columns => Case { toml: "[[model]]\nname = \"f\"\nkind = \"random_forest\"\nmax_features = 50\n", files: &[], code: 2, expect: &["exp.toml:8:16", "model `f`: max_features = 50, but the design matrix has 2 columns"] },
    fn forest_max_samples_above_the_training_rows => Case { toml: "[[model]]\nname = \"f\"\nkind = \"random_forest\"\nmax_samples = 50\n", files: &[], code: 2, expect: &["exp.toml:8:", "model `f`: max_samples = 50, but the smallest training part of the split has"] },
    fn forest_classification_criterion_on_a_regression_task => Case { toml: "[[model]]\nname = \"f\"\nkind = \"random_forest\"\ncriterion = \"gini\"\n", files: &[], code: 2, expect: &["exp.toml:8:", "model `f`: criterion gini applies to classification"] },
    fn tree_absolute_error_on_a_classification_task => Case { toml: "[split]\nmethod = \"kfold\"\nfolds = 2\n[[model]]\nname = \"t\"\nkind = \"decision_tree\"\ncriterion = \"absolute_error\"\n", files: &[("data.csv", "x,y\n1,a\n2,a\n3,a\n4,b\n5,b\n6,b\n")], code: 2, expect: &["exp.toml:11:", "model `t`: criterion absolute_error applies to regression"] },
    fn hgb_classification_loss_on_a_regression_target => Case { toml: "[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\nloss = \"log_loss\"\n", files: &[], code: 2, expect: &["exp.toml:8:", "model `h`: loss log_loss is a classification loss, but the task is regression"] },
    fn hgb_loss_misspelt => Case { toml: "[[model]]\nname = \"h\"\nkind = \"hist_gradient_boosting\"\nloss = \"absolute\"\n", files: &[], code: 2, expect: &["exp.toml:8:", "did you mean `absolute_error`"] },
    fn a_single_leaf_tree_is_refused => Case { toml: "[[model]]\nname = \"t\"\nkind = \"decision_tree\"\nmax_leaf_nodes = 1\n", files: &[], code: 2, expect: &["max_leaf_nodes = 1: a tree split best first needs at least 2 leaves"] },
    fn range_beyond_i64 => Case { toml: "[[model]]\nname = \"t\"\nkind = \"decision_tree\"\ngrid.max_depth = { range = [0, 9223372036854775807, 1] }\n", files: &[], code: 2, expect: &["exp.toml:8:", "within ±2^53"] },
    fn grid_over_max_units => Case { toml: "[[model]]\nname = \"r\"\nkind = \"lasso\"\ngrid.alpha = { logspace = [-3, 3, 1000] }\ngrid.tol = { logspace = [-6, -1, 1001] }\n", files: &[], code: 2, expect: &["1001000 units", "more than max_units = 1000000"] },
    fn max_units_set_lower => Case { toml: "\x00no-head\x00name = \"t\"\nmax_units = 3\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = [1, 2, 3, 4]\n", files: &[], code: 2, expect: &["4 units", "max_units = 3"] },
    fn max_units_zero => Case { toml: "\x00no-head\x00name = \"t\"\nmax_units = 0\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n", files: &[], code: 2, expect: &["exp.toml:2:13", "`max_units`"] },
    // Numbers that must not be ok without a reason.
    fn target_too_large_for_f64_arithmetic => Case { toml: "", files: &[("data.csv", "x,y\n1,1e200\n2,3e200\n3,2e200\n4,5e200\n5,1e200\n6,4e200\n7,2e200\n8,1e200\n")], code: 1, expect: &["not a finite number"] },
    fn learning_rate_that_explodes => Case { toml: "[[model]]\nname = \"g\"\nkind = \"linear_gd\"\nlearning_rate = 1e10\n", files: &[], code: 1, expect: &["diverged"] },
    fn all_missing_column => Case { toml: "[preprocess]\nimpute = \"constant\"\nfill_value = 0\n", files: &[("data.csv", "x,z,y\n1,,2.5\n2,,3.5\n3,,5.5\n4,,4.5\n")], code: 2, expect: &["column `z` has no values at all"] },
    fn constant_column_is_kept_under_scaling => Case { toml: "[preprocess]\nscale = \"standard\"\n", files: &[("data.csv", "x,k,y\n1,7,2.5\n2,7,3.5\n3,7,5.5\n4,7,4.5\n5,7,6.5\n6,7,8.5\n")], code: 0, expect: &["ols"] },
    // Data files with a broken shape.
    fn duplicate_header => Case { toml: "", files: &[("data.csv", "x,x,y\n1,2,3\n4,5,6\n")], code: 2, expect: &["names column `x` twice (columns 1 and 2)"] },
    fn short_row => Case { toml: "", files: &[("data.csv", "x1,x2,y\n1,2,3\n4,5\n7,8,9\n")], code: 2, expect: &["row 2 (line 3 of the file) has 2 field(s), but the header has 3"] },
    fn long_row => Case { toml: "", files: &[("data.csv", "x1,x2,y\n1,2,3\n4,5,6,7\n7,8,9\n")], code: 2, expect: &["row 2 (line 3 of the file) has 4 field(s)"] },
    fn quoted_commas_are_one_field => Case { toml: "", files: &[("data.csv", "x1,c,y\n1,\"a,b\",3.5\n4,\"c\",6.5\n7,\"a,b\",9.5\n2,\"c\",4.5\n")], code: 0, expect: &["ols"] },
    fn dataset_is_a_folder => Case { toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \".\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n", files: &[], code: 2, expect: &["exp.toml:3:8", "must end in .csv"] },
    fn split_column_is_the_target => Case { toml: "[split]\nmethod = \"column\"\ncolumn = \"y\"\n", files: &[], code: 2, expect: &["exp.toml:7:10", "the split column `y` is the target"] },
    fn header_only_names_the_file => Case { toml: "", files: &[("data.csv", "x1,x2,y\n")], code: 2, expect: &["data.csv"] },
    fn empty_file_again => Case { toml: "", files: &[("data.csv", "")], code: 2, expect: &["is empty"] },
    // Messages that must be located and say what is wrong.
    fn seed_beyond_64_bits => Case { toml: "\x00no-head\x00name = \"t\"\nseed = 99999999999999999999\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n", files: &[], code: 2, expect: &["exp.toml:2:8", "does not even fit in 64 bits"] },
    fn test_size_1_0 => Case { toml: "[split]\ntest_size = 1.0\n", files: &[], code: 2, expect: &["exp.toml:6:13", "found 1.0", "without a decimal point"] },
    fn stratified_folds_on_a_regression_target => Case { toml: "[split]\nmethod = \"stratified_kfold\"\nfolds = 2\n", files: &[], code: 2, expect: &["exp.toml:6:10", "stratified splits need a classification target"] },
    fn stratified_holdout_on_a_regression_target => Case { toml: "[split]\nstratify = true\n", files: &[], code: 2, expect: &["exp.toml:6:12", "stratified splits need a classification target"] },
    fn text_fill_value_for_a_numeric_gap => Case { toml: "[preprocess]\nimpute = \"constant\"\nfill_value = \"abc\"\n", files: &[("data.csv", "x,y\n1,2.5\n,3.5\n3,5.5\n4,4.5\n")], code: 2, expect: &["exp.toml:7:14", "must be a number for a numeric column"] },
    fn mean_of_a_text_column => Case { toml: "[preprocess]\nimpute = \"mean\"\n", files: &[("data.csv", "x,c,y\n1,a,2.5\n2,,3.5\n3,b,5.5\n4,a,4.5\n")], code: 2, expect: &["cannot fill the categorical column `c`"] },
    fn empty_grid_list => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = []\n", files: &[], code: 2, expect: &["exp.toml:8:", "is empty"] },
    fn unknown_generator_names_the_valid_ones => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { normal = [0, 1] }\n", files: &[], code: 2, expect: &["exp.toml:8:", "unknown grid generator `normal`", "generators: logspace, linspace, range"] },
    fn halving_with_no_training_rows => Case { toml: "[split]\nmethod = \"kfold\"\nfolds = 2\n[search]\nmethod = \"halving\"\nmin_resources = 1\n[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = [1, 2, 3]\n", files: &[], code: 2, expect: &["exp.toml:10:17", "min_resources = 1 of 6 rows", "fold 1: 0 train, 0 test; fold 2: 0 train, 0 test", "use min_resources >= 2"] },
    fn unknown_grid_generator => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { logspase = [-1, 1, 3] }\n", files: &[], code: 2, expect: &["exp.toml:8:", "did you mean `logspace`?"] },
    fn fractional_logspace_count => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { logspace = [-1, 1, 2.5] }\n", files: &[], code: 2, expect: &["exp.toml:8:", "whole number"] },
    fn one_fold => Case { toml: "[split]\nmethod = \"kfold\"\nfolds = 1\n", files: &[], code: 2, expect: &["exp.toml:7:9", "folds"] },
    fn folds_with_holdout => Case { toml: "[split]\nmethod = \"holdout\"\nfolds = 3\n", files: &[], code: 2, expect: &["exp.toml:7:1", "folds"] },
    fn boolean_given_a_number => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\nfit_intercept = 1\n", files: &[], code: 2, expect: &["exp.toml:8:", "true or false"] },
    fn kernel_of_the_wrong_type => Case { toml: "[[model]]\nname = \"s\"\nkind = \"svm\"\nkernel = 3\n", files: &[], code: 2, expect: &["exp.toml:8:", "expected one of rbf, linear, poly, sigmoid, found an integer"] },
    fn svm_gamma_not_positive => Case { toml: "[[model]]\nname = \"s\"\nkind = \"svm\"\ngamma = 0\n", files: &[], code: 2, expect: &["exp.toml:8:", "positive float or \"scale\" or \"auto\""] },
    fn svm_cache_size_not_positive => Case { toml: "[[model]]\nname = \"s\"\nkind = \"svm\"\ncache_size = 0\n", files: &[], code: 2, expect: &["exp.toml:8:", "cache_size"] },
    fn svm_degree_below_one => Case { toml: "[[model]]\nname = \"s\"\nkind = \"svm\"\nkernel = \"poly\"\ndegree = 0\n", files: &[], code: 2, expect: &["exp.toml:9:", "degree"] },
    fn svm_break_ties_with_ovo => Case { toml: "[[model]]\nname = \"s\"\nkind = \"svm\"\nbreak_ties = true\ndecision_function_shape = \"ovo\"\n", files: &[], code: 2, expect: &["exp.toml:", "break_ties = true needs decision_function_shape"] },
    fn integer_parameter_of_the_wrong_type => Case { toml: "[[model]]\nname = \"t\"\nkind = \"decision_tree\"\nmax_depth = \"3\"\n", files: &[], code: 2, expect: &["exp.toml:8:", "expected an integer >= 0, found a string"] },
    fn misspelt_kernel => Case { toml: "[[model]]\nname = \"s\"\nkind = \"svm\"\nkernel = \"rbff\"\n", files: &[], code: 2, expect: &["exp.toml:8:", "did you mean `rbf`?"] },
    fn empty_hidden_layers => Case { toml: "[[model]]\nname = \"m\"\nkind = \"mlp\"\nhidden_layers = []\n", files: &[], code: 2, expect: &["exp.toml:8:", "non-empty"] },
    fn classifier_on_a_regression_target => Case { toml: "[[model]]\nname = \"l\"\nkind = \"logistic_regression\"\n", files: &[], code: 2, expect: &["exp.toml:7:8", "is a classifier, but the task is regression"] },
    fn unknown_feature_column => Case { toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\nfeatures = [\"x9\"]\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n", files: &[], code: 2, expect: &["exp.toml:5:", "x9"] },
    fn integer_target_with_one_feature => Case { toml: "", files: &[("data.csv", "x,y\n1,2\n2,3\n3,5\n4,4\n")], code: 2, expect: &["exp.toml:4:10", "task = \"classification\" or task = \"regression\""] },
    fn missing_value_in_an_integer_column => Case { toml: "", files: &[("data.csv", "x1,x2,y\n1,2,3.5\n4,,6.5\n7,8,9.5\n1,3,2.5\n")], code: 2, expect: &["column `x2` has a missing value at row 2 (line 3 of the file)"] },
    fn missing_tokens_of_the_wrong_type => Case { toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\nmissing = [1]\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n", files: &[], code: 2, expect: &["exp.toml:5:", "missing"] },
    fn unknown_metric_is_located => Case { toml: "[report]\nmetrics = [\"msee\"]\n", files: &[], code: 2, expect: &["exp.toml:6:", "did you mean `mse`?"] },
    fn roc_auc_for_regression => Case { toml: "[report]\nmetrics = [\"roc_auc\"]\n", files: &[], code: 2, expect: &["exp.toml:6:", "roc_auc"] },
    fn unknown_format => Case { toml: "[report]\nformats = [\"pdf\"]\n", files: &[], code: 2, expect: &["exp.toml:6:", "pdf"] },
    fn negative_learning_rate => Case { toml: "[[model]]\nname = \"g\"\nkind = \"linear_gd\"\nlearning_rate = -0.1\n", files: &[], code: 2, expect: &["exp.toml:8:", "out of range"] },
    fn model_without_kind => Case { toml: "[[model]]\nname = \"g\"\n", files: &[], code: 2, expect: &["kind"] },
    fn truncated_model_kind => Case { toml: "[[model]]\nname = \"g\"\nkind = \"ridg\"\n", files: &[], code: 2, expect: &["exp.toml:7:8", "did you mean `ridge`?"] },
    fn report_dir_escaping_via_name => Case { toml: "\x00no-head\x00name = \"../up\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\n[[model]]\nname = \"ols\"\nkind = \"linear_regression\"\n", files: &[], code: 2, expect: &["exp.toml:1:8", "folder name"] },
    fn one_class_target => Case { toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntask = \"classification\"\n[[model]]\nname = \"l\"\nkind = \"logistic_regression\"\n", files: &[("data.csv", "x,y\n1,a\n2,a\n3,a\n4,a\n")], code: 2, expect: &["single class `a`"] },
    fn unknown_per_column_key => Case { toml: "[preprocess.columns.x1]\nimpute = \"mean\"\nscael = \"none\"\n", files: &[], code: 2, expect: &["exp.toml:7:1", "did you mean `scale`?"] },
    fn infinite_grid_value => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = [1, inf]\n", files: &[], code: 2, expect: &["exp.toml:8:", "out of range"] },
    fn logspace_with_ten_million_points => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { logspace = [-3, 3, 10000000] }\n", files: &[], code: 2, expect: &["exp.toml:8:", "gives 10000000 values; an axis gives at most 1000000"] },
    fn distribution_without_random_search => Case { toml: "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { loguniform = [0.01, 10] }\n", files: &[], code: 2, expect: &["exp.toml:8:14", "add [search] method = \"random\""] },
    fn unknown_search_method => Case { toml: "[search]\nmethod = \"randm\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n", files: &[], code: 2, expect: &["exp.toml:6:10", "unknown search method `randm`", "did you mean `random`?"] },
    fn n_trials_on_a_grid_search => Case { toml: "[search]\nn_trials = 5\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n", files: &[], code: 2, expect: &["exp.toml:6:12", "applies to method = \"random\" only"] },
    fn loguniform_from_zero => Case { toml: "[search]\nmethod = \"random\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { loguniform = [0, 10] }\n", files: &[], code: 2, expect: &["exp.toml:10:", "needs 0 < low"] },
    fn distribution_outside_the_parameter_s_range => Case { toml: "[search]\nmethod = \"random\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { uniform = [-1, 1] }\n", files: &[], code: 2, expect: &["exp.toml:10:", "reaches -1"] },
    fn outer_split_by_a_column => Case { toml: "[split]\nmethod = \"kfold\"\n[split.outer]\nmethod = \"column\"\ncolumn = \"x1\"\n", files: &[], code: 2, expect: &["exp.toml:", "[split.outer] takes holdout, kfold, stratified_kfold or timeseries"] },
    fn outer_split_with_too_many_folds => Case { toml: "[split]\nmethod = \"kfold\"\nfolds = 2\n[split.outer]\nmethod = \"kfold\"\nfolds = 7\n", files: &[], code: 2, expect: &["exp.toml:", "[split.outer]", "7 folds need at least 7 rows"] },
    fn split_column_with_no_values_at_all => Case { toml: "[split]\nmethod = \"column\"\ncolumn = \"s\"\n", files: &[("data.csv", "x,s,y\n1,,2.5\n2,,3.5\n3,,5.5\n")], code: 2, expect: &["split column `s`", "row 1", "(missing)"] },
    fn group_column_with_a_gap => Case { toml: "[split]\nmethod = \"group_kfold\"\ngroup = \"g\"\nfolds = 2\n", files: &[("data.csv", "x,g,y\n1,a,2.5\n2,,3.5\n3,b,5.5\n4,b,4.5\n")], code: 2, expect: &["group column `g`", "missing value", "row 2"] },
    fn more_group_folds_than_groups => Case { toml: "[split]\nmethod = \"group_kfold\"\ngroup = \"g\"\nfolds = 3\n", files: &[("data.csv", "x,g,y\n1,a,2.5\n2,a,3.5\n3,b,5.5\n4,b,4.5\n")], code: 2, expect: &["exp.toml:", "3 group folds need at least 3 distinct groups", "has 2"] },
    fn time_series_too_short => Case { toml: "[split]\nmethod = \"timeseries\"\nfolds = 3\ntest_size = 2\n", files: &[], code: 2, expect: &["exp.toml:", "time-series folds", "the dataset has 6"] },
    fn repeats_without_shuffle => Case { toml: "[split]\nmethod = \"kfold\"\nrepeats = 2\nshuffle = false\n", files: &[], code: 2, expect: &["exp.toml:8:11", "reshuffles each repeat"] },
    fn group_key_on_kfold => Case { toml: "[split]\nmethod = \"kfold\"\ngroup = \"x1\"\n", files: &[], code: 2, expect: &["exp.toml:7:1", "`group` in [split] does not apply to method = \"kfold\""] },
    fn split_column_with_a_bad_value => Case { toml: "[split]\nmethod = \"column\"\ncolumn = \"s\"\n", files: &[("data.csv", "x,s,y\n1,train,2.5\n2,tset,3.5\n3,test,5.5\n4,train,4.5\n")], code: 2, expect: &["split column `s`", "`tset`"] },
    fn one_row_cannot_be_split => Case { toml: "", files: &[("data.csv", "x,y\n1,2.5\n")], code: 2, expect: &["leaves no rows for training (1 rows in all)"] },
    // Found by the loader fuzz target: polars read out of bounds on this file.
    fn ragged_row_before_an_unclosed_quote => Case { toml: "", files: &[("data.csv", "a,c,y\nx,1,2.5\ny,2,3.5\nx3,\n\"q,r\",4-1.5\n,\n\"")], code: 2, expect: &["row 3 (line 4 of the file) has 2 field(s)"] },
    fn mid_field_quote_then_an_unclosed_one => Case { toml: "", files: &[("data.csv", "\u{0}0\n\u{1}{\"el\n\u{0}0\nl\n\u{0}0\nmox\u{0}1i\n\"")], code: 2, expect: &["is never closed"] },
    // Found by the loader fuzz target: polars panicked on an integer beyond i64 in NDJSON.
    fn ndjson_integer_beyond_64_bits => Case { toml: "\x00no-head\x00name = \"t\"\n[dataset]\npath = \"data.ndjson\"\ntarget = \"y\"\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n", files: &[("data.ndjson", "{\"x\": 777777777777777777777777777777777777, \"y\": 1.5}\n")], code: 2, expect: &["could not be parsed"] },
    fn text_after_a_closing_quote => Case { toml: "", files: &[("data.csv", "x,y\n\"\"0r,1.5\n2,2.5\n")], code: 2, expect: &["text after a closing quote"] },
    fn unclosed_quote => Case { toml: "", files: &[("data.csv", "x,y\n1,2.5\n\"3,4.5\n")], code: 2, expect: &["is never closed"] },
}

/// The experiment file and data of a case, in a scratch folder.
fn scratch_for(name: &str, case: &Case) -> tempfile::TempDir {
    let toml = if let Some(rest) = case.toml.strip_prefix("\x00no-head\x00") {
        rest.to_string()
    } else if case.toml.starts_with("name = ") {
        case.toml.to_string()
    } else {
        let model = if case.toml.contains("[[model]]") && !name.starts_with("duplicate") { "" } else { MODEL };
        format!("{HEAD}{}{model}", case.toml)
    };
    // Models go last in the file so that line numbers in `expect` stay simple.
    let toml = if name.starts_with("duplicate") { format!("{HEAD}{MODEL}{}", case.toml) } else { toml };
    let mut files: Vec<(&str, &str)> = vec![("exp.toml", &toml)];
    if !case.files.iter().any(|(n, _)| *n == "data.csv") {
        files.push(("data.csv", SMALL));
    }
    files.extend(case.files.iter().copied());
    scratch(&files)
}

/// A config-only case (exit 2 on the default data) is checked through the library's
/// planning, with no process; every other case through the binary.
fn check(name: &str, case: Case) {
    let dir = scratch_for(name, &case);
    if case.code == 2 && case.files.is_empty() {
        check_plan(&dir, &case);
    } else {
        check_binary(&dir, &case);
    }
}

/// `prepare_with` must refuse the file; its error is what `runner run` prints (each line
/// with control characters escaped) before it exits 2, and nothing is written then. A
/// panic fails the test.
fn check_plan(dir: &tempfile::TempDir, case: &Case) {
    let error = match prepare_with(&dir.path().join("exp.toml"), &[], DataMode::default()) {
        Ok(_) => panic!("planned without an error; expected {:?}", case.expect),
        Err(e) => e.to_string(),
    };
    for e in case.expect {
        assert!(error.contains(e), "expected `{e}` in:\n{error}");
    }
}

fn check_binary(dir: &tempfile::TempDir, case: &Case) {
    let out = runner().current_dir(dir.path()).args(["run", "exp.toml", "--quiet", "--out", "out"]).output().unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
    let mut failures = Vec::new();
    if out.status.code() != Some(case.code) {
        failures.push(format!("exit code {:?}, expected {}", out.status.code(), case.code));
    }
    if all.contains("panicked") {
        failures.push("panicked".to_string());
    }
    for e in case.expect {
        if !all.contains(e) {
            failures.push(format!("expected `{e}`"));
        }
    }
    if case.code == 2 && dir.path().join("out").exists() {
        failures.push("a config or data error must stop before any report is written".to_string());
    }
    assert!(failures.is_empty(), "{}; output:\n{all}", failures.join("; "));
}

/// Grids are counted from their axis lengths and refused before anything is expanded:
/// quickly and in little memory, whatever the count (a debug build, a generous limit).
#[test]
fn huge_grids_are_refused_before_they_are_expanded() {
    let dir = scratch(&[("data.csv", SMALL)]);
    let kfold = "[split]\nmethod = \"kfold\"\n";
    let cases = [
        (
            "",
            "grid.alpha = { logspace = [-3, 3, 1000000] }\ngrid.tol = { logspace = [-6, -1, 1000000] }\n",
            "1000000000000 units",
        ),
        (
            kfold,
            "grid.alpha = { logspace = [-3, 3, 1000] }\ngrid.tol = { logspace = [-6, -1, 1000] }\n",
            "5000000 units",
        ),
        (
            "[search]\nmethod = \"random\"\nn_trials = 1000000\n[split]\nmethod = \"kfold\"\n",
            "grid.alpha = { loguniform = [0.001, 1000] }\n",
            "5000000 units",
        ),
        ("", "grid.alpha = { logspace = [-3, 3, 100000000] }\n", "gives 100000000 values"),
        ("", "grid.alpha = { range = [0, 9000000000000000, 1] }\n", "gives 9000000000000000 values"),
    ];
    for (extra, grid, expect) in cases {
        let toml = format!("{HEAD}{extra}[[model]]\nname = \"r\"\nkind = \"lasso\"\n{grid}");
        std::fs::write(dir.path().join("exp.toml"), toml).unwrap();
        let out = runner()
            .current_dir(dir.path())
            .args(["check", "exp.toml"])
            .timeout(std::time::Duration::from_secs(5))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{grid}: {stderr}");
        assert!(stderr.contains("exp.toml:") && stderr.contains(expect), "{grid}: expected `{expect}` in {stderr}");
    }
}

/// `[split.outer] method = "group_kfold"` is refused by name, without first asking for the
/// `group` key a group k-fold would need.
#[test]
fn an_outer_method_that_is_not_allowed_is_refused_by_name_only() {
    let toml = format!("{HEAD}[split]\nmethod = \"kfold\"\n[split.outer]\nmethod = \"group_kfold\"\n{MODEL}");
    let dir = scratch(&[("exp.toml", &toml), ("data.csv", SMALL)]);
    let out = runner().current_dir(dir.path()).args(["check", "exp.toml"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exp.toml:8:10") && stderr.contains("not `group_kfold`"), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{stderr}");
}

#[test]
fn every_config_error_is_reported_at_once() {
    let toml = "name = \"t\"\nseed = -1\n[dataset]\npath = \"data.csv\"\ntarget = \"y\"\ntsk = \"regression\"\n[split]\ntest_size = 2.5\n[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpah = 1\n";
    let dir = scratch(&[("exp.toml", toml), ("data.csv", SMALL)]);
    let out = runner().current_dir(dir.path()).args(["check", "exp.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for e in [
        "exp.toml:2:8",
        "exp.toml:6:1",
        "did you mean `task`?",
        "exp.toml:8:13",
        "exp.toml:12:1",
        "did you mean `alpha`?",
    ] {
        assert!(stderr.contains(e), "expected `{e}` in:\n{stderr}");
    }
    assert_eq!(stderr.lines().filter(|l| l.starts_with("error:")).count(), 4, "{stderr}");
}

#[test]
fn a_failed_trial_is_recorded_and_the_sweep_goes_on() {
    // (γ x·y)^500 overflows f64: libsvm's dual coefficients are not finite, which
    // scikit-learn refuses too.
    let toml = format!("{HEAD}[[model]]\nname = \"r0\"\nkind = \"svm\"\nkernel = \"poly\"\ndegree = 500\n[[model]]\nname = \"r1\"\nkind = \"ridge\"\nalpha = 1\n");
    let dir = scratch(&[
        ("exp.toml", &toml),
        ("data.csv", "x1,x2,y\n1.0,2.0,3.5\n2.0,4.0,4.0\n3.0,6.0,7.5\n4.0,8.0,7.0\n5.0,10.0,11.5\n6.0,12.0,11.0\n"),
    ]);
    runner().current_dir(dir.path()).args(["exp.toml", "-q", "--out", "out"]).assert().success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap()).unwrap();
    let r0 = trial(&report, "r0");
    assert_eq!(r0["status"], "failed");
    assert!(r0["reason"].as_str().unwrap().contains("not finite"), "{r0}");
    assert_eq!(trial(&report, "r1")["status"], "ok");
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("## Failed and diverged trials"));
}

/// Bytes that are not UTF-8, a FIFO and a device: refused with their place, never read forever.
#[cfg(unix)]
#[test]
fn files_that_are_not_text_or_not_regular_are_refused() {
    let dir = scratch(&[("data.csv", SMALL)]);
    let exp = |path: &str| format!("name = \"t\"\n[dataset]\npath = \"{path}\"\ntarget = \"y\"\n{MODEL}");
    let check = |toml: &[u8], expect: &str| {
        std::fs::write(dir.path().join("exp.toml"), toml).unwrap();
        let out = runner()
            .current_dir(dir.path())
            .args(["check", "exp.toml"])
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expect), "expected `{expect}` in {stderr}");
    };
    check(b"name = \"t\xff\"\n", "byte 10 of line 1 is not UTF-8");
    std::fs::write(dir.path().join("bad.csv"), b"x\xff1,y\n1,2.5\n").unwrap();
    check(exp("bad.csv").as_bytes(), "the header is not valid UTF-8");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.csv")).unwrap();
    check(exp("zero.csv").as_bytes(), "is not a regular file");
    let fifo = dir.path().join("fifo.csv");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    check(exp("fifo.csv").as_bytes(), "is not a regular file");
}

#[test]
fn thousands_of_jobs_are_refused() {
    let out = runner()
        .args(["run", "experiments/boston.toml", "--jobs", "100000", "--out", "target/never"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--jobs 100000 is out of range"));
}

/// A categorical column with thousands of levels is warned about before training, with
/// what its dense one-hot design costs per fold and per fit.
#[test]
fn a_wide_one_hot_design_is_warned_with_its_cost() {
    let mut csv = String::from("c,x,y\n");
    for i in 0..1200 {
        csv.push_str(&format!("l{i},{},{}.5\n", i % 7, i % 5));
    }
    let toml = format!("{HEAD}[split]\nmethod = \"kfold\"\nfolds = 4\n[[model]]\nname = \"r\"\nkind = \"ridge\"\n");
    let dir = scratch(&[("exp.toml", &toml), ("data.csv", &csv)]);
    let out = runner().current_dir(dir.path()).args(["check", "exp.toml"]).output().unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{all}");
    for expect in
        ["column `c` has 1200 categories", "GB of dense matrices", "multiply-adds per fit (900 rows × 1201 columns"]
    {
        assert!(all.contains(expect), "expected `{expect}` in {all}");
    }
}
