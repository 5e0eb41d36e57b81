use super::{Exporter, Report};

/// `report.json`: the report as pretty-printed JSON with a trailing newline.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn file_name(&self) -> &'static str {
        "report.json"
    }

    fn render(&self, report: &Report) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(report).unwrap_or_default();
        out.push(b'\n');
        out
    }
}
