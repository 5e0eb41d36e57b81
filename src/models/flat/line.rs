//! A tree line of model.json read without serde: the nodes exactly as runner writes them
//! (`[{"split":{"feature":2,"threshold":0.5,"left":1,"right":2}},{"leaf":[1.0,0.0]}]`, no
//! whitespace, keys in that order). Anything else, and any number that is not plainly one
//! serde_json reads the same way, gives `None`, and the line is read by serde (its value or its
//! error). Three times quicker than serde on a 500-tree forest (BENCHMARKS.md).

use super::FlatTree;

/// The longest number read here; a longer one (runner writes at most 24 characters) goes to serde.
const MAX_NUMBER: usize = 40;

impl FlatTree {
    /// The tree a line holds, when it is written as runner writes it; the same tree as
    /// `serde_json::from_str` gives, with the same node checks (`NodeSeed`).
    pub fn from_line(line: &str) -> Option<FlatTree> {
        let mut text = Text(line);
        let mut tree = FlatTree::default();
        text.eat("[")?;
        if text.eat("]").is_some() {
            return text.0.is_empty().then_some(tree);
        }
        loop {
            below_u32(tree.nodes.len() as u64)?;
            if text.eat(r#"{"split":{"feature":"#).is_some() {
                let feature = text.index()?;
                text.eat(r#","threshold":"#)?;
                let threshold = text.float()?;
                text.eat(r#","left":"#)?;
                let left = text.index()?;
                text.eat(r#","right":"#)?;
                let right = text.index()?;
                text.eat("}}")?;
                tree.push_split(feature, threshold, left, right);
            } else {
                text.eat(r#"{"leaf":["#)?;
                let start = tree.values.len();
                below_u32(start as u64)?;
                if text.eat("]").is_none() {
                    loop {
                        tree.values.push(text.float()?);
                        if text.eat(",").is_none() {
                            break;
                        }
                    }
                    text.eat("]")?;
                }
                below_u32(tree.values.len() as u64)?;
                text.eat("}")?;
                tree.push_leaf(start);
            }
            if text.eat(",").is_none() {
                text.eat("]")?;
                return text.0.is_empty().then_some(tree);
            }
        }
    }
}

/// `v` when it is below `u32::MAX`, as `NodeSeed` requires of ids, features and value offsets.
fn below_u32(v: u64) -> Option<u32> {
    u32::try_from(v).ok().filter(|&v| v < u32::MAX)
}

/// The rest of a line.
struct Text<'a>(&'a str);

impl Text<'_> {
    /// Steps over `token`, if the text starts with it.
    fn eat(&mut self, token: &str) -> Option<()> {
        self.0 = self.0.strip_prefix(token)?;
        Some(())
    }

    /// A number in JSON's form (`-`? then `0` or digits not starting with 0, then `.` and digits?, then
    /// `e` or `E`, a sign? and digits?), stepped over, and whether it is a whole number (no fraction
    /// or exponent); `None` for anything else or anything longer than `MAX_NUMBER`.
    fn number(&mut self) -> Option<(&str, bool)> {
        let bytes = self.0.as_bytes();
        let digits = |from: usize| from + bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
        let sign = usize::from(bytes.first() == Some(&b'-'));
        let mut end = digits(sign);
        if end == sign || (bytes[sign] == b'0' && end > sign + 1) {
            return None;
        }
        let whole = end;
        if bytes.get(end) == Some(&b'.') {
            let at = end + 1;
            end = digits(at);
            (end > at).then_some(())?;
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            let at = end + 1 + usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
            end = digits(at);
            (end > at).then_some(())?;
        }
        (end <= MAX_NUMBER).then_some(())?;
        let (number, rest) = self.0.split_at(end);
        self.0 = rest;
        Some((number, end == whole))
    }

    /// A whole number (no sign) below `u32::MAX`.
    fn index(&mut self) -> Option<u32> {
        match self.number()? {
            (digits, true) if !digits.starts_with('-') => below_u32(digits.parse().ok()?),
            _ => None,
        }
    }

    /// A finite number, correctly rounded as serde_json's `float_roundtrip` reads it; a negative
    /// whole number (serde_json reads `-0` as an integer) is left to serde.
    fn float(&mut self) -> Option<f64> {
        match self.number()? {
            ("0.0", _) => Some(0.0),
            ("1.0", _) => Some(1.0),
            (number, whole) if !(whole && number.starts_with('-')) => {
                number.parse::<f64>().ok().filter(|v| v.is_finite())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line reads here as serde reads it, or here not at all.
    #[test]
    fn a_tree_line_reads_as_serde_reads_it_or_is_left_to_serde() {
        let written = [
            r#"[{"split":{"feature":2,"threshold":0.056183112785220146,"left":1,"right":2}},{"leaf":[1.0,0.0]},{"leaf":[0.25,0.75]}]"#,
            r#"[{"split":{"feature":0,"threshold":-1e-7,"left":1,"right":2}},{"leaf":[3.5e300]},{"leaf":[-0.0]}]"#,
            r#"[{"split":{"feature":0,"threshold":1,"left":2,"right":1}},{"leaf":[1,0]},{"leaf":[]}]"#,
            r#"[{"leaf":[5e-324,1.7976931348623157e308,0.30000000000000004,2.5E+3]}]"#,
            "[]",
        ];
        for line in written {
            let fast = FlatTree::from_line(line).expect(line);
            assert_eq!(Some(&fast), serde_json::from_str::<FlatTree>(line).ok().as_ref(), "{line}");
        }
        // Another shape, a number serde reads otherwise (or refuses), or a check that fails: serde's.
        let left = [
            r#"[{"split": {"feature":0,"threshold":0.5,"left":1,"right":2}}]"#,
            r#"[{"split":{"threshold":0.5,"feature":0,"left":1,"right":2}}]"#,
            r#"[{"split":{"feature":0,"threshold":0.5,"left":1,"right":2,"x":1}}]"#,
            r#"[{"split":{"feature":01,"threshold":0.5,"left":1,"right":2}}]"#,
            r#"[{"split":{"feature":1.0,"threshold":0.5,"left":1,"right":2}}]"#,
            r#"[{"split":{"feature":4294967295,"threshold":0.5,"left":1,"right":2}}]"#,
            r#"[{"split":{"feature":0,"threshold":1e400,"left":1,"right":2}}]"#,
            r#"[{"split":{"feature":0,"threshold":.5,"left":1,"right":2}}]"#,
            r#"[{"split":{"feature":0,"threshold":0.5e,"left":1,"right":2}}]"#,
            r#"[{"leaf":[-0]}]"#,
            r#"[{"leaf":[1.0],"split":{}}]"#,
            r#"[{"leaf":[1.0,]}]"#,
            r#"[{"leaf":[1.0]}] "#,
            r#"[{"leaf":[1.0]}],"#,
            r#"[{"leaf":[1.0]},]"#,
            r#"[{"leaf":[0.000000000000000000000000000000000000000000001]}]"#,
        ];
        for line in left {
            assert_eq!(FlatTree::from_line(line), None, "{line}");
        }
    }
}
