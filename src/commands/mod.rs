//! The commands' actions: the only place besides the loaders and report writers that does I/O.

mod check;
mod compare;
mod merge;
mod run;

pub use check::check;
pub use compare::compare;
pub use merge::merge;
pub use run::run;

use runner::config::Format;
use runner::plan::{self, RunPlan};
use runner::report::{self, Exporter, JsonExporter, MarkdownExporter, Report};
use std::path::{Path, PathBuf};

/// Exit codes, as SPEC.md defines them.
pub const EXIT_OK: u8 = 0;
pub const EXIT_ALL_FAILED: u8 = 1;
/// `compare` found a regression.
pub const EXIT_REGRESSION: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
/// Interrupted by Ctrl-C (128 + SIGINT), finished units kept.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Plans every file; prints every error of every file. `None` when any failed.
fn prepare_all(files: &[PathBuf], overrides: &[String]) -> Option<Vec<RunPlan>> {
    let mut plans = Vec::new();
    let mut ok = true;
    for f in files {
        match plan::prepare(f, overrides) {
            Ok(p) => {
                for w in &p.warnings {
                    eprintln!("warning: {}: {w}", f.display());
                }
                plans.push(p)
            }
            Err(e) => {
                eprintln!("{e}");
                ok = false;
            }
        }
    }
    ok.then_some(plans)
}

/// Writes report.json and report.md (as `[report] formats` asks) and prints the leaderboard.
fn write_report(plan: &RunPlan, mut report: Report, dir: &Path) -> Result<u8, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create report folder {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    if plan.experiment.report.formats.contains(&Format::Svg) {
        let plots = report::plots::render_all(&report);
        let plot_dir = dir.join("plots");
        std::fs::create_dir_all(&plot_dir).map_err(|e| format!("cannot create {}: {e}", plot_dir.display()))?;
        for (name, svg) in &plots {
            let path = plot_dir.join(name);
            report::write_atomic(&path, svg.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        if !plots.is_empty() {
            written.push(format!("{} ({} plots)", plot_dir.display(), plots.len()));
        }
        report.plots = plots.into_iter().map(|(name, _)| name).collect();
    }
    let report = &report;
    let exporters: Vec<(Format, Box<dyn Exporter>)> =
        vec![(Format::Json, Box::new(JsonExporter)), (Format::Md, Box::new(MarkdownExporter))];
    for (format, exporter) in exporters {
        if plan.experiment.report.formats.contains(&format) {
            let path = dir.join(exporter.file_name());
            report::write_atomic(&path, &exporter.render(report))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written.push(path.display().to_string());
        }
    }
    print!("{}", report::leaderboard_text(report, 20));
    println!("report: {}", written.join(", "));
    let all_failed = report.trials.iter().all(|t| t.status != runner::trial::Status::Ok);
    Ok(if all_failed { EXIT_ALL_FAILED } else { EXIT_OK })
}
