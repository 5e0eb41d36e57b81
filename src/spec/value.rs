//! Parameter values as written in the file, their types and ranges, and the conversion of
//! a checked value into a trainer's typed field.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// A parameter value as written in the experiment file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A list of whole numbers (an MLP's `hidden_layers`).
    IntList(Vec<i64>),
    /// Numbers by name, in the file's order (`class_weight = { yes = 3.0, no = 1.0 }`);
    /// report.json writes an object.
    Table(#[serde(serialize_with = "table_json")] Vec<(String, f64)>),
    /// A list of numbers, not all whole (a robust scaler's `quantile_range`).
    FloatList(Vec<f64>),
    /// A list of words (the columns `log1p` takes).
    StrList(Vec<String>),
}

fn table_json<S: serde::Serializer>(entries: &[(String, f64)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(entries.len()))?;
    for (k, v) in entries {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

impl ParamValue {
    /// A number's value (integers widened).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Float(x) => Some(*x),
            ParamValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The value as report.json writes it (`1.0`, `"gini"`, `[64,32]`).
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Str(s) => write!(f, "{s}"),
            ParamValue::IntList(l) => {
                let items: Vec<String> = l.iter().map(i64::to_string).collect();
                write!(f, "[{}]", items.join(","))
            }
            ParamValue::Table(entries) => {
                let items: Vec<String> = entries.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "{{{}}}", items.join(","))
            }
            ParamValue::FloatList(l) => {
                let items: Vec<String> = l.iter().map(f64::to_string).collect();
                write!(f, "[{}]", items.join(","))
            }
            ParamValue::StrList(l) => write!(f, "[{}]", l.join(",")),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum ParamType {
    /// A non-empty list of whole numbers in `[min, max]`; a single number is a one-item list.
    IntList {
        min: i64,
        max: i64,
    },
    /// A positive real number, or one of the words given (`gamma = "scale"`).
    PositiveOr(&'static [&'static str]),
    /// A count (an integer >= 1), a share (a float in (0, 1]), or one of the words
    /// (`max_features = "sqrt"`): scikit-learn's int-or-float parameters, where `1` is one
    /// and `1.0` is all.
    CountOrShare(&'static [&'static str]),
    /// A real number in `[min, max]`, or `(min, max]` when `min_exclusive`.
    Float {
        min: f64,
        max: f64,
        min_exclusive: bool,
    },
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    Choice(&'static [&'static str]),
    /// One of the words, or a table of positive weights by class label (`class_weight`).
    ChoiceOrWeights(&'static [&'static str]),
    /// Two percentiles `[low, high]` with 0 <= low < high <= 100 (scikit-learn's `quantile_range`).
    Quantiles,
    /// A list of column names (possibly empty).
    Names,
}

impl ParamType {
    pub fn describe(&self) -> String {
        match self {
            ParamType::Float { min, max, min_exclusive } => {
                let open = if *min_exclusive { "(" } else { "[" };
                let hi = if max.is_infinite() { "inf)".to_string() } else { format!("{max}]") };
                format!("float in {open}{min}, {hi}")
            }
            ParamType::Int { min, max } if *max == i64::MAX => format!("integer >= {min}"),
            ParamType::Int { min, max } => format!("integer in [{min}, {max}]"),
            ParamType::Bool => "true or false".to_string(),
            ParamType::PositiveOr(words) => {
                let words: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
                format!("positive float or {}", words.join(" or "))
            }
            ParamType::CountOrShare(words) => {
                format!("integer >= 1, float in (0, 1] or one of {}", words.join(", "))
            }
            ParamType::IntList { min, .. } => format!("list of integers >= {min}, such as [64, 32]"),
            ParamType::Choice(options) => format!("one of {}", options.join(", ")),
            ParamType::ChoiceOrWeights(options) => {
                format!("one of {}, or a table of positive weights by class label", options.join(", "))
            }
            ParamType::Quantiles => "list of two percentiles [low, high] with 0 <= low < high <= 100".to_string(),
            ParamType::Names => "list of column names".to_string(),
        }
    }

    /// `describe` with the article English wants after "expected" ("an integer", "one of …").
    pub fn expected(&self) -> String {
        match self {
            ParamType::Int { .. } => format!("an {}", self.describe()),
            ParamType::Bool | ParamType::Choice(_) | ParamType::ChoiceOrWeights(_) => self.describe(),
            _ => format!("a {}", self.describe()),
        }
    }

    /// Checks a value's type and range; the error says what was expected.
    pub fn check(&self, value: &ParamValue) -> Result<ParamValue, String> {
        match (self, value) {
            (ParamType::Float { min, max, min_exclusive }, ParamValue::Float(_) | ParamValue::Int(_)) => {
                let x = value.as_f64().unwrap_or(f64::NAN);
                let below = if *min_exclusive { x <= *min } else { x < *min };
                if !x.is_finite() || below || x > *max {
                    Err(format!("{x} is out of range: expected {}", self.expected()))
                } else {
                    Ok(ParamValue::Float(x))
                }
            }
            (ParamType::Int { min, max }, ParamValue::Int(i)) => {
                if i < min || i > max {
                    Err(format!("{i} is out of range: expected {}", self.expected()))
                } else {
                    Ok(value.clone())
                }
            }
            (ParamType::Bool, ParamValue::Bool(_)) => Ok(value.clone()),
            (ParamType::PositiveOr(words), ParamValue::Str(s)) if words.contains(&s.as_str()) => Ok(value.clone()),
            (ParamType::IntList { min, max }, ParamValue::IntList(l)) => {
                if l.is_empty() || l.iter().any(|v| v < min || v > max) {
                    Err(format!("{value} is out of range: expected a non-empty {}", self.describe()))
                } else {
                    Ok(value.clone())
                }
            }
            (ParamType::IntList { .. }, ParamValue::Int(i)) => ParamType::IntList { min: 1, max: i64::MAX }
                .check(&ParamValue::IntList(vec![*i]))
                .and_then(|v| self.check(&v)),
            (ParamType::PositiveOr(_), ParamValue::Float(_) | ParamValue::Int(_)) => {
                let x = value.as_f64().unwrap_or(f64::NAN);
                if x > 0.0 && x.is_finite() {
                    Ok(ParamValue::Float(x))
                } else {
                    Err(format!("{x} is out of range: expected {}", self.expected()))
                }
            }
            (ParamType::CountOrShare(_), ParamValue::Int(i)) if *i >= 1 => Ok(value.clone()),
            (ParamType::CountOrShare(_), ParamValue::Float(x)) if *x > 0.0 && *x <= 1.0 => Ok(value.clone()),
            (ParamType::CountOrShare(_), ParamValue::Int(_) | ParamValue::Float(_)) => {
                Err(format!("{value} is out of range: expected {}", self.expected()))
            }
            (ParamType::CountOrShare(words), ParamValue::Str(_)) => ParamType::Choice(words).check(value),
            // A choice whose words include true and false (`early_stopping`) takes a boolean.
            (ParamType::Choice(options), ParamValue::Bool(b)) if options.contains(&b.to_string().as_str()) => {
                Ok(ParamValue::Str(b.to_string()))
            }
            (ParamType::Choice(options), ParamValue::Str(s)) => {
                if options.contains(&s.as_str()) {
                    Ok(value.clone())
                } else {
                    let hint = crate::suggest::suggestion(s, options.iter().copied());
                    Err(format!("`{s}` is not {}{hint}", self.describe()))
                }
            }
            (ParamType::ChoiceOrWeights(options), ParamValue::Str(_)) => ParamType::Choice(options).check(value),
            (ParamType::ChoiceOrWeights(_), ParamValue::Table(entries)) => {
                match entries.iter().find(|(_, w)| !(w.is_finite() && *w > 0.0)) {
                    _ if entries.is_empty() => Err(format!("an empty table: expected {}", self.expected())),
                    Some((k, w)) => Err(format!("the weight of `{k}` is {w}: expected a positive number")),
                    None => Ok(value.clone()),
                }
            }
            (ParamType::Quantiles, ParamValue::IntList(l)) => {
                self.check(&ParamValue::FloatList(l.iter().map(|&v| v as f64).collect()))
            }
            (ParamType::Quantiles, ParamValue::FloatList(l)) => match l.as_slice() {
                [lo, hi] if 0.0 <= *lo && lo < hi && *hi <= 100.0 => Ok(value.clone()),
                _ => Err(format!("{value} is out of range: expected a {}", self.describe())),
            },
            (ParamType::Names, ParamValue::StrList(_)) => Ok(value.clone()),
            // An empty list reads as a list of numbers.
            (ParamType::Names, ParamValue::IntList(l)) if l.is_empty() => Ok(ParamValue::StrList(Vec::new())),
            _ => Err(format!("expected {}, found {}", self.expected(), kind_of(value))),
        }
    }
}

fn kind_of(value: &ParamValue) -> &'static str {
    match value {
        ParamValue::Bool(_) => "a boolean",
        ParamValue::Int(_) => "an integer",
        ParamValue::Float(_) => "a float",
        ParamValue::Str(_) => "a string",
        ParamValue::IntList(_) => "a list of integers",
        ParamValue::Table(_) => "a table",
        ParamValue::FloatList(_) => "a list of numbers",
        ParamValue::StrList(_) => "a list of strings",
    }
}

#[derive(Debug, Clone, Copy)]
pub enum DefaultValue {
    F(f64),
    I(i64),
    B(bool),
    S(&'static str),
    L(&'static [i64]),
    /// A list of numbers.
    FL(&'static [f64]),
    /// A list of words.
    SL(&'static [&'static str]),
}

impl DefaultValue {
    pub fn value(&self) -> ParamValue {
        match *self {
            DefaultValue::F(x) => ParamValue::Float(x),
            DefaultValue::I(i) => ParamValue::Int(i),
            DefaultValue::B(b) => ParamValue::Bool(b),
            DefaultValue::S(s) => ParamValue::Str(s.to_string()),
            DefaultValue::L(l) => ParamValue::IntList(l.to_vec()),
            DefaultValue::FL(l) => ParamValue::FloatList(l.to_vec()),
            DefaultValue::SL(l) => ParamValue::StrList(l.iter().map(|s| s.to_string()).collect()),
        }
    }
}

pub struct ParamSpec {
    pub name: &'static str,
    pub ty: ParamType,
    pub default: DefaultValue,
    pub help: &'static str,
}

/// A grid point's values by parameter name, defaults included.
pub type ParamValues = BTreeMap<String, ParamValue>;

/// A typed field read from a checked value; `None` when the value has the wrong type.
pub trait FromParam: Sized {
    fn from_param(value: &ParamValue) -> Option<Self>;
}

impl FromParam for f64 {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Float(x) => Some(*x),
            ParamValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl FromParam for usize {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Int(i) => usize::try_from(*i).ok(),
            _ => None,
        }
    }
}

impl FromParam for i64 {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl FromParam for u32 {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Int(i) => u32::try_from(*i).ok(),
            _ => None,
        }
    }
}

/// A [`ParamType::CountOrShare`] value.
#[derive(Debug, Clone, PartialEq)]
pub enum CountOrShare {
    Count(usize),
    Share(f64),
    Word(String),
}

impl FromParam for CountOrShare {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Int(i) => usize::try_from(*i).ok().map(CountOrShare::Count),
            ParamValue::Float(x) => Some(CountOrShare::Share(*x)),
            ParamValue::Str(s) => Some(CountOrShare::Word(s.clone())),
            _ => None,
        }
    }
}

impl FromParam for bool {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromParam for Vec<usize> {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::IntList(l) => l.iter().map(|&v| usize::try_from(v).ok()).collect(),
            ParamValue::Int(i) => usize::try_from(*i).ok().map(|v| vec![v]),
            _ => None,
        }
    }
}

impl FromParam for [f64; 2] {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::FloatList(l) if l.len() == 2 => Some([l[0], l[1]]),
            ParamValue::IntList(l) if l.len() == 2 => Some([l[0] as f64, l[1] as f64]),
            _ => None,
        }
    }
}

impl FromParam for Vec<String> {
    fn from_param(value: &ParamValue) -> Option<Self> {
        match value {
            ParamValue::StrList(l) => Some(l.clone()),
            ParamValue::IntList(l) if l.is_empty() => Some(Vec::new()),
            _ => None,
        }
    }
}

/// Reads one field of a params struct: the boundary where a name becomes a typed value.
pub fn field<T: FromParam>(values: &ParamValues, name: &str) -> Result<T, String> {
    let value = values.get(name).ok_or_else(|| format!("parameter `{name}` has no value"))?;
    T::from_param(value).ok_or_else(|| format!("parameter `{name}` = {value} has the wrong type ({})", kind_of(value)))
}

/// A params struct (or a kind's pair of them) read from a grid point's values, defaults
/// already filled in.
pub trait ReadParams: Sized {
    fn read_params(values: &ParamValues) -> Result<Self, String>;
}

impl<A: ReadParams, B: ReadParams> ReadParams for (A, B) {
    fn read_params(values: &ParamValues) -> Result<Self, String> {
        Ok((A::read_params(values)?, B::read_params(values)?))
    }
}

/// Declares a typed parameter struct and its catalog entries in one place: each line gives
/// a field's name, type, default, valid range and help, so the file's validation, `runner
/// models` and the trainer can never disagree about a parameter. The form `impl Path { .. }`
/// declares the catalog entries of a struct the `models` math owns (its settings, whose
/// fields the lines must name and type exactly: the compiler checks), so a kind's file
/// holds its parameters without `models` importing `kinds`.
macro_rules! params {
    ($(#[$meta:meta])* $name:ident {
        $( $field:ident : $ty:ty = $default:expr, $range:expr, $help:expr; )*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name { $( pub $field: $ty, )* }

        params! { impl $name { $( $field : $ty = $default, $range, $help; )* } }
    };
    (impl $name:ty {
        $( $field:ident : $ty:ty = $default:expr, $range:expr, $help:expr; )*
    }) => {
        impl $name {
            pub const SPECS: &'static [$crate::spec::value::ParamSpec] = &[$(
                $crate::spec::value::ParamSpec { name: stringify!($field), ty: $range, default: $default, help: $help },
            )*];

            /// Reads the struct from a grid point's values (defaults already filled in).
            pub fn read(_values: &$crate::spec::ParamValues) -> Result<Self, String> {
                Ok(Self { $( $field: $crate::spec::value::field::<$ty>(_values, stringify!($field))?, )* })
            }
        }

        impl $crate::spec::value::ReadParams for $name {
            fn read_params(values: &$crate::spec::ParamValues) -> Result<Self, String> {
                Self::read(values)
            }
        }
    };
}
pub(crate) use params;

/// A choice parameter: an enum whose snake_case variant names are the words the file uses.
macro_rules! choice_param {
    ($($ty:ty),*) => {$(
        impl FromParam for $ty {
            fn from_param(value: &ParamValue) -> Option<Self> {
                match value {
                    ParamValue::Str(s) => s.parse().ok(),
                    _ => None,
                }
            }
        }
    )*};
}
pub(crate) use choice_param;
