//! What a catalog entry says about a model kind (engine, task, parameters): the vocabulary
//! of `runner models` and of the experiment file's validation. Each kind's entry lives in
//! its own file (`src/kinds/`), and `kinds::KINDS` lists them.

use super::value::{DefaultValue, ParamSpec};
use serde::Serialize;
use strum::{EnumString, IntoStaticStr, VariantArray};

/// Declares `ModelKind` from the registry's table: one variant per kind, named in the file
/// and the report by its snake_case module name.
macro_rules! model_kinds {
    ($($kind:ident $module:ident,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, EnumString, IntoStaticStr, VariantArray)]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum ModelKind {
            $($kind,)*
        }
    };
}
super::registry::registry!(model_kinds);

impl ModelKind {
    /// The kind's name in the experiment file and the report.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSupport {
    Regression,
    Classification,
    /// Regression or classification, chosen by the task.
    Both,
}

/// A model's preprocessing step as the catalog lists it (`preprocess::steps::STEPS`): the
/// file names it in `steps = [...]` and sets its parameters as `<name>.<param>`.
pub struct StepEntry {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamSpec],
}

impl StepEntry {
    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// What the experiment file is checked against: the model kinds, the steps and a regression
/// model's `target` transform (all a later layer's, handed to `config`).
#[derive(Clone, Copy)]
pub struct Catalog {
    pub kinds: &'static [KindSpec],
    pub steps: &'static [StepEntry],
    pub target: &'static ParamSpec,
}

pub struct KindSpec {
    pub kind: ModelKind,
    pub engine: &'static str,
    pub task: TaskSupport,
    pub summary: &'static str,
    /// The kind's parameter declarations, group by group.
    pub groups: &'static [&'static [ParamSpec]],
    /// Defaults that differ from the declarations' (the MLP's optimizer settings).
    pub defaults: &'static [(&'static str, DefaultValue)],
    /// What model.json holds for a refitted model of this kind (docs/MODEL.md).
    pub saves: &'static str,
}

impl KindSpec {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    pub fn params(&self) -> impl Iterator<Item = &'static ParamSpec> {
        self.groups.iter().flat_map(|g| g.iter())
    }

    pub fn param(&self, name: &str) -> Option<&'static ParamSpec> {
        self.params().find(|p| p.name == name)
    }

    /// A parameter's default for this kind.
    pub fn default_of(&self, p: &ParamSpec) -> DefaultValue {
        self.defaults.iter().find(|(name, _)| *name == p.name).map_or(p.default, |&(_, d)| d)
    }
}

/// The entry of the kind named `name` in `catalog`.
pub fn find<'c>(catalog: &'c [KindSpec], name: &str) -> Option<&'c KindSpec> {
    catalog.iter().find(|k| k.name() == name)
}
