//! Grid axes: explicit lists and numpy-style `logspace` / `linspace` / `range` generators,
//! and the distributions a random search samples (as scipy.stats draws them from numpy's
//! legacy RandomState).

use crate::random::RandomState;
use crate::spec::ParamValue;

/// A random-search axis, as scikit-learn's `ParameterSampler` calls `rvs(random_state=rng)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// `scipy.stats.uniform(low, high - low)`: `u·(high - low) + low`.
    Uniform { low: f64, high: f64 },
    /// `scipy.stats.loguniform(low, high)`: `exp(ln low + u·(ln high - ln low))`.
    LogUniform { low: f64, high: f64 },
    /// `scipy.stats.randint(low, high)`: an integer in `[low, high)`.
    RandInt { low: i64, high: i64 },
}

impl Distribution {
    pub fn sample(&self, rng: &mut RandomState) -> ParamValue {
        match *self {
            Distribution::Uniform { low, high } => ParamValue::Float(rng.next_f64() * (high - low) + low),
            Distribution::LogUniform { low, high } => {
                ParamValue::Float((low.ln() + rng.next_f64() * (high.ln() - low.ln())).exp())
            }
            Distribution::RandInt { low, high } => ParamValue::Int(low + rng.randint(0, (high - low) as u64) as i64),
        }
    }

    /// How `runner check` shows it.
    pub fn describe(&self) -> String {
        match self {
            Distribution::Uniform { low, high } => format!("uniform [{low}, {high}]"),
            Distribution::LogUniform { low, high } => format!("loguniform [{low}, {high}]"),
            Distribution::RandInt { low, high } => format!("randint [{low}, {high})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AxisSpec {
    List(Vec<ParamValue>),
    /// `10 ** linspace(start, stop, num)`, as numpy.logspace.
    Logspace {
        start: f64,
        stop: f64,
        num: usize,
    },
    /// As numpy.linspace with endpoint=True.
    Linspace {
        start: f64,
        stop: f64,
        num: usize,
    },
    /// As Python's range(start, stop, step): stop excluded.
    Range {
        start: i64,
        stop: i64,
        step: i64,
    },
}

impl AxisSpec {
    /// How many values the axis gives, counted without computing them (a generator's
    /// count may be huge: the size guard refuses it before anything is expanded).
    pub fn count(&self) -> u128 {
        match self {
            AxisSpec::List(values) => values.len() as u128,
            AxisSpec::Logspace { num, .. } | AxisSpec::Linspace { num, .. } => *num as u128,
            AxisSpec::Range { start, stop, step } => {
                let (span, step) = (i128::from(*stop) - i128::from(*start), i128::from(*step));
                if step == 0 || span.signum() != step.signum() {
                    0
                } else {
                    (span.abs() + step.abs() - 1) as u128 / step.unsigned_abs()
                }
            }
        }
    }
}

/// The values of one grid axis. Pure: computes exactly what numpy computes.
pub fn expand_axis(spec: &AxisSpec) -> Vec<ParamValue> {
    match spec {
        AxisSpec::List(values) => values.clone(),
        AxisSpec::Linspace { start, stop, num } => {
            linspace(*start, *stop, *num).into_iter().map(ParamValue::Float).collect()
        }
        AxisSpec::Logspace { start, stop, num } => {
            linspace(*start, *stop, *num).into_iter().map(|e| ParamValue::Float(10f64.powf(e))).collect()
        }
        AxisSpec::Range { start, stop, step } => {
            let mut out = Vec::new();
            let mut v = *start;
            while (*step > 0 && v < *stop) || (*step < 0 && v > *stop) {
                out.push(ParamValue::Int(v));
                v += step;
            }
            out
        }
    }
}

/// numpy.linspace(start, stop, num) with endpoint=True: `i * step + start`, the last value `stop`.
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    if num == 1 {
        return vec![start];
    }
    let div = (num - 1) as f64;
    let step = (stop - start) / div;
    let mut out: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    if let Some(last) = out.last_mut() {
        *last = stop;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(v: Vec<ParamValue>) -> Vec<f64> {
        v.into_iter()
            .map(|p| match p {
                ParamValue::Float(x) => x,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn logspace_matches_numpy() {
        // numpy.logspace(-3, 3, 7)
        let v = floats(expand_axis(&AxisSpec::Logspace { start: -3.0, stop: 3.0, num: 7 }));
        assert_eq!(v, vec![0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]);
    }

    #[test]
    fn linspace_hits_both_ends() {
        let v = floats(expand_axis(&AxisSpec::Linspace { start: 0.0, stop: 1.0, num: 5 }));
        assert_eq!(v, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let one = floats(expand_axis(&AxisSpec::Linspace { start: 2.0, stop: 3.0, num: 1 }));
        assert_eq!(one, vec![2.0]);
    }

    #[test]
    fn range_excludes_stop() {
        let v = expand_axis(&AxisSpec::Range { start: 1, stop: 10, step: 3 });
        assert_eq!(v, vec![ParamValue::Int(1), ParamValue::Int(4), ParamValue::Int(7)]);
        assert!(expand_axis(&AxisSpec::Range { start: 5, stop: 1, step: 1 }).is_empty());
    }

    #[test]
    fn len_counts_without_expanding() {
        for (start, stop, step) in [(1, 10, 3), (5, 1, 1), (10, 1, -3), (0, 9, 3), (-4, 4, 1), (3, 3, 1)] {
            let spec = AxisSpec::Range { start, stop, step };
            assert_eq!(spec.count(), expand_axis(&spec).len() as u128, "range({start}, {stop}, {step})");
        }
        assert_eq!(AxisSpec::Logspace { start: -3.0, stop: 3.0, num: 100_000_000 }.count(), 100_000_000);
    }
}
