//! Memory throughput of one full-batch gradient-descent epoch against a plain read of the
//! same matrix, in the same run.
//!
//!     cargo bench --bench epoch            (200,000 × 50; pass ROWS COLS to change)

use ndarray::Array2;
use rayon::prelude::*;
use runner::models::loss::{loss_and_gradient, Loss, Weights};
use std::time::Instant;

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(v);
    }
    (best, out.expect("at least one repetition"))
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rows = args.first().copied().unwrap_or(200_000);
    let cols = args.get(1).copied().unwrap_or(50);
    let x = Array2::from_shape_fn((rows, cols), |(i, j)| ((i * 31 + j * 17) % 1009) as f64 / 1009.0 - 0.5);
    let y: Vec<f64> = (0..rows).map(|i| (i % 13) as f64).collect();
    let w = Weights { w: Array2::from_elem((1, cols), 0.01), b: vec![0.1] };
    let bytes = (rows * cols * 8) as f64;
    let slice = x.as_slice().expect("standard layout");
    let (read_s, sum) = best_of(20, || {
        slice.par_chunks(1024 * cols).map(|c| c.iter().sum::<f64>()).collect::<Vec<f64>>().iter().sum::<f64>()
    });
    let (epoch_s, (loss, _)) = best_of(20, || loss_and_gradient(Loss::Mse, &x, &y, None, None, &w));
    let threads = rayon::current_num_threads();
    println!("matrix {rows} × {cols} f64 = {:.1} MB, {threads} threads (best of 20)", bytes / 1e6);
    println!("| pass | time | GB/s |\n|---|---:|---:|");
    println!("| plain read (sum) | {:.2} ms | {:.2} |", read_s * 1e3, bytes / read_s / 1e9);
    println!("| one gd epoch (mse loss + gradient, fused) | {:.2} ms | {:.2} |", epoch_s * 1e3, bytes / epoch_s / 1e9);
    println!("epoch / read throughput: {:.0}%   (checksums {sum:.3}, {loss:.3})", 100.0 * read_s / epoch_s);
}
