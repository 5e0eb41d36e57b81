//! The one place a config key is declared and read. Each section declares its keys once
//! with [`keys!`] (name, type with its range or choices, default, help); the parser reads a
//! table through a [`Reader`] (the shape of toml-span's `TableHelper`: `required`,
//! `or_default`, `optional`, and every key it does not declare reported, with a did-you-mean),
//! and `runner schema` describes the same declarations. Every key read records its place
//! under a typed [`Key`], so a later error's location cannot name a key the parser never saw.

use super::diag::Diagnostics;
use super::key::{Key, Location, Locations};
use crate::suggest::suggestion;
use std::cell::RefCell;
use std::ops::Range;
use strum::VariantArray;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// What a key holds: how the parser checks it and how the schema describes it.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    /// A name of letters, digits, `-` and `_` (it names a folder or files).
    Name,
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// One of the words (an enum's `name()`s).
    Choice(fn() -> Vec<&'static str>),
    StrList,
    /// A list of the words, at least `min_items` of them.
    ChoiceList {
        words: fn() -> Vec<&'static str>,
        min_items: usize,
    },
    /// `true`, `false` or `"auto"`.
    Streaming,
    /// A finite number or a string.
    FillValue,
    /// A positive number: a fraction or a row count.
    TestSize,
    /// `"exhaust"`, `"smallest"` or a row count.
    MinResources,
    /// A row count >= 1 or a fraction in (0, 1].
    SampleSize,
    /// A non-empty list of [`Ty::SampleSize`].
    SampleSizes,
    /// A table whose keys are declared by its own section.
    Table,
    /// `[[model]]`: an array of tables.
    Models,
}

/// A key's value when the file does not give it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyDefault {
    /// The file must give it.
    Required,
    /// None, or one that depends on other keys (said in the help and docs/SPEC.md).
    Absent,
    Num(i64),
    Flag(bool),
    Word(&'static str),
    Words(&'static [&'static str]),
}

/// One declared key.
#[derive(Debug, Clone, Copy)]
pub struct KeyDecl {
    pub name: &'static str,
    pub ty: Ty,
    pub default: KeyDefault,
    pub help: &'static str,
}

/// A table's declared keys: an enum with one variant per key.
pub trait Section: Copy + 'static {
    const ALL: &'static [Self];
    fn decl(self) -> KeyDecl;
}

/// The words of a config enum, for [`Ty::Choice`].
pub fn words<T: Copy + VariantArray + Into<&'static str>>() -> Vec<&'static str> {
    T::VARIANTS.iter().map(|&v| v.into()).collect()
}

/// Declares a section's keys: `Variant = "name": type, default, "help";`, once.
macro_rules! keys {
    ($(#[$doc:meta])* pub enum $name:ident {
        $($(#[$vdoc:meta])* $variant:ident = $key:literal : $ty:expr, $default:expr, $help:literal;)*
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $crate::config::reader::Section for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),*];
            fn decl(self) -> $crate::config::reader::KeyDecl {
                use $crate::config::reader::{KeyDefault::*, Ty::*};
                #[allow(unused_imports)]
                use $crate::config::reader::words;
                match self {
                    $(Self::$variant => $crate::config::reader::KeyDecl {
                        name: $key, ty: $ty, default: $default, help: $help,
                    },)*
                }
            }
        }
    };
}
pub(crate) use keys;

/// The diagnostics and the locations, shared by every reader of one file.
pub(super) struct Cx<'a> {
    d: RefCell<Diagnostics<'a>>,
    locations: RefCell<Locations>,
}

impl<'a> Cx<'a> {
    pub fn new(d: Diagnostics<'a>) -> Self {
        Cx { d: RefCell::new(d), locations: RefCell::new(Locations::default()) }
    }

    pub fn err(&self, span: &Range<usize>, message: impl Into<String>) {
        self.d.borrow_mut().error(span, message);
    }

    pub fn line(&self, offset: usize) -> usize {
        self.d.borrow().source.line_col(offset).0
    }

    /// Records where `key` is: its value's span, or (`given = false`) its table's, where its
    /// default applies.
    pub fn record(&self, key: Key, span: &Range<usize>, given: bool) {
        let at = self.d.borrow().locate(span);
        let mut locations = self.locations.borrow_mut();
        if given || !locations.contains(&key) {
            locations.insert(key, Location { at, given });
        }
    }

    pub fn into_diagnostics(self) -> Diagnostics<'a> {
        self.d.into_inner()
    }

    pub fn take_locations(&self) -> Locations {
        std::mem::take(&mut self.locations.borrow_mut())
    }
}

/// How a value found in the file is read as `T`; the error is the message's tail after
/// "`key` in [table] " (with its span).
pub(super) trait Get: Sized {
    fn get(v: &Value<'_>, ty: Ty) -> Result<Self, Vec<(Range<usize>, String)>>;
    fn default(d: KeyDefault) -> Option<Self>;
}

fn wrong(v: &Value<'_>, expected: &str) -> Vec<(Range<usize>, String)> {
    vec![(v.span(), format!("must be {expected}, found {}", type_name(v.get_ref())))]
}

impl Get for String {
    fn get(v: &Value<'_>, _: Ty) -> Result<Self, Vec<(Range<usize>, String)>> {
        v.get_ref().as_str().map(str::to_string).ok_or_else(|| wrong(v, "a string"))
    }
    fn default(d: KeyDefault) -> Option<Self> {
        match d {
            KeyDefault::Word(s) => Some(s.to_string()),
            _ => None,
        }
    }
}

impl Get for bool {
    fn get(v: &Value<'_>, _: Ty) -> Result<Self, Vec<(Range<usize>, String)>> {
        match v.get_ref() {
            DeValue::Boolean(b) => Ok(*b),
            _ => Err(wrong(v, "true or false")),
        }
    }
    fn default(d: KeyDefault) -> Option<Self> {
        match d {
            KeyDefault::Flag(b) => Some(b),
            _ => None,
        }
    }
}

impl Get for i64 {
    fn get(v: &Value<'_>, ty: Ty) -> Result<Self, Vec<(Range<usize>, String)>> {
        let Ty::Int { min, max } = ty else { return Err(wrong(v, "an integer")) };
        match int_of(v.get_ref()) {
            Some(i) if (min..=max).contains(&i) => Ok(i),
            Some(i) => Err(vec![(v.span(), format!("must be between {min} and {max}, found {i}"))]),
            None if matches!(v.get_ref(), DeValue::Integer(_)) => Err(vec![(
                v.span(),
                format!("must be between {min} and {max}; this integer does not even fit in 64 bits"),
            )]),
            None => Err(wrong(v, "an integer")),
        }
    }
    fn default(d: KeyDefault) -> Option<Self> {
        match d {
            KeyDefault::Num(i) => Some(i),
            _ => None,
        }
    }
}

impl Get for Vec<String> {
    fn get(v: &Value<'_>, _: Ty) -> Result<Self, Vec<(Range<usize>, String)>> {
        let DeValue::Array(items) = v.get_ref() else { return Err(wrong(v, "an array of strings")) };
        let mut errors = Vec::new();
        let mut out = Vec::new();
        for item in items.iter() {
            match item.get_ref().as_str() {
                Some(s) => out.push(s.to_string()),
                None => errors.push((item.span(), format!("must hold strings, found {}", type_name(item.get_ref())))),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
    fn default(d: KeyDefault) -> Option<Self> {
        match d {
            KeyDefault::Words(l) => Some(l.iter().map(|s| s.to_string()).collect()),
            _ => None,
        }
    }
}

/// `k`'s declared default as `T`.
pub(super) fn declared<T: Get, K: Section>(k: K) -> Option<T> {
    T::default(k.decl().default)
}

/// `k`'s declared default word as one of `T`'s.
pub(super) fn declared_choice<T, K: Section>(k: K) -> Option<T>
where
    T: Copy + VariantArray + Into<&'static str>,
{
    match k.decl().default {
        KeyDefault::Word(d) => choice_of(d),
        _ => None,
    }
}

/// One of a config enum's words.
pub(super) fn choice_of<T: Copy + VariantArray + Into<&'static str>>(word: &str) -> Option<T> {
    T::VARIANTS.iter().copied().find(|v| Into::<&str>::into(*v) == word)
}

/// A table being read: the keys of section `K` (and any names it is told to allow); every
/// other key in it is reported, with a did-you-mean, when the reader is dropped, so an
/// early return after an error cannot skip them.
pub(super) struct Reader<'r, 'a, K: Section> {
    cx: &'r Cx<'a>,
    table: &'r DeTable<'r>,
    pub span: Range<usize>,
    /// How errors name it: `[dataset]`, `[[model]] \`ridge\``.
    pub label: String,
    path: Box<dyn Fn(K) -> Key + 'r>,
    /// Names it allows besides `K`'s (a model kind's parameters), and what the unknown-key
    /// error adds after the label (` (kind ridge)`).
    also: Vec<&'static str>,
    note: String,
    done: bool,
}

impl<'r, 'a, K: Section> Reader<'r, 'a, K> {
    /// `v` as a table (an error naming `label` if it is not one).
    pub fn of(
        cx: &'r Cx<'a>,
        v: &'r Value<'r>,
        label: impl Into<String>,
        path: impl Fn(K) -> Key + 'r,
    ) -> Option<Self> {
        let label = label.into();
        match v.get_ref() {
            DeValue::Table(t) => Some(Self::new(cx, t, v.span(), label, path)),
            other => {
                cx.err(&v.span(), format!("{label} must be a table, found {}", type_name(other)));
                None
            }
        }
    }

    pub fn new(
        cx: &'r Cx<'a>,
        table: &'r DeTable<'r>,
        span: Range<usize>,
        label: String,
        path: impl Fn(K) -> Key + 'r,
    ) -> Self {
        let path = Box::new(path);
        Reader { cx, table, span, label, path, also: Vec::new(), note: String::new(), done: false }
    }

    pub fn cx(&self) -> &'r Cx<'a> {
        self.cx
    }

    pub fn table(&self) -> &'r DeTable<'r> {
        self.table
    }

    /// Allows `names` besides the declared keys (a kind's parameters); `note` follows
    /// the label in an unknown key's error.
    pub fn allow(&mut self, names: impl IntoIterator<Item = &'static str>, note: String) {
        self.also.extend(names);
        self.note = note;
    }

    pub fn has(&self, k: K) -> bool {
        self.table.get(k.decl().name).is_some()
    }

    /// The value of `k` if given, marked read and its place recorded.
    pub fn value(&mut self, k: K) -> Option<&'r Value<'r>> {
        let name = k.decl().name;
        let v = self.table.get(name)?;
        self.cx.record((self.path)(k), &v.span(), true);
        Some(v)
    }

    /// An error about key `k`: "`k` in [table] {tail}".
    pub fn err(&self, k: K, span: &Range<usize>, tail: &str) {
        self.cx.err(span, format!("`{}` in {} {tail}", k.decl().name, self.label));
    }

    /// `k`'s value read as `T`, if given (`Some(None)` when not, `None` after an error).
    pub fn optional<T: Get>(&mut self, k: K) -> Option<Option<T>> {
        self.optional_as(k, k.decl().ty)
    }

    /// `optional` with a type narrower than the declared one (a row count where the key
    /// also takes fractions).
    pub fn optional_as<T: Get>(&mut self, k: K, ty: Ty) -> Option<Option<T>> {
        let Some(v) = self.value(k) else { return Some(None) };
        match T::get(v, ty) {
            Ok(x) => Some(Some(x)),
            Err(errors) => {
                for (span, tail) in errors {
                    self.err(k, &span, &tail);
                }
                None
            }
        }
    }

    /// `k`'s value, or its declared default.
    pub fn or_default<T: Get>(&mut self, k: K) -> Option<T> {
        // A declaration whose default does not read as its type is caught by the unit tests.
        self.optional(k)?.or_else(|| declared(k))
    }

    /// `k`'s value, which the file must give.
    pub fn required<T: Get>(&mut self, k: K) -> Option<T> {
        if !self.has(k) {
            let message = format!("{} is missing the required key `{}`", self.label, k.decl().name);
            self.cx.err(&self.span, message);
            return None;
        }
        self.optional(k)?
    }

    /// One of an enum's words, if given (`Some(None)` when not, `None` after an error).
    pub fn optional_choice<T>(&mut self, k: K) -> Option<Option<T>>
    where
        T: Copy + VariantArray + Into<&'static str>,
    {
        let Some(word) = self.optional::<String>(k)? else { return Some(None) };
        let found = choice_of(&word);
        if found.is_none() {
            let names = words::<T>();
            let hint = suggestion(&word, names.iter().copied());
            let span = self.table.get(k.decl().name).map_or(self.span.clone(), |v| v.span());
            self.err(k, &span, &format!("must be one of {}; `{word}` is not{hint}", names.join(", ")));
        }
        found.map(Some)
    }

    /// One of an enum's words, or its declared default.
    pub fn choice<T>(&mut self, k: K) -> Option<T>
    where
        T: Copy + VariantArray + Into<&'static str>,
    {
        self.optional_choice(k)?.or_else(|| declared_choice(k))
    }

    /// Reports nothing more about this table.
    pub fn skip_all(&mut self) {
        self.done = true;
    }

    fn known(&self) -> Vec<&'static str> {
        K::ALL.iter().map(|k| k.decl().name).chain(self.also.iter().copied()).collect()
    }
}

impl<K: Section> Drop for Reader<'_, '_, K> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let known = self.known();
        for (k, _) in self.table.iter() {
            let key: &str = k.get_ref();
            if !known.contains(&key) {
                let hint = suggestion(key, known.iter().copied());
                self.cx.err(&k.span(), format!("unknown key `{key}` in {}{}{hint}", self.label, self.note));
            }
        }
        // A key the file leaves out is located at its table (the root has no place of its own).
        if self.span != (0..0) {
            for &k in K::ALL {
                if !self.has(k) {
                    self.cx.record((self.path)(k), &self.span, false);
                }
            }
        }
    }
}

pub(super) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

pub(super) fn int_of(v: &DeValue<'_>) -> Option<i64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok(),
        _ => None,
    }
}

pub(super) fn float_of(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        DeValue::Integer(_) => int_of(v).map(|i| i as f64),
        _ => None,
    }
}
