//! The exporters: each renders the report into outputs (files under the report folder, or
//! text for the terminal). Which ones run, and in what order, is decided in [`exporters`]
//! alone; an exporter sees the outputs of those before it (report.md links the plots).

use super::{html, leaderboard_text, markdown, plots, predictions, Report};
use crate::config::Format;
use crate::models::ModelState;
use serde::Serialize;
use serde_json::ser::Formatter;

/// Where an output goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    /// A file, by its path relative to the report folder (`report.json`, `plots/x.svg`).
    File(String),
    Stdout,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub destination: Destination,
    pub bytes: Vec<u8>,
}

impl Output {
    fn file(path: String, bytes: Vec<u8>) -> Output {
        Output { destination: Destination::File(path), bytes }
    }
}

pub trait Exporter {
    /// Renders `report`; `earlier` holds the outputs of the exporters that ran before.
    fn render(&self, report: &Report, earlier: &[Output]) -> Vec<Output>;
}

/// The exporters `[report] formats` asks for, in the order they run: model.json,
/// predictions.csv and the plots first, since report.md links them; the leaderboard on the
/// terminal always.
pub fn exporters(formats: &[Format]) -> Vec<Box<dyn Exporter>> {
    let mut out: Vec<Box<dyn Exporter>> = vec![Box::new(ModelExporter), Box::new(PredictionsExporter)];
    for (format, exporter) in [
        (Format::Svg, Box::new(SvgExporter) as Box<dyn Exporter>),
        (Format::Json, Box::new(JsonExporter)),
        (Format::Md, Box::new(MarkdownExporter)),
        (Format::Html, Box::new(HtmlExporter)),
    ] {
        if formats.contains(&format) {
            out.push(exporter);
        }
    }
    out.push(Box::new(LeaderboardExporter { top: 20 }));
    out
}

/// `report.json`: the report as pretty-printed JSON with a trailing newline.
pub struct JsonExporter;

/// Pretty-printed JSON with a trailing newline.
fn pretty_json(value: &impl serde::Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

impl Exporter for JsonExporter {
    fn render(&self, report: &Report, _: &[Output]) -> Vec<Output> {
        let metrics = pretty_json(&dvc_metrics(report));
        vec![Output::file("report.json".into(), pretty_json(report)), Output::file("metrics.json".into(), metrics)]
    }
}

/// `metrics.json`, for `dvc metrics show` and `dvc metrics diff`: the best trial's test
/// metrics (mean and std) and each ok trial's test means, two levels deep, numbers only.
fn dvc_metrics(report: &Report) -> serde_json::Value {
    use serde_json::{Map, Value};
    let means = |t: &super::TrialReport, stds: bool| -> Map<String, Value> {
        let mut out = Map::new();
        for (metric, summary) in &t.test.0 {
            let finite = |v: Option<f64>| v.filter(|x| x.is_finite()).map(Value::from);
            if let Some(mean) = finite(summary.mean) {
                out.insert(metric.name().to_string(), mean);
            }
            if let Some(std) = finite(summary.std).filter(|_| stds) {
                out.insert(format!("{}_std", metric.name()), std);
            }
        }
        out
    };
    let best = report.best.as_ref().and_then(|b| report.trials.iter().find(|t| t.id == b.trial));
    let trials: Map<String, Value> = report
        .trials
        .iter()
        .map(|t| (t.id.clone(), Value::Object(means(t, false))))
        .filter(|(_, m)| m.as_object().is_some_and(|m| !m.is_empty()))
        .collect();
    let mut out = Map::new();
    out.insert("best".into(), Value::Object(best.map(|t| means(t, true)).unwrap_or_default()));
    out.insert("trials".into(), Value::Object(trials));
    Value::Object(out)
}

/// `model.json`, when the best trial was refitted.
pub struct ModelExporter;

impl Exporter for ModelExporter {
    fn render(&self, report: &Report, _: &[Output]) -> Vec<Output> {
        let Some(model) = &report.model else { return Vec::new() };
        let bytes = match model.model {
            // A tree's nodes, a forest's trees: one per line (pretty-printed, a forest of deep
            // trees is several times larger and slower to read).
            ModelState::Tree { .. } | ModelState::Forest { .. } => {
                let mut bytes = Vec::new();
                let formatter = Shallow { pretty: serde_json::ser::PrettyFormatter::new(), depth: 0, max: 3 };
                let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
                match model.serialize(&mut serializer) {
                    Ok(()) => bytes.push(b'\n'),
                    Err(_) => bytes = pretty_json(model),
                }
                bytes
            }
            _ => pretty_json(model),
        };
        vec![Output::file("model.json".into(), bytes)]
    }
}

/// JSON pretty-printed down to `max` levels of nesting, anything deeper on one line.
struct Shallow {
    pretty: serde_json::ser::PrettyFormatter<'static>,
    /// Containers open, this one included.
    depth: usize,
    max: usize,
}

/// Calls the pretty formatter's method at the shallow levels, the compact one's below.
macro_rules! shallow {
    ($self:ident, $method:ident($($arg:expr),*)) => {
        if $self.depth <= $self.max {
            $self.pretty.$method($($arg),*)
        } else {
            serde_json::ser::CompactFormatter.$method($($arg),*)
        }
    };
}

impl Formatter for Shallow {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        shallow!(self, begin_array(w))
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let done = shallow!(self, end_array(w));
        self.depth -= 1;
        done
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        shallow!(self, begin_array_value(w, first))
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        shallow!(self, end_array_value(w))
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        shallow!(self, begin_object(w))
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let done = shallow!(self, end_object(w));
        self.depth -= 1;
        done
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        shallow!(self, begin_object_key(w, first))
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        shallow!(self, begin_object_value(w))
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        shallow!(self, end_object_value(w))
    }
}

/// `predictions.csv`, when the report holds out-of-fold predictions.
pub struct PredictionsExporter;

impl Exporter for PredictionsExporter {
    fn render(&self, report: &Report, _: &[Output]) -> Vec<Output> {
        if report.predictions.is_empty() {
            return Vec::new();
        }
        vec![Output::file("predictions.csv".into(), predictions::render(report).into_bytes())]
    }
}

/// The files the exporters before this one wrote, by path, with their bytes.
fn files_written(earlier: &[Output]) -> Vec<(&str, &[u8])> {
    earlier
        .iter()
        .filter_map(|o| match &o.destination {
            Destination::File(path) => Some((path.as_str(), o.bytes.as_slice())),
            Destination::Stdout => None,
        })
        .collect()
}

/// `report.md`, linking the plots written before it.
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn render(&self, report: &Report, earlier: &[Output]) -> Vec<Output> {
        let files = files_written(earlier);
        let plots: Vec<&str> = files.iter().filter_map(|(f, _)| f.strip_prefix("plots/")).collect();
        let predictions = files.iter().any(|(f, _)| *f == "predictions.csv");
        vec![Output::file("report.md".into(), markdown::render(report, &plots, predictions).into_bytes())]
    }
}

/// `report.html`: report.md's sections as one self-contained page, the plots written before
/// it inlined.
pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn render(&self, report: &Report, earlier: &[Output]) -> Vec<Output> {
        let files = files_written(earlier);
        let plots: Vec<(&str, &str)> = files
            .iter()
            .filter_map(|(path, bytes)| Some((path.strip_prefix("plots/")?, std::str::from_utf8(bytes).ok()?)))
            .collect();
        let names: Vec<&str> = plots.iter().map(|(n, _)| *n).collect();
        let predictions = files.iter().any(|(f, _)| *f == "predictions.csv");
        let markdown = markdown::render(report, &names, predictions);
        vec![Output::file("report.html".into(), html::render(report, &markdown, &plots).into_bytes())]
    }
}

/// `plots/*.svg`.
pub struct SvgExporter;

impl Exporter for SvgExporter {
    fn render(&self, report: &Report, _: &[Output]) -> Vec<Output> {
        plots::render_all(report)
            .into_iter()
            .map(|(name, svg)| Output::file(format!("plots/{name}"), svg.into_bytes()))
            .collect()
    }
}

/// The leaderboard printed when a run ends.
pub struct LeaderboardExporter {
    pub top: usize,
}

impl Exporter for LeaderboardExporter {
    fn render(&self, report: &Report, _: &[Output]) -> Vec<Output> {
        vec![Output { destination: Destination::Stdout, bytes: leaderboard_text(report, self.top).into_bytes() }]
    }
}

/// Every exporter's outputs, in order.
pub fn render_all(report: &Report, exporters: &[Box<dyn Exporter>]) -> Vec<Output> {
    let mut outputs = Vec::new();
    for e in exporters {
        let new = e.render(report, &outputs);
        outputs.extend(new);
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_json_is_pretty_down_to_its_depth_and_one_line_below() {
        let value = serde_json::json!({"model": {"type": "forest", "trees": [[{"leaf": [1.0]}, {"split": {"feature": 0}}], [{"leaf": [0.5]}]]}});
        let mut bytes = Vec::new();
        let formatter = Shallow { pretty: serde_json::ser::PrettyFormatter::new(), depth: 0, max: 3 };
        value.serialize(&mut serde_json::Serializer::with_formatter(&mut bytes, formatter)).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let want = "{\n  \"model\": {\n    \"type\": \"forest\",\n    \"trees\": [\n      [{\"leaf\":[1.0]},{\"split\":{\"feature\":0}}],\n      [{\"leaf\":[0.5]}]\n    ]\n  }\n}";
        assert_eq!(text, want);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }
}
