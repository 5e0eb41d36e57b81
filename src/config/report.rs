//! `[report]`: what the report holds.

use super::key::Key;
use super::reader::{choice_of, declared, float_of, int_of, keys, type_name, words, Cx, Reader, Value};
use super::{Format, Metric, PredictionsScope, ReportConfig, SampleSize};
use crate::suggest::suggestion;
use std::ops::Range;
use strum::VariantArray;
use toml::de::DeValue;

keys! {
    /// The keys of `[report]`.
    pub enum ReportKey {
        Dir = "dir": Str, Absent, "";
        Formats = "formats": ChoiceList { words: words::<super::Format>, min_items: 0 }, Words(&["md", "json", "svg", "html"]), "";
        Metrics = "metrics": ChoiceList { words: words::<super::Metric>, min_items: 1 }, Absent, "";
        RankBy = "rank_by": Choice(words::<super::Metric>), Absent, "";
        PermutationImportance = "permutation_importance": Bool, Flag(true), "";
        PermutationMaxSamples = "permutation_max_samples": SampleSize, Absent, "";
        Predictions = "predictions": Choice(words::<super::PredictionsScope>), Word("best"), "";
        Refit = "refit": Bool, Flag(true), "";
        LearningCurve = "learning_curve": SampleSizes, Absent, "";
        LearningCurveShuffle = "learning_curve_shuffle": Bool, Flag(false), "";
        Mlflow = "mlflow": Str, Absent, "";
    }
}

pub(super) fn report(cx: &Cx<'_>, v: &Value<'_>) -> Option<ReportConfig> {
    let mut r = Reader::of(cx, v, "[report]", Key::Report)?;
    let learning_curve = match r.value(ReportKey::LearningCurve) {
        Some(v) => learning_curve(cx, v),
        None => Some(Vec::new()),
    };
    let max_samples = match r.value(ReportKey::PermutationMaxSamples) {
        Some(v) => max_samples(cx, v).map(Some),
        None => Some(None),
    };
    let formats = match r.optional::<Vec<String>>(ReportKey::Formats) {
        Some(Some(list)) => word_list::<Format>(&mut r, ReportKey::Formats, &list),
        Some(None) => declared::<Vec<String>, _>(ReportKey::Formats)?.iter().map(|w| choice_of(w)).collect(),
        None => None,
    };
    let metrics = metrics(&mut r);
    let rank_by = match r.optional::<String>(ReportKey::RankBy) {
        Some(Some(m)) => {
            let metric = Metric::from_name(&m);
            if metric.is_none() {
                let span = r.value(ReportKey::RankBy).map_or(r.span.clone(), |v| v.span());
                let hint = suggestion(&m, Metric::VARIANTS.iter().map(|&m| m.name()));
                cx.err(&span, format!("unknown metric `{m}` in `rank_by` of [report]{hint}"));
            }
            metric.map(Some)
        }
        other => other.map(|_| None),
    };
    // Every key is read before any `?`, so each error is reported.
    let refit = r.or_default::<bool>(ReportKey::Refit);
    let learning_curve_shuffle = r.or_default::<bool>(ReportKey::LearningCurveShuffle);
    let dir = r.optional::<String>(ReportKey::Dir);
    let permutation_importance = r.or_default::<bool>(ReportKey::PermutationImportance);
    let predictions = r.choice::<PredictionsScope>(ReportKey::Predictions);
    let mlflow = match r.optional::<String>(ReportKey::Mlflow) {
        Some(Some(uri)) => tracking_uri(cx, r.value(ReportKey::Mlflow).map_or(r.span.clone(), |v| v.span()), uri),
        other => other.map(|_| None),
    };
    Some(ReportConfig {
        mlflow: mlflow?,
        refit: refit?,
        learning_curve: learning_curve?,
        learning_curve_shuffle: learning_curve_shuffle?,
        dir: dir?.map(std::path::PathBuf::from),
        formats: formats?,
        metrics: metrics?,
        rank_by: rank_by?,
        permutation_importance: permutation_importance?,
        permutation_max_samples: max_samples?,
        predictions: predictions?,
    })
}

/// `mlflow`: an MLflow tracking server's http(s) address.
fn tracking_uri(cx: &Cx<'_>, span: Range<usize>, uri: String) -> Option<Option<String>> {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        return Some(Some(uri));
    }
    let message = format!(
        "`mlflow` in [report] must be a tracking server's address such as \"http://localhost:5000\", found \"{uri}\": runner logs over MLflow's REST API, not to a local store"
    );
    cx.err(&span, message);
    None
}

/// `metrics` (`Some(None)` when not given).
fn metrics(r: &mut Reader<'_, '_, ReportKey>) -> Option<Option<Vec<Metric>>> {
    let Some(list) = r.optional::<Vec<String>>(ReportKey::Metrics)? else { return Some(None) };
    let metrics = word_list(r, ReportKey::Metrics, &list);
    if list.is_empty() {
        let span = r.value(ReportKey::Metrics).map_or(r.span.clone(), |v| v.span());
        r.cx().err(&span, "`metrics` in [report] is empty");
        return None;
    }
    metrics.map(Some)
}

/// A list of an enum's words (`formats = ["md", "json"]`); every unknown word is an error.
fn word_list<T>(r: &mut Reader<'_, '_, ReportKey>, k: ReportKey, list: &[String]) -> Option<Vec<T>>
where
    T: Copy + VariantArray + Into<&'static str>,
{
    let span: Range<usize> = r.value(k).map_or(r.span.clone(), |v| v.span());
    let what = if k == ReportKey::Metrics { "metric" } else { "report format" };
    let names = words::<T>();
    let mut ok = true;
    let mut out = Vec::new();
    for word in list {
        match choice_of::<T>(word) {
            Some(v) => out.push(v),
            None => {
                let hint = suggestion(word, names.iter().copied());
                r.cx().err(&span, format!("unknown {what} `{word}` in [report] ({}){hint}", names.join(", ")));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// `learning_curve`: training sizes, each a fraction in (0, 1] of each fold's training
/// part or a row count >= 1, as scikit-learn's `learning_curve(train_sizes=...)`.
fn learning_curve(cx: &Cx<'_>, v: &Value<'_>) -> Option<Vec<SampleSize>> {
    let DeValue::Array(items) = v.get_ref() else {
        let found = type_name(v.get_ref());
        cx.err(
            &v.span(),
            format!("`learning_curve` in [report] must be a list of fractions or row counts, found {found}"),
        );
        return None;
    };
    if items.is_empty() {
        cx.err(&v.span(), "`learning_curve` in [report] is empty: list training sizes such as [0.1, 0.55, 1.0]");
        return None;
    }
    let mut sizes = Vec::with_capacity(items.len());
    for item in items.iter() {
        match sample_size(item) {
            Some(r) => sizes.push(r),
            None => cx.err(
                &item.span(),
                "a `learning_curve` size must be a fraction in (0, 1] or a row count >= 1, as scikit-learn's train_sizes",
            ),
        }
    }
    (sizes.len() == items.len()).then_some(sizes)
}

/// A row count >= 1 or a fraction in (0, 1].
fn sample_size(v: &Value<'_>) -> Option<SampleSize> {
    match v.get_ref() {
        DeValue::Integer(_) => int_of(v.get_ref()).filter(|&n| n >= 1).map(|n| SampleSize::Count(n as usize)),
        DeValue::Float(_) => float_of(v.get_ref()).filter(|&x| x > 0.0 && x <= 1.0).map(SampleSize::Fraction),
        _ => None,
    }
}

/// `permutation_max_samples`: a row count >= 1 or a fraction in (0, 1].
fn max_samples(cx: &Cx<'_>, v: &Value<'_>) -> Option<SampleSize> {
    let size = sample_size(v);
    if size.is_none() {
        cx.err(
            &v.span(),
            "`permutation_max_samples` in [report] must be a row count >= 1 or a fraction in (0, 1], as scikit-learn's max_samples",
        );
    }
    size
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{errors, parse, HEAD, MODEL};
    use super::*;

    fn report_of(table: &str) -> ReportConfig {
        parse(&format!("{HEAD}{table}{MODEL}")).unwrap().report
    }

    #[test]
    fn no_report_table_takes_every_default() {
        for table in ["", "[report]\n"] {
            let r = report_of(table);
            assert_eq!(r.formats, [Format::Md, Format::Json, Format::Svg, Format::Html]);
            assert_eq!((r.dir, r.metrics, r.rank_by, r.permutation_max_samples), (None, None, None, None));
            assert!(r.permutation_importance && r.refit && !r.learning_curve_shuffle && r.learning_curve.is_empty());
            assert_eq!(r.predictions, PredictionsScope::Best);
        }
    }

    #[test]
    fn every_key_is_read() {
        let text = "[report]\ndir = \"out\"\nformats = [\"json\"]\nmetrics = [\"mae\"]\nrank_by = \"r2\"\n\
                    permutation_importance = false\npermutation_max_samples = 10\npredictions = \"all\"\nrefit = false\n\
                    learning_curve = [0.5, 20]\nlearning_curve_shuffle = true\n";
        let r = report_of(text);
        assert_eq!((r.dir.unwrap().to_str(), r.formats), (Some("out"), vec![Format::Json]));
        assert_eq!((r.metrics, r.rank_by), (Some(vec![Metric::Mae]), Some(Metric::R2)));
        assert_eq!(r.permutation_max_samples, Some(SampleSize::Count(10)));
        assert_eq!(r.learning_curve, [SampleSize::Fraction(0.5), SampleSize::Count(20)]);
        assert!(!r.permutation_importance && !r.refit && r.learning_curve_shuffle);
        assert_eq!(r.predictions, PredictionsScope::All);
    }

    #[test]
    fn an_unknown_metric_gets_a_did_you_mean() {
        let e = errors(&format!("{HEAD}[report]\nmetrics = [\"mse\", \"rmsee\"]\nrank_by = \"maee\"\n{MODEL}"));
        assert_eq!(
            e,
            [
                "exp.toml:6:11: unknown metric `rmsee` in [report] (mse, rmse, mae, r2, accuracy, precision, recall, f1, log_loss, roc_auc), did you mean `rmse`?",
                "exp.toml:7:11: unknown metric `maee` in `rank_by` of [report], did you mean `mae`?",
            ]
        );
    }

    #[test]
    fn empty_metrics_are_refused() {
        let e = errors(&format!("{HEAD}[report]\nmetrics = []\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:11: `metrics` in [report] is empty"]);
    }

    #[test]
    fn a_learning_curve_size_is_a_fraction_or_a_count() {
        let e = errors(&format!("{HEAD}[report]\nlearning_curve = [0.5, 0]\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:24: a `learning_curve` size must be a fraction in (0, 1] or a row count >= 1, as scikit-learn's train_sizes"]);
    }

    #[test]
    fn max_samples_is_a_fraction_or_a_count() {
        let e = errors(&format!("{HEAD}[report]\npermutation_max_samples = 1.5\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:27: `permutation_max_samples` in [report] must be a row count >= 1 or a fraction in (0, 1], as scikit-learn's max_samples"]);
    }

    #[test]
    fn every_wrong_key_is_reported() {
        let e = errors(&format!("{HEAD}[report]\nrefit = \"yes\"\ndir = 1\npredictions = \"some\"\n{MODEL}"));
        assert_eq!(
            e,
            [
                "exp.toml:6:9: `refit` in [report] must be true or false, found a string",
                "exp.toml:7:7: `dir` in [report] must be a string, found an integer",
                "exp.toml:8:15: `predictions` in [report] must be one of best, all, none; `some` is not",
            ]
        );
    }
}
