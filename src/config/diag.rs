//! Config diagnostics: every problem in an experiment file, each with `file:line:column`.

use std::fmt;
use std::ops::Range;

/// One problem found in an experiment file (or a `--set` override).
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Where the problem is: `path:line:column`, or `--set KEY=VALUE` for overrides.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A text the spans point into, with its display name.
pub struct Source<'a> {
    pub name: String,
    pub text: &'a str,
}

impl Source<'_> {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    pub fn locate(&self, span: &Range<usize>) -> String {
        let (line, col) = self.line_col(span.start);
        format!("{}:{}:{}", self.name, line, col)
    }
}

/// Collects diagnostics so that every error in a file is reported at once.
pub struct Diagnostics<'a> {
    pub source: Source<'a>,
    /// `--set` overrides; their values carry spans from [`OVERRIDE_BASE`] on.
    pub overrides: Vec<String>,
    pub errors: Vec<(usize, Diagnostic)>,
}

/// Spans of `--set` values start here (override `i` at `OVERRIDE_BASE + i * OVERRIDE_STRIDE`),
/// so a diagnostic can tell them from spans into the file.
pub const OVERRIDE_BASE: usize = 1 << 40;
pub const OVERRIDE_STRIDE: usize = 1 << 20;

impl<'a> Diagnostics<'a> {
    pub fn new(source: Source<'a>) -> Self {
        Diagnostics { source, overrides: Vec::new(), errors: Vec::new() }
    }

    pub fn locate(&self, span: &Range<usize>) -> String {
        if span.start >= OVERRIDE_BASE {
            let i = (span.start - OVERRIDE_BASE) / OVERRIDE_STRIDE;
            let text = self.overrides.get(i).map_or("?", String::as_str);
            format!("--set {text}")
        } else {
            self.source.locate(span)
        }
    }

    pub fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        let location = self.locate(span);
        self.errors.push((span.start, Diagnostic { location, message: message.into() }));
    }

    /// The diagnostics in file order.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.errors.sort_by_key(|(offset, _)| *offset);
        self.errors.dedup_by(|a, b| a.1 == b.1);
        self.errors.into_iter().map(|(_, d)| d).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let s = Source { name: "f.toml".into(), text: "a = 1\nbé = 2\n" };
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(6), (2, 1));
        assert_eq!(s.line_col(10), (2, 4));
    }
}
