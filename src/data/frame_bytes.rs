//! A parsed frame's typed columns as bytes, for the parsed-data cache: columnar, little
//! endian, every value and gap kept bit for bit. Only the types a CSV or NDJSON parse gives
//! (integers, floats, text, booleans, all-gap columns) are encodable; a frame with another
//! type (a Parquet file's dates, say) is not cached.
//!
//! Layout: rows (u64), columns (u32), then per column its name (u32 length, UTF-8), a type
//! tag (u8) and, unless the column is all gaps, one validity byte per row followed by the
//! values: 8 bytes each for integers and floats, 1 for booleans, and for text each cell's
//! length (u64) followed by the cells' bytes.

use polars::prelude::*;
use std::io::Write;

const NULL: u8 = 0;
const BOOLEAN: u8 = 1;
const INT64: u8 = 2;
const FLOAT64: u8 = 3;
const STRING: u8 = 4;

fn tag(dtype: &DataType) -> Option<u8> {
    match dtype {
        DataType::Null => Some(NULL),
        DataType::Boolean => Some(BOOLEAN),
        DataType::Int64 => Some(INT64),
        DataType::Float64 => Some(FLOAT64),
        DataType::String => Some(STRING),
        _ => None,
    }
}

/// Whether every column of `frame` has a type this form keeps.
pub(super) fn encodable(frame: &DataFrame) -> bool {
    frame.columns().iter().all(|c| tag(c.dtype()).is_some())
}

/// Writes `frame` (which must be [`encodable`]), letting go of each column once it is
/// written: a cache writer running beside the load then holds only what it has left to write.
pub(super) fn encode(frame: DataFrame, out: &mut impl Write) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    out.write_all(&(frame.height() as u64).to_le_bytes()).map_err(io)?;
    out.write_all(&(frame.width() as u32).to_le_bytes()).map_err(io)?;
    for column in frame.into_columns() {
        let name = column.name().as_bytes();
        out.write_all(&(name.len() as u32).to_le_bytes()).map_err(io)?;
        out.write_all(name).map_err(io)?;
        let tag = tag(column.dtype()).ok_or_else(|| format!("column type {} is not cached", column.dtype()))?;
        out.write_all(&[tag]).map_err(io)?;
        let s = column.as_materialized_series();
        let polars = |e: PolarsError| e.to_string();
        match tag {
            BOOLEAN => {
                let ca = s.bool().map_err(polars)?;
                cells(out, || ca.iter(), |b, buf| buf.push(u8::from(b)))
            }
            INT64 => {
                let ca = s.i64().map_err(polars)?;
                cells(out, || ca.iter(), |v, buf| buf.extend_from_slice(&v.to_le_bytes()))
            }
            FLOAT64 => {
                let ca = s.f64().map_err(polars)?;
                cells(out, || ca.iter(), |v, buf| buf.extend_from_slice(&v.to_bits().to_le_bytes()))
            }
            STRING => {
                let ca = s.str().map_err(polars)?;
                cells(out, || ca.iter(), |t, buf| buf.extend_from_slice(&(t.len() as u64).to_le_bytes()))?;
                ca.iter().flatten().try_for_each(|t| out.write_all(t.as_bytes())).map_err(io)
            }
            _ => Ok(()),
        }?;
    }
    Ok(())
}

/// A column's validity bytes, then each cell's `bytes` (a gap's as zeros of the same width).
fn cells<T: Default, I: Iterator<Item = Option<T>>>(
    out: &mut impl Write,
    values: impl Fn() -> I,
    bytes: impl Fn(T, &mut Vec<u8>),
) -> Result<(), String> {
    let validity: Vec<u8> = values().map(|v| u8::from(v.is_some())).collect();
    out.write_all(&validity).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(1 << 16);
    for v in values() {
        bytes(v.unwrap_or_default(), &mut buf);
        if buf.len() >= 1 << 16 {
            out.write_all(&buf).map_err(|e| e.to_string())?;
            buf.clear();
        }
    }
    out.write_all(&buf).map_err(|e| e.to_string())
}

/// Reads what [`encode`] wrote; `None` for anything else.
pub(super) fn decode(bytes: &[u8]) -> Option<DataFrame> {
    let mut r = Bytes(bytes);
    let rows = usize::try_from(u64::from_le_bytes(r.array()?)).ok()?;
    let width = u32::from_le_bytes(r.array()?);
    let mut columns = Vec::new();
    for _ in 0..width {
        let name_len = u32::from_le_bytes(r.array()?) as usize;
        let name: PlSmallStr = std::str::from_utf8(r.take(name_len)?).ok()?.into();
        let [tag] = r.array()?;
        let column = match tag {
            NULL => Column::full_null(name, rows, &DataType::Null),
            BOOLEAN => Column::new(name, r.cells(rows, 1, |b| b[0] != 0)?),
            INT64 => match r.dense(rows, 8, |b| i64::from_le_bytes(b.try_into().unwrap_or_default()))? {
                Ok(values) => Column::new(name, values),
                Err(cells) => Column::new(name, cells),
            },
            FLOAT64 => {
                let float = |b: &[u8]| f64::from_bits(u64::from_le_bytes(b.try_into().unwrap_or_default()));
                match r.dense(rows, 8, float)? {
                    Ok(values) => Column::new(name, values),
                    Err(cells) => Column::new(name, cells),
                }
            }
            STRING => {
                let lengths = r.cells(rows, 8, |b| u64::from_le_bytes(b.try_into().unwrap_or_default()))?;
                let mut text = Vec::with_capacity(rows);
                for len in lengths {
                    let cell = len.map(|n| r.take(usize::try_from(n).ok()?)).map(|b| std::str::from_utf8(b?).ok());
                    text.push(match cell {
                        None => None,
                        Some(t) => Some(t?),
                    });
                }
                Column::new(name, text)
            }
            _ => return None,
        };
        columns.push(column);
    }
    if !r.0.is_empty() {
        return None;
    }
    DataFrame::new(rows, columns).ok()
}

/// The bytes not read yet.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// [`Bytes::cells`], as plain values when no cell is a gap (a column built from them needs
    /// no cell-by-cell validity), else as cells.
    #[allow(clippy::type_complexity)]
    fn dense<T>(
        &mut self,
        rows: usize,
        width: usize,
        value: impl Fn(&[u8]) -> T,
    ) -> Option<Result<Vec<T>, Vec<Option<T>>>> {
        if !self.0.get(..rows)?.iter().all(|&ok| ok != 0) {
            return self.cells(rows, width, value).map(Err);
        }
        self.take(rows)?;
        let values = self.take(rows.checked_mul(width)?)?;
        Some(Ok(values.chunks_exact(width).map(value).collect()))
    }

    /// `rows` validity bytes and `rows` cells of `width` bytes, each read by `value`.
    fn cells<T>(&mut self, rows: usize, width: usize, value: impl Fn(&[u8]) -> T) -> Option<Vec<Option<T>>> {
        let validity = self.take(rows)?;
        let values = self.take(rows.checked_mul(width)?)?;
        Some(validity.iter().zip(values.chunks_exact(width)).map(|(&ok, b)| (ok != 0).then(|| value(b))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kept_type_reads_back_bit_for_bit_with_its_gaps() {
        let columns = vec![
            Column::new("f".into(), [Some(1.5), None, Some(f64::NAN), Some(-0.0)]),
            Column::new("i".into(), [Some(i64::MIN), Some(7), None, Some(i64::MAX)]),
            Column::new("s".into(), [Some("ä,\"x\""), None, Some(""), Some("z")]),
            Column::new("b".into(), [Some(true), Some(false), None, Some(true)]),
            Column::full_null("n".into(), 4, &DataType::Null),
            // Without gaps: read back as plain values.
            Column::new("g".into(), [0.5, -0.0, 3.25, 1e300]),
            Column::new("j".into(), [1i64, -2, 3, i64::MAX]),
        ];
        let frame = DataFrame::new(4, columns).unwrap();
        assert!(encodable(&frame));
        let mut bytes = Vec::new();
        encode(frame.clone(), &mut bytes).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back.schema(), frame.schema());
        assert!(
            back.equals_missing(&frame) || {
                // NaN != NaN: compare the float column's bits.
                let bits = |f: &DataFrame| -> Vec<Option<u64>> {
                    f.column("f").unwrap().f64().unwrap().iter().map(|v| v.map(f64::to_bits)).collect()
                };
                bits(&back) == bits(&frame) && back.drop("f").unwrap().equals_missing(&frame.drop("f").unwrap())
            }
        );
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_none(), "{cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_none());
    }

    #[test]
    fn other_types_are_not_encodable() {
        let frame = DataFrame::new(1, vec![Column::new("i".into(), [1i32])]).unwrap();
        assert!(!encodable(&frame));
    }

    /// Records, at each write, whether the first column is still alive somewhere.
    struct Watch {
        first: std::sync::Weak<dyn SeriesTrait>,
        alive_at_writes: Vec<bool>,
    }

    impl Write for Watch {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.alive_at_writes.push(self.first.upgrade().is_some());
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn each_column_is_let_go_once_written() {
        let first = Series::new("a".into(), vec![1.5f64; 1000]);
        let watch = std::sync::Arc::downgrade(&first.0);
        let frame = DataFrame::new(1000, vec![first.into(), Column::new("b".into(), vec![2i64; 1000])]).unwrap();
        let mut out = Watch { first: watch, alive_at_writes: Vec::new() };
        encode(frame, &mut out).unwrap();
        // Alive while its own bytes are written, gone before the second column's name.
        let writes = &out.alive_at_writes;
        assert!(writes[0] && writes.ends_with(&[false; 5]), "{writes:?}");
    }
}
