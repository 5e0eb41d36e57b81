//! Shard results: `runner run --shard I/N` writes a `partial.json`; `runner merge` checks
//! that a set of partials is one whole run and joins their units.

use crate::trial::UnitRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const PARTIAL_KIND: &str = "runner-partial";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partial {
    pub schema_version: u32,
    pub kind: String,
    /// The run key (experiment text, overrides, data, runner version) the units belong to.
    pub run_key: String,
    pub experiment: PartialExperiment,
    pub shard: ShardId,
    /// Total units of the whole run.
    pub total_units: usize,
    pub units: Vec<UnitRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartialExperiment {
    pub name: String,
    pub file: String,
    pub overrides: Vec<String>,
    /// Whether the shards streamed the data (the merge plans it the same way).
    #[serde(default)]
    pub streamed: bool,
    /// Why they streamed it (report.json's `dataset.streamed`), and in batches of how many
    /// rows: the merge replays both, so its report is the one a whole run writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_why: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_rows: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardId {
    pub index: usize,
    pub count: usize,
}

/// Parses `I/N` with 1 <= I <= N.
pub fn parse_shard(s: &str) -> Result<ShardId, String> {
    let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not I/N (for example 2/4)"))?;
    let index: usize = i.trim().parse().map_err(|_| format!("`{i}` in `{s}` is not a whole number"))?;
    let count: usize = n.trim().parse().map_err(|_| format!("`{n}` in `{s}` is not a whole number"))?;
    if count == 0 || index == 0 || index > count {
        return Err(format!("shard `{s}` must have 1 <= I <= N"));
    }
    Ok(ShardId { index, count })
}

/// A partial.json read back: its kind and version are checked before anything else, so a
/// file from another runner version is refused by name rather than by a missing field.
pub fn parse_partial(text: &str) -> Result<Partial, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    if value.get("kind").and_then(|k| k.as_str()) != Some(PARTIAL_KIND) {
        return Err(format!("not a runner partial result (its `kind` is not \"{PARTIAL_KIND}\")"));
    }
    let version = crate::report::SCHEMA_VERSION;
    match value.get("schema_version") {
        Some(v) if v.as_u64() == Some(u64::from(version)) => {}
        Some(v) if v.is_u64() => {
            return Err(format!(
            "it has schema version {v}, but this runner reads version {version}; run the shard again with this runner"
        ))
        }
        Some(v) => return Err(format!("its schema_version must be a whole number, not {v}")),
        None => return Err("it has no schema_version".into()),
    }
    serde_json::from_value(value).map_err(|e| format!("it is malformed: {e}"))
}

/// Checks that the partials are the shards 1..=N of one run, each once, and returns their
/// units. Every problem is reported, each naming the files involved.
pub fn join(parts: &[(String, Partial)]) -> Result<(PartialExperiment, String, Vec<UnitRecord>), Vec<String>> {
    let mut problems = Vec::new();
    let Some((first_name, first)) = parts.first() else {
        return Err(vec!["no partial results given".into()]);
    };
    for (name, p) in parts {
        if p.kind != PARTIAL_KIND {
            problems.push(format!("{name} is not a runner partial result (kind `{}`)", p.kind));
        }
        if p.experiment.streamed != first.experiment.streamed {
            let mode = |streamed: bool| if streamed { "streamed from disk" } else { "loaded into memory" };
            problems.push(format!(
                "{name} was {} but {first_name} was {}: the load mode differs, so their numbers may differ in the last digits; run every shard the same way (the same [dataset] streaming and --memory-budget)",
                mode(p.experiment.streamed),
                mode(first.experiment.streamed)
            ));
        } else if p.run_key != first.run_key {
            problems.push(format!(
                "{name} and {first_name} come from different experiments or data ({} vs {}): they cannot be merged",
                p.experiment.name, first.experiment.name
            ));
        }
        if p.shard.count != first.shard.count {
            problems.push(format!(
                "{name} is shard {}/{} but {first_name} is shard {}/{}: the shard counts differ",
                p.shard.index, p.shard.count, first.shard.index, first.shard.count
            ));
        }
    }
    let mut seen: Vec<(usize, &str)> = Vec::new();
    for (name, p) in parts {
        if let Some((_, other)) = seen.iter().find(|(i, _)| *i == p.shard.index) {
            problems.push(format!("shard {}/{} is given twice: {other} and {name}", p.shard.index, p.shard.count));
        } else {
            seen.push((p.shard.index, name));
        }
    }
    let have: BTreeSet<usize> = parts.iter().map(|(_, p)| p.shard.index).collect();
    let missing: Vec<String> =
        (1..=first.shard.count).filter(|i| !have.contains(i)).map(|i| format!("{i}/{}", first.shard.count)).collect();
    // With mixed shard counts, "missing" would name shards of one count only: the count
    // mismatch above is the problem to report.
    let one_count = parts.iter().all(|(_, p)| p.shard.count == first.shard.count);
    if one_count && !missing.is_empty() {
        problems.push(format!("shards missing: {}", missing.join(", ")));
    }
    let mut units: Vec<UnitRecord> = parts.iter().flat_map(|(_, p)| p.units.iter().cloned()).collect();
    units.sort_by(|a, b| (a.trial.as_str(), a.fold).cmp(&(b.trial.as_str(), b.fold)));
    let before = units.len();
    units.dedup_by(|a, b| a.trial == b.trial && a.fold == b.fold);
    if units.len() != before {
        problems.push(format!("{} unit(s) appear in more than one partial: the shards overlap", before - units.len()));
    }
    if problems.is_empty() && units.len() != first.total_units {
        problems.push(format!(
            "the partials hold {} of the run's {} units: some shards did not finish",
            units.len(),
            first.total_units
        ));
    }
    if problems.is_empty() {
        Ok((first.experiment.clone(), first.run_key.clone(), units))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(index: usize, count: usize, key: &str, units: &[(&str, usize)]) -> (String, Partial) {
        let units = units
            .iter()
            .map(|(t, f)| UnitRecord {
                trial: t.to_string(),
                fold: *f,
                status: crate::trial::Status::Ok,
                reason: None,
                test: Default::default(),
                train: Default::default(),
                coefficients: None,
                confusion: None,
                loss_curve: None,
                notes: Vec::new(),
                oob_score: None,
            })
            .collect();
        (
            format!("p{index}.json"),
            Partial {
                schema_version: 1,
                kind: PARTIAL_KIND.into(),
                run_key: key.into(),
                experiment: PartialExperiment {
                    name: "e".into(),
                    file: "e.toml".into(),
                    overrides: vec![],
                    streamed: false,
                    stream_why: None,
                    batch_rows: None,
                },
                shard: ShardId { index, count },
                total_units: 4,
                units,
            },
        )
    }

    #[test]
    fn parses_shard_ids() {
        assert_eq!(parse_shard("2/4"), Ok(ShardId { index: 2, count: 4 }));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
    }

    #[test]
    fn joins_complete_shards() {
        let parts = vec![part(1, 2, "k", &[("a", 0), ("b", 0)]), part(2, 2, "k", &[("a", 1), ("b", 1)])];
        let (_, _, units) = join(&parts).unwrap();
        assert_eq!(units.len(), 4);
    }

    #[test]
    fn refuses_missing_overlapping_and_foreign_shards() {
        let missing = join(&[part(1, 3, "k", &[("a", 0)])]).unwrap_err();
        assert!(missing.iter().any(|p| p.contains("shards missing: 2/3, 3/3")), "{missing:?}");
        let twice = join(&[part(1, 2, "k", &[("a", 0)]), part(1, 2, "k", &[("a", 0)])]).unwrap_err();
        assert!(twice.iter().any(|p| p.contains("shard 1/2 is given twice")), "{twice:?}");
        let foreign = join(&[part(1, 2, "k", &[("a", 0)]), part(2, 2, "other", &[("a", 1)])]).unwrap_err();
        assert!(foreign.iter().any(|p| p.contains("different experiments or data")), "{foreign:?}");
        let mut streamed = part(2, 2, "streamed key", &[("a", 1)]);
        streamed.1.experiment.streamed = true;
        let modes = join(&[part(1, 2, "k", &[("a", 0)]), streamed]).unwrap_err();
        assert_eq!(modes.len(), 1, "{modes:?}");
        assert!(modes[0]
            .contains("p2.json was streamed from disk but p1.json was loaded into memory: the load mode differs"));
    }
}
