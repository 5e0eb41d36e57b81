//! `runner predict`'s model reader: a model.json is parsed, checked and, when it loads,
//! used on a small matrix of the width it declares. Nothing may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(model) = runner::report::parse_model_file(text) else { return };
    let Ok(predictor) = model.predictor() else { return };
    let width = model.features.len();
    let x = ndarray::Array2::<f64>::from_elem((3, width), 0.5);
    let _ = predictor.predict(&x);
});
