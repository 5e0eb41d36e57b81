use super::{EXIT_OK, EXIT_REGRESSION, EXIT_USAGE};
use runner::cli::compare::{compare as compare_reports, render_markdown, SignificanceTest};
use runner::cli::CompareArgs;
use serde_json::Value;

fn read(path: &std::path::Path) -> Result<Value, String> {
    // A report folder is accepted as well as its report.json.
    let file = if path.is_dir() { path.join("report.json") } else { path.to_path_buf() };
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not a report.json: {e}", file.display()))
}

/// `runner compare`: exit 1 on a regression, 2 on unreadable input.
pub fn compare(args: &CompareArgs) -> u8 {
    if args.tolerance.is_nan() || args.tolerance < 0.0 {
        eprintln!("error: --tolerance must be a number >= 0, found {}", args.tolerance);
        return EXIT_USAGE;
    }
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        eprintln!("error: --alpha must be a level strictly between 0 and 1, found {}", args.alpha);
        return EXIT_USAGE;
    }
    let test = args.test.as_ref().map(|_| SignificanceTest { alpha: args.alpha });
    let (baseline, candidate) = match (read(&args.baseline), read(&args.candidate)) {
        (Ok(b), Ok(c)) => (b, c),
        (b, c) => {
            for e in [b.err(), c.err()].into_iter().flatten() {
                eprintln!("error: {e}");
            }
            return EXIT_USAGE;
        }
    };
    let comparison = match compare_reports(&baseline, &candidate, args.tolerance, args.metric.as_deref(), test) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    for w in &comparison.warnings {
        eprintln!("warning: {w}");
    }
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&comparison).unwrap_or_default());
    } else {
        print!("{}", render_markdown(&comparison));
    }
    if comparison.regressions > 0 {
        EXIT_REGRESSION
    } else {
        EXIT_OK
    }
}
