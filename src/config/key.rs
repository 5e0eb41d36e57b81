//! Typed paths to the keys of an experiment file, and where each sits: an error found once
//! the data is read names `file:line:column` through a [`Key`], never a dotted string.

use super::dataset::DatasetKey;
use super::model::ModelKey;
use super::preprocess::{ColumnKey, OneHotKey, PreprocessKey};
use super::report::ReportKey;
use super::search::SearchKey;
use super::split::SplitKey;
use super::TopKey;
use std::collections::BTreeMap;

/// A key of the file, by the tables it sits in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Top(TopKey),
    Dataset(DatasetKey),
    Preprocess(PreprocessKey),
    OneHot(OneHotKey),
    /// `[preprocess.columns.NAME]`: the column's name.
    Column(String),
    /// A key of `[preprocess.columns.NAME]`.
    ColumnRule(String, ColumnKey),
    Split(SplitKey),
    /// A key of `[split.outer]`.
    Outer(SplitKey),
    Search(SearchKey),
    Report(ReportKey),
    /// A key of the `[[model]]` with this name.
    Model(String, ModelKey),
    /// A parameter of the `[[model]]` with this name.
    Param(String, &'static str),
}

macro_rules! key_from {
    ($($section:ty => $variant:ident),*) => {$(
        impl From<$section> for Key {
            fn from(k: $section) -> Key {
                Key::$variant(k)
            }
        }
    )*};
}
key_from!(TopKey => Top, DatasetKey => Dataset, PreprocessKey => Preprocess, OneHotKey => OneHot,
    SplitKey => Split, SearchKey => Search, ReportKey => Report);

/// Where a key is: its value (`given`), or the table it was left out of.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub at: String,
    pub given: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Locations(BTreeMap<Key, Location>);

impl Locations {
    pub fn get(&self, key: &Key) -> Option<&Location> {
        self.0.get(key)
    }

    pub(super) fn contains(&self, key: &Key) -> bool {
        self.0.contains_key(key)
    }

    pub(super) fn insert(&mut self, key: Key, at: Location) {
        self.0.insert(key, at);
    }
}
