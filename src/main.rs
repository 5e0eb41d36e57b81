//! `runner`: config → data → split → preprocess → models → kinds → metrics → trial → plan → sweep →
//! explain → refit → report (see ARCHITECTURE.md).
//! The binary is the I/O shell around the library: `commands/` reads files, runs sweeps and
//! writes reports.

mod commands;

use clap::Parser;
use runner::cli::{self, Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so printing to a closed pipe would panic; end quietly instead,
    // as other command-line tools do.
    #[cfg(unix)]
    // SAFETY: resetting a signal's disposition to its default touches no memory.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::normalize_args(std::env::args().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { commands::EXIT_USAGE } else { commands::EXIT_OK });
        }
    };
    ExitCode::from(match cli.command {
        Command::Models => {
            print!("{}", runner::kinds::render_catalog());
            commands::EXIT_OK
        }
        Command::Check(args) => commands::check(&args.files, &args.set, args.memory_budget, &args.cache),
        Command::Run(args) => commands::run(&args),
        Command::Merge(args) => commands::merge(&args),
        Command::Compare(args) => commands::compare(&args),
        Command::Predict(args) => commands::predict(&args),
        Command::Init(args) => commands::init(&args),
        Command::MlflowSync(args) => commands::mlflow_sync(&args),
        Command::Cache(command) => commands::cache(&command),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "runner", &mut std::io::stdout());
            commands::EXIT_OK
        }
        Command::Schema => {
            print!("{}", runner::cli::schema::schema_text());
            commands::EXIT_OK
        }
        Command::Man => {
            use clap::CommandFactory;
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => commands::EXIT_OK,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    commands::EXIT_USAGE
                }
            }
        }
    })
}
