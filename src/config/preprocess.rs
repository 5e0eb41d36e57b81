//! `[preprocess]`: the file-wide column rule, one-hot encoding and per-column overrides.

use super::key::Key;
use super::reader::{declared, declared_choice, float_of, keys, type_name, Cx, Reader, Section, Value};
use super::{ColumnRule, FillValue, Impute, PreprocessConfig, Scale};
use std::collections::BTreeMap;
use toml::de::DeValue;

keys! {
    /// The keys of `[preprocess]`.
    pub enum PreprocessKey {
        Impute = "impute": Choice(words::<super::Impute>), Word("error"), "";
        FillValue = "fill_value": FillValue, Absent, "For impute = \"constant\".";
        Scale = "scale": Choice(words::<super::Scale>), Word("none"), "";
        OneHot = "one_hot": Table, Absent, "How categorical columns are encoded.";
        Columns = "columns": Table, Absent, "Per-column impute / fill_value / scale.";
    }
}

keys! {
    /// The keys of `[preprocess.one_hot]`.
    pub enum OneHotKey {
        DropFirst = "drop_first": Bool, Flag(false), "";
    }
}

/// The keys of `[preprocess.columns.NAME]`: the column rule's keys of `[preprocess]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ColumnKey {
    Impute,
    FillValue,
    Scale,
}

impl From<ColumnKey> for PreprocessKey {
    fn from(k: ColumnKey) -> PreprocessKey {
        match k {
            ColumnKey::Impute => PreprocessKey::Impute,
            ColumnKey::FillValue => PreprocessKey::FillValue,
            ColumnKey::Scale => PreprocessKey::Scale,
        }
    }
}

impl Section for ColumnKey {
    const ALL: &'static [Self] = &[ColumnKey::Impute, ColumnKey::FillValue, ColumnKey::Scale];
    fn decl(self) -> super::reader::KeyDecl {
        PreprocessKey::from(self).decl()
    }
}

pub(super) fn preprocess(cx: &Cx<'_>, v: &Value<'_>) -> Option<PreprocessConfig> {
    let mut r = Reader::of(cx, v, "[preprocess]", Key::Preprocess)?;
    let default_rule = declared_rule().and_then(|base| column_rule(&mut r, &base));
    let drop_first = match r.value(PreprocessKey::OneHot) {
        None => declared(OneHotKey::DropFirst),
        Some(v) => Reader::of(cx, v, "`one_hot` in [preprocess]", Key::OneHot)
            .and_then(|mut oh| oh.or_default::<bool>(OneHotKey::DropFirst)),
    };
    let columns = match r.value(PreprocessKey::Columns) {
        Some(v) => columns(cx, v, default_rule.as_ref()),
        None => Some(BTreeMap::new()),
    };
    Some(PreprocessConfig { default_rule: default_rule?, columns: columns?, drop_first: drop_first? })
}

/// `[preprocess.columns.NAME]` tables, each over the file-wide rule.
fn columns(cx: &Cx<'_>, v: &Value<'_>, base: Option<&ColumnRule>) -> Option<BTreeMap<String, ColumnRule>> {
    let DeValue::Table(cols) = v.get_ref() else {
        cx.err(&v.span(), format!("[preprocess.columns] must be a table, found {}", type_name(v.get_ref())));
        return None;
    };
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (name, value) in cols.iter() {
        let column: &str = name.get_ref();
        let label = format!("[preprocess.columns.{column}]");
        let Some(mut r) = Reader::of(cx, value, label, |k| Key::ColumnRule(column.to_string(), k)) else {
            ok = false;
            continue;
        };
        cx.record(Key::Column(column.to_string()), &name.span(), true);
        match base.and_then(|b| column_rule(&mut r, b)) {
            Some(rule) => {
                out.insert(column.to_string(), rule);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// The file-wide rule's declared defaults: gaps are errors, nothing is scaled.
fn declared_rule() -> Option<ColumnRule> {
    let (impute, scale) = (declared_choice(PreprocessKey::Impute)?, declared_choice(PreprocessKey::Scale)?);
    Some(ColumnRule { impute, fill_value: None, scale })
}

/// `impute`, `scale` and `fill_value` over `base`.
fn column_rule<K: Section + From<ColumnKey>>(r: &mut Reader<'_, '_, K>, base: &ColumnRule) -> Option<ColumnRule> {
    let impute = r.optional_choice::<Impute>(ColumnKey::Impute.into());
    let scale = r.optional_choice::<Scale>(ColumnKey::Scale.into());
    let fill_value = match r.value(ColumnKey::FillValue.into()) {
        None => Some(base.fill_value.clone()),
        Some(v) => match v.get_ref() {
            DeValue::String(s) => Some(Some(FillValue::Text(s.to_string()))),
            other => match float_of(other) {
                Some(x) if x.is_finite() => Some(Some(FillValue::Number(x))),
                _ => {
                    let tail = format!("must be a finite number or a string, found {}", type_name(other));
                    r.err(ColumnKey::FillValue.into(), &v.span(), &tail);
                    None
                }
            },
        },
    };
    let rule = ColumnRule {
        impute: impute?.unwrap_or(base.impute),
        fill_value: fill_value?,
        scale: scale?.unwrap_or(base.scale),
    };
    if rule.impute == Impute::Constant && rule.fill_value.is_none() {
        let span = r.value(ColumnKey::Impute.into()).map_or(r.span.clone(), |v| v.span());
        r.cx().err(&span, format!("impute = \"constant\" in {} needs a `fill_value`", r.label));
        return None;
    }
    Some(rule)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{errors, parse, HEAD, MODEL};
    use super::*;

    #[test]
    fn keep_is_an_impute_value_file_wide_or_per_column_with_a_did_you_mean() {
        let text = format!("{HEAD}[preprocess]\nimpute = \"keep\"\n[preprocess.columns.a]\nimpute = \"mean\"\n{MODEL}");
        let e = parse(&text).unwrap();
        assert_eq!(
            (e.preprocess.rule_for("b").impute, e.preprocess.rule_for("a").impute),
            (Impute::Keep, Impute::Mean)
        );
        let e = errors(&format!("{HEAD}[preprocess]\nimpute = \"kep\"\n{MODEL}"));
        assert!(e[0].starts_with("exp.toml:6:10: ") && e[0].contains("did you mean `keep`?"), "{e:?}");
    }

    #[test]
    fn no_preprocess_table_means_gaps_are_errors_and_nothing_is_scaled() {
        let e = parse(&format!("{HEAD}{MODEL}")).unwrap();
        assert_eq!(
            e.preprocess.default_rule,
            ColumnRule { impute: Impute::Error, fill_value: None, scale: Scale::None }
        );
        assert!(!e.preprocess.drop_first && e.preprocess.columns.is_empty());
    }

    #[test]
    fn a_column_overrides_the_file_wide_rule() {
        let text = "[preprocess]\nimpute = \"constant\"\nfill_value = 0\nscale = \"standard\"\none_hot = { drop_first = true }\n\
                    [preprocess.columns.a]\nimpute = \"mode\"\n";
        let e = parse(&format!("{HEAD}{text}{MODEL}")).unwrap();
        let p = &e.preprocess;
        assert!(p.drop_first);
        assert_eq!(p.default_rule.fill_value, Some(FillValue::Number(0.0)));
        let a = p.rule_for("a");
        assert_eq!(
            (a.impute, a.scale, a.fill_value.clone()),
            (Impute::Mode, Scale::Standard, Some(FillValue::Number(0.0)))
        );
        assert_eq!(e.location(Key::Column("a".into())), "exp.toml:10:21");
    }

    #[test]
    fn constant_needs_a_fill_value() {
        let e = errors(&format!("{HEAD}[preprocess]\nimpute = \"constant\"\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:10: impute = \"constant\" in [preprocess] needs a `fill_value`"]);
    }

    #[test]
    fn a_fill_value_is_a_number_or_a_string() {
        let e = errors(&format!("{HEAD}[preprocess.columns.a]\nfill_value = true\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:14: `fill_value` in [preprocess.columns.a] must be a finite number or a string, found a boolean"]);
    }

    #[test]
    fn a_column_table_takes_only_the_rule_keys() {
        let e = errors(&format!("{HEAD}[preprocess.columns.a]\none_hot = 1\n{MODEL}"));
        assert_eq!(e, ["exp.toml:6:1: unknown key `one_hot` in [preprocess.columns.a]"]);
    }

    #[test]
    fn drop_first_must_be_a_boolean() {
        let e = errors(&format!("{HEAD}[preprocess.one_hot]\ndrop_first = 1\n{MODEL}"));
        assert_eq!(
            e,
            ["exp.toml:6:14: `drop_first` in `one_hot` in [preprocess] must be true or false, found an integer"]
        );
    }
}
