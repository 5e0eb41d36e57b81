use super::{EXIT_OK, EXIT_USAGE};
use runner::cli::init::{experiment_toml, InitInput};
use runner::cli::InitArgs;
use runner::data::summarize_file;
use runner::report::write_atomic;
use runner::suggest::suggestion;
use std::path::{Path, PathBuf};

/// `runner init`: reads the data, writes a starting experiment (stdout or `--out`).
pub fn init(args: &InitArgs) -> u8 {
    match write_experiment(args) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: {}", super::shown(&e));
            EXIT_USAGE
        }
    }
}

fn write_experiment(args: &InitArgs) -> Result<(), String> {
    if let Some(out) = args.out.as_ref().filter(|o| o.exists()) {
        return Err(format!("{} exists; choose another --out (runner init does not overwrite)", out.display()));
    }
    let (rows, columns) = summarize_file(&args.data).map_err(|e| e.to_string())?;
    let Some(target) = columns.iter().find(|c| c.name == args.target) else {
        let hint = suggestion(&args.target, columns.iter().map(|c| c.name.as_str()));
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        return Err(format!(
            "--target `{}` is not a column of {}{hint} (columns: {})",
            args.target,
            args.data.display(),
            names.join(", ")
        ));
    };
    let features: Vec<_> = columns.iter().filter(|c| c.name != args.target).cloned().collect();
    let stem = args.data.file_stem().and_then(|s| s.to_str()).unwrap_or("experiment");
    let name: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    let path = relative_to(&args.data, args.out.as_deref())?;
    let input = InitInput { name: &name, path: &path, target, features: &features, rows };
    let text = experiment_toml(&input).map_err(|why| format!("no experiment for {}: {why}", args.data.display()))?;
    match &args.out {
        None => print!("{text}"),
        Some(out) => {
            write_atomic(out, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
            println!("wrote {}; next: runner check {0} && runner {0}", out.display());
        }
    }
    Ok(())
}

/// The data path as written in the experiment: relative to the experiment file's folder (an
/// experiment resolves its dataset path from there), or as given for stdout.
fn relative_to(data: &Path, out: Option<&Path>) -> Result<String, String> {
    // TOML holds text: a path that is not UTF-8 cannot be written as it is.
    let utf8 =
        |p: PathBuf| p.to_str().map(str::to_string).ok_or_else(|| format!("{} is not a UTF-8 path", p.display()));
    let Some(dir) = out.map(|o| o.parent().unwrap_or(Path::new(""))) else { return utf8(data.to_path_buf()) };
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (data, dir) = (absolute(data), absolute(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }));
    let common = data.components().zip(dir.components()).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in dir.components().skip(common) {
        rel.push("..");
    }
    for c in data.components().skip(common) {
        rel.push(c);
    }
    utf8(rel)
}
