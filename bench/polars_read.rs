//! The streaming benchmark's yardstick: polars reading a Parquet file alone, in the slices
//! runner's streamed passes read (65,536 rows), summing one column so nothing is skipped.
//!
//!     cargo run --release --example polars_read -- bench/data/stream/regression.parquet

use polars::prelude::*;

fn main() -> PolarsResult<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "bench/data/stream/regression.parquet".into());
    let bytes = std::fs::metadata(&path)?.len();
    let rows = ParquetReader::new(std::fs::File::open(&path)?).num_rows()?;
    let start = std::time::Instant::now();
    let mut total = 0.0;
    for first in (0..rows).step_by(1 << 16) {
        let len = (1 << 16).min(rows - first);
        let frame = ParquetReader::new(std::fs::File::open(&path)?).with_slice(Some((first, len))).finish()?;
        total += frame.column("y")?.f64()?.sum().unwrap_or(0.0);
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{path}: {rows} rows, {:.2} GB, read in {seconds:.2} s: {:.2} GB/s (checksum {total:.3})",
        bytes as f64 / 1e9,
        bytes as f64 / 1e9 / seconds
    );
    Ok(())
}
