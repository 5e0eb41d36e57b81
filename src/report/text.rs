use super::{ranked, Report};
use crate::trial::Status;

/// The leaderboard printed to stdout once a run ends: best first, 6 significant digits for
/// people, and the best trial's mean once more in full precision (every number is in
/// report.json).
pub fn leaderboard_text(r: &Report, top: usize) -> String {
    let m = r.rank_by;
    let order = ranked(&r.trials, m);
    let mut rows: Vec<[String; 5]> = vec![[
        "rank".into(),
        "trial".into(),
        format!("test {}", m.name()),
        "± std".into(),
        format!("train {}", m.name()),
    ]];
    for (rank, &i) in order.iter().take(top).enumerate() {
        let t = &r.trials[i];
        let f = |v: Option<f64>| v.map_or("–".to_string(), significant);
        rows.push([(rank + 1).to_string(), t.id.clone(), f(t.test.mean(m)), f(t.test.std(m)), f(t.train.mean(m))]);
    }
    let widths: Vec<usize> = (0..5).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    let failed = r.trials.len() - order.len();
    out.push_str(&format!(
        "{}: {} trial(s) × {} fold(s), ranked by test {}{}\n",
        super::printable(&r.experiment.name),
        r.trials.len(),
        r.split.folds,
        m.name(),
        if failed > 0 { format!(" ({failed} failed or diverged)") } else { String::new() }
    ));
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if order.len() > top {
        out.push_str(&format!("… {} more in the report\n", order.len() - top));
    }
    if let Some(best) = order.first().map(|&i| &r.trials[i]) {
        let mean = best.test.mean(m).map_or("–".to_string(), |x| x.to_string());
        out.push_str(&format!("best: {}, test {} {mean} (full precision)\n", best.id, m.name()));
    }
    for t in r.trials.iter().filter(|t| t.status != Status::Ok).take(top) {
        let reason = super::printable(t.reason.as_deref().unwrap_or("")).into_owned();
        out.push_str(&format!("{}: {}: {reason}\n", t.status.name(), t.id));
    }
    out
}

/// `x` with 6 significant digits, in its shortest form (exponent form for very small or
/// large magnitudes).
fn significant(x: f64) -> String {
    let rounded: f64 = format!("{x:.5e}").parse().unwrap_or(x);
    if rounded != 0.0 && (rounded.abs() < 1e-4 || rounded.abs() >= 1e15) {
        format!("{rounded:e}")
    } else {
        rounded.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn six_significant_digits() {
        assert_eq!(super::significant(21.517444231177297), "21.5174");
        assert_eq!(super::significant(0.9789163173420278), "0.978916");
        assert_eq!(super::significant(2973.229022432794), "2973.23");
        assert_eq!(super::significant(0.0), "0");
        assert_eq!(super::significant(1.5e-7), "1.5e-7");
    }
}
