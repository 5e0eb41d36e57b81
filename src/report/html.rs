//! report.html: report.md's sections rendered as one self-contained page: inline CSS, the
//! plots as inline SVG, a few lines of script to sort tables by a clicked column, nothing
//! loaded from the network. Raw HTML in the markdown (a hostile column name, say) is shown
//! as text, never interpreted.

use super::Report;
use pulldown_cmark::{html::push_html, Event, Options, Parser, Tag, TagEnd};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1320px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
table{border-collapse:collapse;margin:1em 0;font-size:0.85em}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left}\
th{background:#f4f4f4;cursor:pointer;user-select:none}th:hover{background:#e8e8e8}tr:nth-child(even) td{background:#fafafa}\
code{background:#f4f4f4;padding:1px 4px;border-radius:3px}h1{border-bottom:2px solid #eee}h2{margin-top:1.6em;border-bottom:1px solid #eee}\
figure{margin:1em 0}figcaption{color:#666;font-size:0.85em}svg{max-width:100%;height:auto}\
table{display:block;max-width:100%;overflow-x:auto}.n{white-space:nowrap}";

/// Click a header to sort its table by that column (numbers by value, then text); click
/// again to reverse.
const SCRIPT: &str = "document.querySelectorAll('table').forEach(function(t){var hs=t.querySelectorAll('th');\
hs.forEach(function(h,i){h.title='sort';h.addEventListener('click',function(){var b=t.tBodies[0];if(!b)return;\
var rows=Array.prototype.slice.call(b.rows);var asc=h.dataset.dir!=='asc';hs.forEach(function(o){delete o.dataset.dir});h.dataset.dir=asc?'asc':'desc';\
var key=function(r){var s=(r.cells[i]||{}).textContent||'';var n=parseFloat(s);return isNaN(n)?s:n};\
rows.sort(function(a,c){var x=key(a),y=key(c);var o=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));return asc?o:-o});\
rows.forEach(function(r){b.appendChild(r)})})})});";

fn escape(s: &str) -> String {
    super::printable(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page for `report`, from its markdown and the plots (file name, SVG text).
pub fn render(report: &Report, markdown: &str, plots: &[(&str, &str)]) -> String {
    // Raw HTML becomes text: nothing in the report can inject markup. A number cell
    // (`0.9884 ± 0.011`) never wraps; a trial id may, after a comma; a wide table scrolls.
    let mut in_cell = false;
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(move |e| match e {
        Event::Start(Tag::TableCell) => {
            in_cell = true;
            e
        }
        Event::End(TagEnd::TableCell) => {
            in_cell = false;
            e
        }
        Event::Text(t) if in_cell && is_number_cell(&t) => {
            Event::InlineHtml(format!("<span class=\"n\">{}</span>", escape(&t)).into())
        }
        Event::Text(t) if in_cell && t.contains(',') => Event::InlineHtml(escape(&t).replace(',', ",<wbr>").into()),
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        other => other,
    });
    let mut body = String::new();
    push_html(&mut body, events);
    let mut figures = String::new();
    if !plots.is_empty() {
        figures.push_str("<h2>Plots, inline</h2>\n");
        for (name, svg) in plots {
            figures.push_str(&format!(
                "<figure>{}<figcaption>{}</figcaption></figure>\n",
                strip_prolog(svg),
                escape(name)
            ));
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}{figures}<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(&format!("runner: {}", report.experiment.name))
    )
}

/// Numbers and the words between them in a metric cell (`0.9884 ± 0.011`, `0.2768 ≈ best`).
fn is_number_cell(text: &str) -> bool {
    let mut words = text.split_whitespace().peekable();
    words.peek().is_some_and(|w| w.parse::<f64>().is_ok())
        && words.all(|w| w.parse::<f64>().is_ok() || matches!(w, "±" | "≈" | "best"))
}

/// An SVG document's `<svg …>` element alone (no XML declaration), for inlining.
fn strip_prolog(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

#[cfg(test)]
mod tests {
    use super::is_number_cell;

    #[test]
    fn only_metric_cells_are_kept_on_one_line() {
        for cell in ["0.9884 ± 0.011", "3.5192e-4 ± 5.2e-5", "0.2768 ≈ best", "21.5174", "-1.7597 ± 0.60"] {
            assert!(is_number_cell(cell), "{cell}");
        }
        for cell in ["best", "–", "ridge[alpha=0.1]", "0 (0 missing target, 0 by impute)", "", "yes"] {
            assert!(!is_number_cell(cell), "{cell}");
        }
    }
}
