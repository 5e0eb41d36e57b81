//! `[[model]]`: each model's kind, fixed parameters and grid axes, checked against the
//! catalog (`spec`'s `KindSpec` / `ParamSpec`), and the size guard over the grids.

use super::grid::{expand_axis, AxisSpec};
use super::key::Key;
use super::reader::{float_of, int_of, keys, type_name, Cx, Reader, Value};
use super::{size_problem, Distribution, ModelConfig, SearchConfig};
use crate::spec::catalog::{find, Catalog, KindSpec, StepEntry};
use crate::spec::value::ParamSpec;
use crate::spec::ParamValue;
use crate::suggest::suggestion;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use toml::de::{DeTable, DeValue};

keys! {
    /// The keys of a `[[model]]` besides its kind's parameters.
    pub enum ModelKey {
        Name = "name": Name, Required, "";
        Kind = "kind": Str, Required, "";
        Steps = "steps": StrList, Absent, "";
        Grid = "grid": Table, Absent, "";
    }
}

/// The grids' trials so far against `max_units`, with the file's own fold count: a grid
/// that could never fit is refused before any generator is expanded.
pub(super) struct SizeGuard {
    pub max_units: u64,
    pub folds: u128,
    pub search: SearchConfig,
    pub points: u128,
    pub refused: bool,
}

/// The most values one grid axis may give (more could never run within `max_units`'s
/// default, and a random search expands each axis it draws from).
const MAX_AXIS: usize = 1_000_000;

/// A model's grid: list axes, and the distributions a random search draws from.
type GridAxes = (Vec<(String, Vec<ParamValue>)>, Vec<(String, Distribution)>);

fn param_value_of(v: &DeValue<'_>) -> Option<ParamValue> {
    match v {
        DeValue::String(s) => Some(ParamValue::Str(s.to_string())),
        DeValue::Integer(_) => int_of(v).map(ParamValue::Int),
        DeValue::Float(_) => float_of(v).map(ParamValue::Float),
        DeValue::Boolean(b) => Some(ParamValue::Bool(*b)),
        DeValue::Array(items) => {
            let ints = items.iter().map(|i| int_of(i.get_ref())).collect::<Option<Vec<i64>>>();
            let floats = || items.iter().map(|i| float_of(i.get_ref())).collect::<Option<Vec<f64>>>();
            let words = || items.iter().map(|i| i.get_ref().as_str().map(String::from)).collect::<Option<Vec<_>>>();
            ints.map(ParamValue::IntList)
                .or_else(|| floats().map(ParamValue::FloatList))
                .or_else(|| words().map(ParamValue::StrList))
        }
        // Numbers by name (a class_weight table); the key's spelling is the class label.
        DeValue::Table(t) => t
            .iter()
            .map(|(k, v)| float_of(v.get_ref()).map(|w| (k.get_ref().to_string(), w)))
            .collect::<Option<Vec<_>>>()
            .map(ParamValue::Table),
        _ => None,
    }
}

/// Reads the `[[model]]` tables, counting their trials against the size guard.
pub(super) struct Models<'r, 'a> {
    pub cx: &'r Cx<'a>,
    /// The model kinds and steps the file may name (`kinds::CATALOG`, a later layer's, handed in).
    pub catalog: Catalog,
    /// Where the distribution axes are, for the error when there is no random search.
    pub distribution_spans: Vec<Range<usize>>,
    /// The size guard, counting trials model by model from the axis lengths; `None` when
    /// `[search]` or `[split]` is invalid (their errors are reported instead).
    pub size: Option<SizeGuard>,
}

impl Models<'_, '_> {
    /// After the models: a distribution axis needs a random search.
    pub(super) fn distributions_need_random(&mut self, search: Option<SearchConfig>) {
        if matches!(search, Some(SearchConfig::Grid | SearchConfig::Halving { .. })) {
            for span in std::mem::take(&mut self.distribution_spans) {
                self.cx.err(&span, "a distribution axis is sampled by a random search: add [search] method = \"random\" (and n_trials), or give a list");
            }
        }
    }

    pub(super) fn models(&mut self, v: Option<&Value<'_>>) -> Option<Vec<ModelConfig>> {
        let Some(v) = v else {
            self.cx.err(&(0..0), "no [[model]] table: add at least one model");
            return None;
        };
        let DeValue::Array(items) = v.get_ref() else {
            let found = type_name(v.get_ref());
            self.cx.err(&v.span(), format!("`model` must be an array of tables ([[model]]), found {found}"));
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        let mut seen: HashMap<String, Range<usize>> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            match self.model(item, i, &mut seen) {
                Some(m) => out.push(m),
                None => ok = false,
            }
        }
        if out.is_empty() && ok {
            self.cx.err(&v.span(), "no [[model]] table: add at least one model");
            return None;
        }
        ok.then_some(out)
    }

    fn model(
        &mut self,
        item: &Value<'_>,
        index: usize,
        seen: &mut HashMap<String, Range<usize>>,
    ) -> Option<ModelConfig> {
        // The name is the typed path's, so it is peeked before the table is read.
        let peeked = match item.get_ref() {
            DeValue::Table(t) => t.get("name").and_then(|n| n.get_ref().as_str()).unwrap_or("").to_string(),
            _ => String::new(),
        };
        let path = move |k| Key::Model(peeked.clone(), k);
        let mut r = Reader::of(self.cx, item, format!("[[model]] #{}", index + 1), path)?;
        let name = self.model_name(&mut r, seen);
        if let Some(n) = &name {
            r.label = format!("[[model]] `{n}`");
        }
        let Some(spec) = self.model_kind(&mut r) else {
            // Without a kind its parameters are unknown: nothing more to say about the keys.
            r.skip_all();
            return None;
        };
        let steps = self.model_steps(&mut r);
        let step_names = self.catalog.steps.iter().map(|s| s.name);
        let target = self.catalog.target;
        let own = spec.params().chain(std::iter::once(target)).map(|p| p.name);
        r.allow(own.chain(step_names), format!(" (kind {})", spec.name()));
        let mut ok = steps.is_some();
        let steps = steps.unwrap_or_default();
        let mut fixed = BTreeMap::new();
        let model = name.clone().unwrap_or_default();
        // `target` (the target transform) reads as the kind's parameters do.
        for p in spec.params().chain(std::iter::once(target)) {
            if let Some(v) = r.table().get(p.name) {
                self.cx.record(Key::Param(model.clone(), p.name), &v.span(), true);
                match self.param(p, p.name, v, &r.label) {
                    Some(value) => {
                        fixed.insert(p.name.to_string(), value);
                    }
                    None => ok = false,
                }
            }
        }
        ok &= self.step_params(r.table(), &steps, &mut fixed, &r.label);
        let axes = match r.value(ModelKey::Grid) {
            Some(g) => {
                // A swept target transform is located at its axis, for the plan's checks.
                if let Some((axis, _)) = g.get_ref().as_table().and_then(|t| t.get_key_value(target.name)) {
                    self.cx.record(Key::Param(model.clone(), target.name), &axis.span(), true);
                }
                self.model_grid(spec, &steps, g, &fixed, &r.label)
            }
            None => self.within_size(1, false, &r.span, &r.label).then(|| (Vec::new(), Vec::new())),
        };
        let (grid, distributions) = axes?;
        let steps = steps.iter().map(|s| s.name.to_string()).collect();
        Some(ModelConfig { name: name?, kind: spec.kind, steps, fixed: ok.then_some(fixed)?, grid, distributions })
    }

    /// `steps = [...]`: each a known step, none twice.
    fn model_steps(&mut self, r: &mut Reader<'_, '_, ModelKey>) -> Option<Vec<&'static StepEntry>> {
        let Some(names) = r.optional::<Vec<String>>(ModelKey::Steps)? else { return Some(Vec::new()) };
        let Some(DeValue::Array(items)) = r.value(ModelKey::Steps).map(|v| v.get_ref()) else { return Some(vec![]) };
        let mut out: Vec<&'static StepEntry> = Vec::new();
        let mut ok = true;
        for (name, item) in names.iter().zip(items.iter()) {
            match self.catalog.steps.iter().find(|s| s.name == name) {
                Some(s) if out.iter().any(|o| o.name == s.name) => {
                    let message = format!("step `{name}` is listed twice in `steps` of {}; list it once", r.label);
                    self.cx.err(&item.span(), message);
                    ok = false;
                }
                Some(s) => out.push(s),
                None => {
                    let known: Vec<&str> = self.catalog.steps.iter().map(|s| s.name).collect();
                    let hint = suggestion(name, known.iter().copied());
                    let message = format!("unknown step `{name}` in {}{hint} (steps: {})", r.label, known.join(", "));
                    self.cx.err(&item.span(), message);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// A step's fixed parameters (`poly.include_bias = false`), stored as `poly.include_bias`;
    /// false after an error.
    fn step_params(
        &mut self,
        table: &DeTable<'_>,
        steps: &[&'static StepEntry],
        fixed: &mut BTreeMap<String, ParamValue>,
        label: &str,
    ) -> bool {
        let mut ok = true;
        for entry in self.catalog.steps {
            let Some(v) = table.get(entry.name) else { continue };
            if !steps.iter().any(|s| s.name == entry.name) {
                let name = entry.name;
                let message =
                    format!("`{name}` sets parameters of a step {label} does not list: add \"{name}\" to `steps`");
                self.cx.err(&v.span(), message);
                ok = false;
                continue;
            }
            let DeValue::Table(t) = v.get_ref() else {
                let found = type_name(v.get_ref());
                self.cx.err(
                    &v.span(),
                    format!("`{}` in {label} must be a table of step parameters, found {found}", entry.name),
                );
                ok = false;
                continue;
            };
            for (key, value) in t.iter() {
                let full = format!("{}.{}", entry.name, key.get_ref());
                match self.step_param_spec(entry, key.get_ref(), &key.span(), label) {
                    Some(p) => match self.param(p, &full, value, label) {
                        Some(x) => {
                            fixed.insert(full, x);
                        }
                        None => ok = false,
                    },
                    None => ok = false,
                }
            }
        }
        ok
    }

    /// A step's parameter by name, or an error at `span` with a did-you-mean.
    fn step_param_spec(
        &self,
        entry: &'static StepEntry,
        name: &str,
        span: &Range<usize>,
        label: &str,
    ) -> Option<&'static ParamSpec> {
        let p = entry.param(name);
        if p.is_none() {
            let hint = suggestion(name, entry.params.iter().map(|p| p.name));
            let known: Vec<&str> = entry.params.iter().map(|p| p.name).collect();
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            let step = entry.name;
            self.cx.err(
                span,
                format!("unknown parameter `{name}` of step `{step}` in {label}{hint} (its parameters: {known})"),
            );
        }
        p
    }

    /// A grid axis's parameter: the kind's (`alpha`) or a listed step's (`poly.degree`).
    fn axis_param(
        &self,
        spec: &KindSpec,
        steps: &[&'static StepEntry],
        axis: &str,
        span: &Range<usize>,
        label: &str,
    ) -> Option<&'static ParamSpec> {
        let Some((step, name)) = axis.split_once('.') else {
            let p = spec.param(axis).or_else(|| Some(self.catalog.target).filter(|t| t.name == axis));
            if p.is_none() {
                let hint = suggestion(axis, spec.params().map(|p| p.name));
                let kind = spec.name();
                self.cx.err(span, format!("unknown parameter `{axis}` in {label} (kind {kind}){hint}"));
            }
            return p;
        };
        match steps.iter().find(|s| s.name == step) {
            Some(entry) => self.step_param_spec(entry, name, span, label),
            None => {
                let listed: Vec<&str> = steps.iter().map(|s| s.name).collect();
                let hint = suggestion(step, listed.iter().copied());
                let listed = if listed.is_empty() { "none".to_string() } else { listed.join(", ") };
                self.cx.err(
                    span,
                    format!(
                        "`{axis}` in {label} names step `{step}`, which `steps` does not list{hint} (listed: {listed})"
                    ),
                );
                None
            }
        }
    }

    /// A model's name: unique, and of characters that keep trial ids and plot files unique.
    fn model_name(
        &mut self,
        r: &mut Reader<'_, '_, ModelKey>,
        seen: &mut HashMap<String, Range<usize>>,
    ) -> Option<String> {
        let n = r.required::<String>(ModelKey::Name)?;
        let span = r.value(ModelKey::Name).map_or(r.span.clone(), |v| v.span());
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            self.cx.err(
                &span,
                format!("model name `{n}` must be ASCII letters, digits, `-` and `_` (it names trials and plot files)"),
            );
        }
        if let Some(first) = seen.get(&n) {
            let line = self.cx.line(first.start);
            self.cx.err(
                &span,
                format!("duplicate model name `{n}` (first used on line {line}); model names must be unique"),
            );
        } else {
            seen.insert(n.clone(), span);
        }
        Some(n)
    }

    fn model_kind(&mut self, r: &mut Reader<'_, '_, ModelKey>) -> Option<&'static KindSpec> {
        let k = r.required::<String>(ModelKey::Kind)?;
        let span = r.value(ModelKey::Kind).map_or(r.span.clone(), |v| v.span());
        let spec = find(self.catalog.kinds, &k);
        if spec.is_none() {
            let kind_names: Vec<&str> = self.catalog.kinds.iter().map(|k| k.name()).collect();
            let hint = suggestion(&k, kind_names.iter().copied());
            let known = kind_names.join(", ");
            self.cx.err(&span, format!("unknown model kind `{k}`{hint} (known kinds: {known}; see `runner models`)"));
        }
        spec
    }

    /// The grid axes, sorted by name (as scikit-learn's ParameterGrid).
    fn model_grid(
        &mut self,
        spec: &KindSpec,
        steps: &[&'static StepEntry],
        g: &Value<'_>,
        fixed: &BTreeMap<String, ParamValue>,
        model_label: &str,
    ) -> Option<GridAxes> {
        let label = format!("`grid` of {model_label}");
        let DeValue::Table(gt) = g.get_ref() else {
            self.cx.err(&g.span(), format!("{label} must be a table, found {}", type_name(g.get_ref())));
            return None;
        };
        let mut grid = Vec::new();
        let mut distributions = Vec::new();
        let mut specs = Vec::new();
        let mut ok = true;
        for (axis, values) in gt.iter() {
            let axis_name: &str = axis.get_ref();
            let Some(p) = self.axis_param(spec, steps, axis_name, &axis.span(), &label) else {
                ok = false;
                continue;
            };
            if fixed.contains_key(axis_name) {
                self.cx.err(&axis.span(), format!("`{axis_name}` is both fixed and swept in {model_label}; keep one"));
                ok = false;
                continue;
            }
            if let Some(d) = self.distribution_of(p, axis_name, values, model_label) {
                match d {
                    Some(d) => distributions.push((axis_name.to_string(), d)),
                    None => ok = false,
                }
                continue;
            }
            match self.axis_spec(p, axis_name, values, model_label) {
                Some(axis) => specs.push((axis_name, p, axis, values)),
                None => ok = false,
            }
        }
        // Counted from the axis lengths, before a generator's values exist (not when an axis
        // is invalid: the count would be wrong, and each axis is at most MAX_AXIS values).
        let size = specs.iter().fold(1u128, |n, a| n.saturating_mul(a.2.count()));
        if ok && !self.within_size(size, !distributions.is_empty(), &g.span(), &label) {
            return None;
        }
        for (axis_name, param, axis, values) in specs {
            match self.axis_values(param, axis_name, &axis, values, model_label) {
                Some(v) => grid.push((axis_name.to_string(), v)),
                None => ok = false,
            }
        }
        grid.sort_by(|a, b| a.0.cmp(&b.0));
        distributions.sort_by(|a, b| a.0.cmp(&b.0));
        ok.then_some((grid, distributions))
    }

    /// `{ uniform = [a, b] }`, `{ loguniform = [a, b] }` or `{ randint = [lo, hi] }`: `None`
    /// when the axis is not a distribution, `Some(None)` when it is one but invalid. Both
    /// ends must be valid values of the parameter.
    fn distribution_of(
        &mut self,
        p: &ParamSpec,
        name: &str,
        v: &Value<'_>,
        label: &str,
    ) -> Option<Option<Distribution>> {
        let DeValue::Table(t) = v.get_ref() else { return None };
        let (key, args) = t.iter().next()?;
        let kind: &str = key.get_ref();
        if t.len() != 1 || !["uniform", "loguniform", "randint"].contains(&kind) {
            return None;
        }
        let what = format!("grid.{name}.{kind}");
        let ends: Option<Vec<f64>> = match args.get_ref() {
            DeValue::Array(a) if a.len() == 2 => a.iter().map(|x| float_of(x.get_ref())).collect(),
            _ => None,
        };
        let bad = |p: &mut Self, why: &str| {
            p.cx.err(&args.span(), format!("`{what}` in {label} {why}"));
            Some(None)
        };
        let Some([low, high]) = ends.as_deref().map(|e| [e[0], e[1]]) else {
            return bad(self, "must be an array of two numbers [low, high]");
        };
        if low.partial_cmp(&high) != Some(std::cmp::Ordering::Less) {
            return bad(self, "needs low < high");
        }
        let d = match kind {
            "uniform" => Distribution::Uniform { low, high },
            "loguniform" if low > 0.0 => Distribution::LogUniform { low, high },
            "loguniform" => return bad(self, "needs 0 < low"),
            _ if low.fract() != 0.0 || high.fract() != 0.0 || low.abs() > 9.0e15 || high.abs() > 9.0e15 => {
                return bad(self, "takes whole numbers [low, high) (high excluded, as scipy's randint)");
            }
            _ => Distribution::RandInt { low: low as i64, high: high as i64 },
        };
        // Every value drawn must be a valid parameter value: check both ends.
        let (first, last) = match d {
            Distribution::RandInt { low, high } => (ParamValue::Int(low), ParamValue::Int(high - 1)),
            _ => (ParamValue::Float(low), ParamValue::Float(high)),
        };
        for end in [first, last] {
            if let Err(why) = p.ty.check(&end) {
                return bad(self, &format!("reaches {end}: {why}"));
            }
        }
        self.distribution_spans.push(v.span());
        Some(Some(d))
    }

    fn param(&mut self, p: &ParamSpec, name: &str, v: &Value<'_>, label: &str) -> Option<ParamValue> {
        let Some(raw) = param_value_of(v.get_ref()) else {
            let found = type_name(v.get_ref());
            self.cx.err(&v.span(), format!("`{name}` in {label} must be {}, found {found}", p.ty.expected()));
            return None;
        };
        match p.ty.check(&raw) {
            Ok(value) => Some(value),
            Err(why) => {
                self.cx.err(&v.span(), format!("`{name}` in {label}: {why}"));
                None
            }
        }
    }

    /// Counts a model's `grid_size` trials (or random draws) in the size guard: false, with
    /// the error at `span`, once the grids plan more than `max_units` units.
    fn within_size(&mut self, grid_size: u128, has_distributions: bool, span: &Range<usize>, label: &str) -> bool {
        let Some(g) = &mut self.size else { return true };
        if g.refused {
            return false;
        }
        g.points = g.points.saturating_add(g.search.points(grid_size, has_distributions));
        let Some(why) = size_problem(g.points, g.folds, g.max_units) else { return true };
        g.refused = true;
        self.cx.err(span, format!("{label}: {why}"));
        false
    }

    /// One grid axis as the file gives it: a list of values (each checked) or a generator.
    fn axis_spec(&mut self, p: &ParamSpec, name: &str, v: &Value<'_>, label: &str) -> Option<AxisSpec> {
        let what = format!("grid.{name}");
        let axis = match v.get_ref() {
            DeValue::Array(items) if items.is_empty() => {
                self.cx.err(&v.span(), format!("`{what}` in {label} is empty: give at least one value"));
                return None;
            }
            DeValue::Array(items) => {
                let values: Vec<Option<ParamValue>> =
                    items.iter().map(|item| self.param(p, name, item, label)).collect();
                AxisSpec::List(values.into_iter().collect::<Option<Vec<_>>>()?)
            }
            DeValue::Table(gen) => self.generator(gen, v, &what, label)?,
            other => {
                let found = type_name(other);
                let message =
                    format!("`{what}` in {label} must be a list of values or a generator table, found {found}");
                self.cx.err(&v.span(), message);
                return None;
            }
        };
        Some(axis)
    }

    /// An axis's values, every value checked and distinct.
    fn axis_values(
        &mut self,
        p: &ParamSpec,
        name: &str,
        axis: &AxisSpec,
        v: &Value<'_>,
        label: &str,
    ) -> Option<Vec<ParamValue>> {
        let what = format!("grid.{name}");
        let values = expand_axis(axis);
        if values.is_empty() {
            self.cx.err(&v.span(), format!("`{what}` in {label} produces no values"));
            return None;
        }
        let mut checked: Vec<ParamValue> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for value in values {
            match p.ty.check(&value) {
                // `1` and `1.0` are one value and would be one trial id.
                Ok(x) if !seen.insert(x.to_string()) => {
                    let message =
                        format!("`{what}` in {label} repeats the value {x}: each grid value must be distinct");
                    self.cx.err(&v.span(), message);
                    return None;
                }
                Ok(x) => checked.push(x),
                Err(why) => {
                    self.cx.err(&v.span(), format!("`{what}` in {label}: {why}"));
                    return None;
                }
            }
        }
        Some(checked)
    }

    /// `{ logspace = [start, stop, num] }`, `{ linspace = [...] }` or `{ range = [start, stop, step] }`.
    fn generator(&mut self, gen: &DeTable<'_>, v: &Value<'_>, what: &str, label: &str) -> Option<AxisSpec> {
        const GENERATORS: [&str; 3] = ["logspace", "linspace", "range"];
        let keys: Vec<&str> = gen.iter().map(|(k, _)| -> &str { k.get_ref() }).collect();
        let [generator] = keys.as_slice() else {
            self.cx.err(&v.span(), format!("`{what}` in {label} must be a list or exactly one of {{ logspace = [start, stop, num] }}, {{ linspace = [...] }}, {{ range = [start, stop, step] }}"));
            return None;
        };
        let generator = generator.to_string();
        if !GENERATORS.contains(&generator.as_str()) {
            let hint = suggestion(&generator, GENERATORS);
            let message = format!(
                "unknown grid generator `{generator}` in `{what}` of {label}{hint} (generators: logspace, linspace, \
                 range; a random search also samples uniform, loguniform and randint)"
            );
            self.cx.err(&v.span(), message);
            return None;
        }
        let args = gen.get(generator.as_str())?;
        let nums: Option<Vec<f64>> = match args.get_ref() {
            DeValue::Array(a) if a.len() == 3 => a.iter().map(|x| float_of(x.get_ref())).collect(),
            _ => None,
        };
        let Some(nums) = nums else {
            self.cx.err(&args.span(), format!("`{what}.{generator}` in {label} must be an array of three numbers"));
            return None;
        };
        let too_many = |p: &mut Self, count: f64| {
            p.cx.err(
                &args.span(),
                format!("`{what}.{generator}` in {label} gives {count} values; an axis gives at most {MAX_AXIS}"),
            );
            None
        };
        if generator == "range" {
            if nums.iter().any(|x| x.fract() != 0.0) || nums[2] == 0.0 {
                let message =
                    format!("`{what}.range` in {label} takes whole numbers [start, stop, step] with step != 0");
                self.cx.err(&args.span(), message);
                return None;
            }
            // Checked in f64 before any i64 arithmetic can overflow.
            if nums.iter().any(|x| x.abs() > 9.007e15) {
                self.cx.err(&args.span(), format!("`{what}.range` in {label} must stay within ±2^53"));
                return None;
            }
            let count = ((nums[1] - nums[0]) / nums[2]).ceil();
            if count > MAX_AXIS as f64 {
                return too_many(self, count);
            }
            return Some(AxisSpec::Range { start: nums[0] as i64, stop: nums[1] as i64, step: nums[2] as i64 });
        }
        if !(nums[2] >= 1.0 && nums[2].fract() == 0.0) {
            self.cx.err(
                &args.span(),
                format!(
                    "the third number of `{what}.{generator}` in {label} is a count and must be a whole number >= 1"
                ),
            );
            return None;
        }
        if nums[2] > MAX_AXIS as f64 {
            return too_many(self, nums[2]);
        }
        let (start, stop, num) = (nums[0], nums[1], nums[2] as usize);
        Some(match generator.as_str() {
            "logspace" => AxisSpec::Logspace { start, stop, num },
            _ => AxisSpec::Linspace { start, stop, num },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{errors, parse, HEAD};
    use super::*;
    use crate::spec::ModelKind;

    #[test]
    fn a_model_reads_its_fixed_parameters_and_sorted_axes() {
        let text = "[[model]]\nname = \"r\"\nkind = \"ridge\"\nfit_intercept = false\ngrid.alpha = [1, 0.1]\n";
        let e = parse(&format!("{HEAD}{text}")).unwrap();
        let m = &e.models[0];
        assert_eq!((m.name.as_str(), m.kind), ("r", ModelKind::Ridge));
        assert_eq!(m.fixed.get("fit_intercept"), Some(&ParamValue::Bool(false)));
        assert_eq!(m.grid, [("alpha".to_string(), vec![ParamValue::Float(1.0), ParamValue::Float(0.1)])]);
        assert_eq!(e.location(Key::Model("r".into(), ModelKey::Kind)), "exp.toml:7:8");
    }

    #[test]
    fn no_model_is_an_error() {
        assert_eq!(errors(HEAD), ["exp.toml:1:1: no [[model]] table: add at least one model"]);
    }

    #[test]
    fn an_unknown_kind_lists_the_kinds() {
        let e = errors(&format!("{HEAD}[[model]]\nname = \"r\"\nkind = \"ridg\"\nalpah = 1\n"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("exp.toml:7:8: unknown model kind `ridg`, did you mean `ridge`? (known kinds: "),
            "{e:?}"
        );
    }

    #[test]
    fn a_misspelt_parameter_names_the_kind() {
        let e = errors(&format!("{HEAD}[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpah = 1\n"));
        assert_eq!(e, ["exp.toml:8:1: unknown key `alpah` in [[model]] `r` (kind ridge), did you mean `alpha`?"]);
    }

    #[test]
    fn a_parameter_out_of_range_says_what_it_takes() {
        let e = errors(&format!("{HEAD}[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpha = -1\n"));
        assert_eq!(e, ["exp.toml:8:9: `alpha` in [[model]] `r`: -1 is out of range: expected a float in [0, inf)"]);
    }

    #[test]
    fn model_names_are_unique() {
        let model = "[[model]]\nname = \"r\"\nkind = \"ridge\"\n";
        let e = errors(&format!("{HEAD}{model}{model}"));
        assert_eq!(e, ["exp.toml:9:8: duplicate model name `r` (first used on line 6); model names must be unique"]);
    }

    #[test]
    fn an_axis_is_fixed_or_swept_not_both() {
        let e = errors(&format!("{HEAD}[[model]]\nname = \"r\"\nkind = \"ridge\"\nalpha = 1\ngrid.alpha = [1, 2]\n"));
        assert_eq!(e, ["exp.toml:9:6: `alpha` is both fixed and swept in [[model]] `r`; keep one"]);
    }

    #[test]
    fn a_distribution_needs_a_random_search() {
        let e = errors(&format!(
            "{HEAD}[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = {{ loguniform = [0.1, 1] }}\n"
        ));
        assert_eq!(e, ["exp.toml:8:14: a distribution axis is sampled by a random search: add [search] method = \"random\" (and n_trials), or give a list"]);
    }

    #[test]
    fn the_size_guard_counts_the_axes() {
        let text = "[[model]]\nname = \"r\"\nkind = \"ridge\"\ngrid.alpha = { linspace = [0, 1, 20] }\n";
        let e = errors(&format!("max_units = 10\n{HEAD}{text}"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("the grids plan 20 units (20 trials × 1 folds), more than max_units = 10"), "{e:?}");
    }

    const POLY: &str = "[[model]]\nname = \"p\"\nkind = \"ridge\"\n";

    #[test]
    fn a_target_transform_is_a_fixed_value_or_an_axis_with_located_errors() {
        let e = parse(&format!("{HEAD}{POLY}target = \"log1p\"\n")).unwrap();
        assert_eq!(e.models[0].fixed.get("target"), Some(&ParamValue::Str("log1p".into())));
        let e = parse(&format!("{HEAD}{POLY}grid.target = [\"none\", \"box-cox\"]\n")).unwrap();
        let axis = vec![ParamValue::Str("none".into()), ParamValue::Str("box-cox".into())];
        assert_eq!(e.models[0].grid, [("target".to_string(), axis)]);
        let e = errors(&format!("{HEAD}{POLY}target = \"log\"\n"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("exp.toml:8:10: ") && e[0].contains("did you mean `log1p`?"), "{e:?}");
        let e = errors(&format!("{HEAD}{POLY}targte = \"log1p\"\n"));
        assert!(e[0].starts_with("exp.toml:8:1: ") && e[0].contains("did you mean `target`?"), "{e:?}");
        let e = errors(&format!("{HEAD}{POLY}grid.target = [\"power\", \"box_cox\"]\n"));
        assert!(e[0].starts_with("exp.toml:8:") && e[0].contains("did you mean `box-cox`?"), "{e:?}");
    }

    #[test]
    fn a_model_reads_its_steps_and_their_parameters() {
        let text = "steps = [\"poly\", \"standard\"]\npoly.include_bias = false\ngrid.\"poly.degree\" = [1, 2]\n";
        let e = parse(&format!("{HEAD}{POLY}{text}")).unwrap();
        let m = &e.models[0];
        assert_eq!(m.steps, ["poly", "standard"]);
        assert_eq!(m.fixed.get("poly.include_bias"), Some(&ParamValue::Bool(false)));
        assert_eq!(m.grid, [("poly.degree".to_string(), vec![ParamValue::Int(1), ParamValue::Int(2)])]);
    }

    #[test]
    fn an_unknown_step_is_located_with_a_suggestion() {
        let e = errors(&format!("{HEAD}{POLY}steps = [\"ploy\"]\n"));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("exp.toml:8:10: unknown step `ploy` in [[model]] `p`, did you mean `poly`? (steps: poly,"),
            "{e:?}"
        );
    }

    #[test]
    fn a_step_listed_twice_is_refused() {
        let e = errors(&format!("{HEAD}{POLY}steps = [\"poly\", \"poly\"]\n"));
        assert_eq!(e, ["exp.toml:8:18: step `poly` is listed twice in `steps` of [[model]] `p`; list it once"]);
    }

    #[test]
    fn an_unknown_step_parameter_is_located_with_a_suggestion() {
        let e = errors(&format!("{HEAD}{POLY}steps = [\"poly\"]\npoly.degre = 2\n"));
        assert_eq!(e, ["exp.toml:9:6: unknown parameter `degre` of step `poly` in [[model]] `p`, did you mean `degree`? (its parameters: degree, interaction_only, include_bias)"]);
    }

    #[test]
    fn an_unknown_step_parameter_axis_is_located() {
        let e = errors(&format!("{HEAD}{POLY}steps = [\"poly\"]\ngrid.\"poly.degre\" = [2]\n"));
        assert_eq!(e, ["exp.toml:9:6: unknown parameter `degre` of step `poly` in `grid` of [[model]] `p`, did you mean `degree`? (its parameters: degree, interaction_only, include_bias)"]);
    }

    #[test]
    fn a_step_parameter_out_of_range_says_what_it_takes() {
        let e = errors(&format!("{HEAD}{POLY}steps = [\"poly\"]\ngrid.\"poly.degree\" = [0, 1]\n"));
        assert_eq!(
            e,
            ["exp.toml:9:23: `poly.degree` in [[model]] `p`: 0 is out of range: expected an integer in [1, 20]"]
        );
        let e = errors(&format!("{HEAD}{POLY}steps = [\"robust\"]\nrobust.quantile_range = [75, 25]\n"));
        assert_eq!(e, ["exp.toml:9:25: `robust.quantile_range` in [[model]] `p`: [75,25] is out of range: expected a list of two percentiles [low, high] with 0 <= low < high <= 100"]);
    }

    #[test]
    fn a_step_parameter_needs_its_step_listed() {
        let e = errors(&format!("{HEAD}{POLY}poly.degree = 2\n"));
        assert_eq!(
            e,
            ["exp.toml:8:1: `poly` sets parameters of a step [[model]] `p` does not list: add \"poly\" to `steps`"]
        );
        let e = errors(&format!("{HEAD}{POLY}steps = [\"standard\"]\ngrid.\"poly.degree\" = [2]\n"));
        assert_eq!(e, ["exp.toml:9:6: `poly.degree` in `grid` of [[model]] `p` names step `poly`, which `steps` does not list (listed: standard)"]);
    }
}
