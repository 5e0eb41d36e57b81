//! Writes the benchmark datasets: `regression.csv` and `classification.csv`, 200,000 rows ×
//! 50 features each by default, from a fixed seed; with `parquet`, only `regression.parquet`
//! (the streaming benchmark's file, written 100,000 rows at a time, any size).
//!
//!     cargo run --release --example gen_bench_data -- bench/data [ROWS]
//!     cargo run --release --example gen_bench_data -- bench/data/stream 20000000 parquet

use rand_mt::Mt;
use std::io::Write;

const FEATURES: usize = 50;

/// A standard normal draw by Box-Muller from MT19937.
fn normal(mt: &mut Mt) -> f64 {
    let u1 = (f64::from(mt.next_u32()) + 1.0) / 4_294_967_297.0;
    let u2 = f64::from(mt.next_u32()) / 4_294_967_296.0;
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).map_or("bench/data", String::as_str));
    let rows: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(200_000);
    std::fs::create_dir_all(&dir)?;
    if args.get(3).is_some_and(|a| a == "parquet") {
        return write_parquet(&dir.join("regression.parquet"), rows);
    }
    let mut mt = Mt::new(20_261_125);
    let beta: Vec<f64> = (0..FEATURES).map(|j| if j % 5 == 4 { 0.0 } else { normal(&mut mt) }).collect();
    let scales: Vec<f64> = (0..FEATURES).map(|j| 1.0 + (j % 7) as f64).collect();
    let mut reg = std::io::BufWriter::new(std::fs::File::create(dir.join("regression.csv"))?);
    let mut cls = std::io::BufWriter::new(std::fs::File::create(dir.join("classification.csv"))?);
    let header: Vec<String> = (0..FEATURES).map(|j| format!("x{j}")).collect();
    writeln!(reg, "{},y", header.join(","))?;
    writeln!(cls, "{},label", header.join(","))?;
    let mut line = String::new();
    for _ in 0..rows {
        line.clear();
        let mut signal = 0.0;
        for j in 0..FEATURES {
            // Six decimals: both runner and pandas parse exactly these values.
            let text = format!("{:.6}", normal(&mut mt) * scales[j]);
            let x: f64 = text.parse().unwrap_or(0.0);
            signal += beta[j] * x / scales[j];
            line.push_str(&text);
            line.push(',');
        }
        let y = signal + 0.5 * normal(&mut mt);
        let label = u8::from(signal + normal(&mut mt) > 0.0);
        writeln!(reg, "{line}{y:.6}")?;
        writeln!(cls, "{line}{label}")?;
    }
    reg.flush()?;
    cls.flush()?;
    eprintln!("wrote {rows} rows × {FEATURES} features to {}", dir.display());
    Ok(())
}

/// `regression.parquet`: the CSV's regression rows (same generator, full precision), one row
/// group per 100,000 rows, written as they are drawn so memory stays flat.
fn write_parquet(path: &std::path::Path, rows: usize) -> std::io::Result<()> {
    use polars::prelude::*;
    const GROUP: usize = 100_000;
    let fail = |e: PolarsError| std::io::Error::other(e.to_string());
    let mut mt = Mt::new(20_261_125);
    let beta: Vec<f64> = (0..FEATURES).map(|j| if j % 5 == 4 { 0.0 } else { normal(&mut mt) }).collect();
    let scales: Vec<f64> = (0..FEATURES).map(|j| 1.0 + (j % 7) as f64).collect();
    let mut names: Vec<String> = (0..FEATURES).map(|j| format!("x{j}")).collect();
    names.push("y".into());
    let schema = Schema::from_iter(names.iter().map(|n| Field::new(n.as_str().into(), DataType::Float64)));
    let file = std::fs::File::create(path)?;
    let mut writer = ParquetWriter::new(file).batched(&schema).map_err(fail)?;
    let mut done = 0;
    while done < rows {
        let n = GROUP.min(rows - done);
        let mut columns: Vec<Vec<f64>> = (0..=FEATURES).map(|_| Vec::with_capacity(n)).collect();
        for _ in 0..n {
            let mut signal = 0.0;
            for j in 0..FEATURES {
                let x = normal(&mut mt) * scales[j];
                signal += beta[j] * x / scales[j];
                columns[j].push(x);
            }
            columns[FEATURES].push(signal + 0.5 * normal(&mut mt));
        }
        let series: Vec<Column> =
            columns.into_iter().zip(&names).map(|(v, n)| Column::new(n.as_str().into(), v)).collect();
        let frame = DataFrame::new(n, series).map_err(fail)?;
        writer.write_batch(&frame).map_err(fail)?;
        done += n;
    }
    writer.finish().map_err(fail)?;
    eprintln!("wrote {rows} rows × {FEATURES} features to {}", path.display());
    Ok(())
}
