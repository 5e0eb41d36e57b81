//! `runner predict`'s model reader: a model.json is parsed, checked and, when it loads,
//! used on a small matrix of the width it declares. Nothing may panic. Each line that the
//! tree-line reader (`FlatTree::from_line`) reads must read as serde reads it, to the bit.
#![no_main]
use libfuzzer_sys::fuzz_target;
use runner::models::flat::FlatTree;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for line in text.lines() {
        if let Some(fast) = FlatTree::from_line(line) {
            let serde: FlatTree = serde_json::from_str(line).expect("serde reads a line from_line reads");
            assert!(fast == serde && serde_json::to_string(&fast).ok() == serde_json::to_string(&serde).ok(), "{line}");
        }
    }
    let Ok(model) = runner::report::parse_model_file(text) else { return };
    let Ok(predictor) = model.predictor() else { return };
    let width = model.features.len();
    let x = ndarray::Array2::<f64>::from_elem((3, width), 0.5);
    let _ = predictor.predict(&x);
});
