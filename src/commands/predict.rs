use super::{EXIT_OK, EXIT_USAGE};
use runner::cli::{PredictArgs, Unknown};
use runner::config::Task;
use runner::data::{load_new_rows, InputColumn};
use runner::models::Prediction;
use runner::preprocess::SavedColumn;
use runner::report::{parse_model_file, write_atomic, ModelFile, Scored};

/// `runner predict`: new rows through a saved model. Every problem with the model file or
/// the data is an error (exit 2) before anything is written.
pub fn predict(args: &PredictArgs) -> u8 {
    match predict_rows(args) {
        Ok(()) => EXIT_OK,
        Err(message) => {
            eprintln!("error: {}", super::shown(&message));
            EXIT_USAGE
        }
    }
}

fn predict_rows(args: &PredictArgs) -> Result<(), String> {
    let shown = args.model.display();
    let text = std::fs::read_to_string(&args.model).map_err(|e| format!("cannot read model {shown}: {e}"))?;
    let model = parse_model_file(&text).map_err(|e| format!("{shown}: {e}"))?;
    drop(text);
    // The model is checked and built while the rows are read (a 500-tree forest's copy and checks
    // beside polars' read); its errors come first, as when one followed the other.
    let (predictor, rows) = std::thread::scope(|s| {
        let rows = s.spawn(|| {
            load_new_rows(
                &args.data,
                &input_columns(&model),
                &model.dataset.missing,
                args.id.as_deref(),
                args.unknown == Unknown::Ignore,
            )
        });
        let predictor = model.predictor();
        (predictor, rows.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    let predictor = predictor.map_err(|e| format!("{shown}: {e}"))?;
    if args.proba && model.task == Task::Regression {
        return Err("--proba is for classifiers; this model predicts values".into());
    }
    let rows = rows.map_err(|e| e.to_string())?;
    let x = model.design(&rows.features)?;
    let prediction: Prediction = predictor.predict(&x);
    let scored = Scored {
        ids: args.id.as_deref().map(|name| (name, rows.ids.as_slice())),
        prediction: &prediction,
        classes: &model.target.classes,
        proba: args.proba,
    };
    write_scored(args, &scored)
}

/// What the loader checks each saved input column against.
fn input_columns(model: &ModelFile) -> Vec<InputColumn<'_>> {
    model
        .inputs
        .iter()
        .map(|c| InputColumn {
            name: c.name(),
            levels: match c {
                SavedColumn::Categorical { levels, .. } => Some(levels.as_slice()),
                SavedColumn::Numeric { .. } => None,
            },
            fills_gaps: c.fills_gaps(),
        })
        .collect()
}

fn write_scored(args: &PredictArgs, scored: &Scored<'_>) -> Result<(), String> {
    let Some(out) = &args.out else {
        print!("{}", scored.to_csv());
        return Ok(());
    };
    let parquet = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
    let bytes = if parquet { scored.to_parquet()? } else { scored.to_csv().into_bytes() };
    write_atomic(out, &bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))
}
