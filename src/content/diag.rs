//! Diagnostics for content files: every problem found in one pass, each with its file, line and
//! column and what to write instead.
//!
//! A problem is recorded against a *path* inside the document (`nodes[3].address`); the path is
//! turned into a line by walking the spanned parse tree, so validators never handle byte offsets.
//! Must not: decide what is valid (that is the schema modules' job).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

/// Where each key and value of a document sits (byte offsets), kept after parsing.
enum Tree {
    Table(Vec<(String, usize, usize, Tree)>),
    Array(Vec<(usize, Tree)>),
    Leaf,
}

impl Tree {
    fn from_value(v: &DeValue<'_>) -> Tree {
        match v {
            DeValue::Table(t) => Tree::from_table(t),
            DeValue::Array(a) => Tree::Array(
                a.iter()
                    .map(|e| (e.span().start, Tree::from_value(e.get_ref())))
                    .collect(),
            ),
            _ => Tree::Leaf,
        }
    }
    fn from_table(t: &DeTable<'_>) -> Tree {
        Tree::Table(
            t.iter()
                .map(|(k, v)| {
                    (
                        k.get_ref().to_string(),
                        k.span().start,
                        v.span().start,
                        Tree::from_value(v.get_ref()),
                    )
                })
                .collect(),
        )
    }
}

/// One step into a TOML document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Where a value sits in a document, e.g. `nodes[3].address`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocPath(pub Vec<Seg>);

impl DocPath {
    pub fn root() -> Self {
        DocPath(Vec::new())
    }
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    /// Each item of the list `key` below this place, with its own place (`key[i]`).
    pub fn items<'a, T>(
        &self,
        key: &str,
        items: &'a [T],
    ) -> impl Iterator<Item = (DocPath, &'a T)> + use<'a, T> {
        let list = self.key(key);
        items
            .iter()
            .enumerate()
            .map(move |(i, x)| (list.index(i), x))
    }
}

impl fmt::Display for DocPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// One problem in one file.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(h) = &self.help {
            write!(f, "\n    help: {h}")?;
        }
        Ok(())
    }
}

/// All the problems of a content check, shown together.
#[derive(Debug, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "{n} problem{} in content:",
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.0 {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

/// A content file being read: its text, its spanned tree, and the problems found so far.
pub struct Doc {
    pub path: PathBuf,
    pub text: String,
    tree: Option<Tree>,
    pub problems: Vec<Diagnostic>,
}

impl Doc {
    /// Read a whole content file: parse it, deserialize it into `T` (unknown fields get a
    /// did-you-mean from `fields_at`) and, when it has the right shape, `check` it. The value
    /// when nothing was found, else every problem.
    pub fn load<T>(
        path: &Path,
        text: String,
        fields_at: impl Fn(&DocPath) -> &'static [&'static str],
        check: impl FnOnce(&T, &mut Doc),
    ) -> Result<T, Diagnostics>
    where
        T: for<'de> Deserialize<'de>,
    {
        let mut doc = Doc::parse(path, text);
        let value: Option<T> = doc.deserialize(fields_at);
        if let Some(v) = &value {
            check(v, &mut doc);
        }
        let value = value.filter(|_| doc.problems.is_empty());
        doc.finish()
            .map(|()| value.expect("no problems means a value"))
    }

    /// Parse `text` (syntax errors become diagnostics; the tree is then absent).
    pub fn parse(path: &Path, text: String) -> Doc {
        let mut doc = Doc {
            path: path.to_path_buf(),
            text,
            tree: None,
            problems: Vec::new(),
        };
        match DeTable::parse(&doc.text) {
            Ok(t) => doc.tree = Some(Tree::from_table(t.get_ref())),
            Err(e) => {
                let (at, message, help) = syntax_problem(&doc.text, &e);
                doc.push_at(at, message, Some(help));
            }
        }
        doc
    }

    #[cfg(test)]
    pub(crate) fn is_parsed(&self) -> bool {
        self.tree.is_some()
    }

    /// Deserialize the document into `T`, recording unknown fields (with a did-you-mean drawn
    /// from `fields_at`) and shape errors. Returns `None` when the shape is wrong.
    pub fn deserialize<T>(
        &mut self,
        fields_at: impl Fn(&DocPath) -> &'static [&'static str],
    ) -> Option<T>
    where
        T: for<'de> Deserialize<'de>,
    {
        self.tree.as_ref()?;
        let mut unknown: Vec<DocPath> = Vec::new();
        let de = toml::de::Deserializer::parse(&self.text).ok()?;
        let result: Result<T, _> =
            serde_ignored::deserialize(de, |p| unknown.push(to_doc_path(&p)));
        for path in unknown {
            let (parent, name) = match path.0.last() {
                Some(Seg::Key(k)) => (DocPath(path.0[..path.0.len() - 1].to_vec()), k.clone()),
                _ => continue,
            };
            let allowed = fields_at(&parent);
            let help = match did_you_mean(&name, allowed.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "known fields here: {}",
                    allowed
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            self.error_key(&path, format!("unknown field `{name}`"), Some(help));
        }
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                let at = e.span().map(|s| s.start).unwrap_or(0);
                let message = e.message().trim().to_string();
                let help = shape_help(&message);
                self.push_at(at, message, Some(help));
                None
            }
        }
    }

    /// Record a problem located at the value found at `path` (or its nearest existing parent).
    pub fn error(&mut self, path: &DocPath, message: impl Into<String>, help: Option<String>) {
        let at = self.locate(path, false);
        self.push_at(at, message.into(), help);
    }

    /// Record a problem unless `value` is finite and within `range`: every number that becomes a
    /// duration or a count goes through here. `help` says what to write instead.
    pub fn number_in(
        &mut self,
        path: &DocPath,
        value: f64,
        range: impl std::ops::RangeBounds<f64>,
        help: impl Into<String>,
    ) -> bool {
        if value.is_finite() && range.contains(&value) {
            return true;
        }
        use std::ops::Bound;
        let bound = |b: Bound<&f64>, incl: &str, excl: &str| match b {
            Bound::Included(x) => Some(format!("{incl} {x}")),
            Bound::Excluded(x) => Some(format!("{excl} {x}")),
            Bound::Unbounded => None,
        };
        let rule: Vec<String> = [
            bound(range.start_bound(), ">=", ">"),
            bound(range.end_bound(), "<=", "<"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let name = match path.0.last() {
            Some(Seg::Key(k)) => format!("`{k}`"),
            _ => "this number".to_string(),
        };
        let message = if value.is_finite() {
            format!(
                "{name} is {value}, out of range (must be {})",
                rule.join(" and ")
            )
        } else {
            format!("{name} is {value}: not a finite number")
        };
        self.error(path, message, Some(help.into()));
        false
    }

    /// Like [`Doc::error`] but points at the key itself (for unknown fields).
    fn error_key(&mut self, path: &DocPath, message: String, help: Option<String>) {
        let at = self.locate(path, true);
        self.push_at(at, message, help);
    }

    /// Record a problem at no particular place in the file.
    pub fn error_file(&mut self, message: impl Into<String>, help: Option<String>) {
        self.push_at(0, message.into(), help);
    }

    fn push_at(&mut self, offset: usize, message: String, help: Option<String>) {
        let (line, column) = line_col(&self.text, offset);
        self.problems.push(Diagnostic {
            file: self.path.clone(),
            line,
            column,
            message,
            help,
        });
    }

    /// Byte offset of the value at `path`; of its key when `key` is set.
    fn locate(&self, path: &DocPath, key: bool) -> usize {
        let Some(mut cur) = self.tree.as_ref() else {
            return 0;
        };
        let mut at = 0;
        for seg in &path.0 {
            match (seg, cur) {
                (Seg::Key(k), Tree::Table(entries)) => {
                    let Some((_, ks, vs, v)) = entries.iter().find(|e| &e.0 == k) else {
                        break;
                    };
                    at = if key { *ks } else { *vs };
                    cur = v;
                }
                (Seg::Index(i), Tree::Array(items)) => {
                    let Some((vs, v)) = items.get(*i) else { break };
                    at = *vs;
                    cur = v;
                }
                _ => break,
            }
        }
        at
    }

    /// The problems found, or `Ok` when there were none.
    pub fn finish(self) -> Result<(), Diagnostics> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Diagnostics(self.problems))
        }
    }
}

/// What to write instead, for a value of the wrong shape (serde's messages name what was expected).
fn shape_help(message: &str) -> String {
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        format!("add `{field} = ...` to this table")
    } else if let Some((_, expected)) = message.rsplit_once(", expected ") {
        let kind = match expected.trim() {
            "u8" => "a whole number from 0 to 255",
            "u16" => "a whole number from 0 to 65535",
            "u32" | "u64" | "usize" => "a whole number, 0 or more",
            "i8" | "i16" | "i32" | "i64" => "a whole number",
            "f32" | "f64" => "a number",
            "a sequence" => "a list, `[...]`",
            "a map" => "a table",
            e if e.starts_with("struct ") => "a table",
            e => e,
        };
        format!("write {kind} here")
    } else {
        "write the kind of value this field takes".to_string()
    }
}

/// Where a TOML syntax error really is, what is wrong and what to write instead.
///
/// toml reports an unterminated string where it noticed (the start of the next line, or the end
/// of the file), and a duplicate key without its name: both are put right here.
fn syntax_problem(text: &str, e: &toml::de::Error) -> (usize, String, String) {
    let span = e.span().unwrap_or(0..0);
    let at = floor_char_boundary(text, span.start);
    let message = e.message().trim().to_string();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    if message.starts_with("duplicate key") {
        let header = line.trim_start().starts_with('[');
        let key = if header {
            // The whole table name, `roles.lb` rather than `lb`.
            line.trim_start()
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
        } else {
            text.get(span.clone()).unwrap_or("").trim()
        };
        let help = if header {
            format!(
                "a table is defined once: merge the two `[{key}]` sections, or write `[[{key}]]` \
                 for each entry of a list"
            )
        } else {
            format!("a key appears once in its table: remove or rename one of the `{key}`s")
        };
        return (at, format!("duplicate key `{key}`"), help);
    }
    if message.contains("string") && !message.starts_with("string values must be quoted") {
        let quote = if message.contains("basic") { '"' } else { '\'' };
        let opened = unterminated_string(text, at).unwrap_or(at);
        let multi = message.contains("multi-line");
        let help = if multi {
            format!("close the text with {0}{0}{0}", quote)
        } else {
            format!(
                "close the string with `{quote}` on the same line, or use `{0}{0}{0}` for text \
                 over several lines",
                quote
            )
        };
        return (opened, format!("unterminated string: {message}"), help);
    }
    let help = if message.contains("escaped value") {
        "write `\\\\` for a backslash inside \"...\", or use '...' (no escapes there)".to_string()
    } else if message.starts_with("string values must be quoted") {
        "write text in quotes, e.g. `name = \"web\"`".to_string()
    } else if message.starts_with("key with no value") {
        "write `key = value`".to_string()
    } else if message.contains("between array elements") {
        "separate the elements with `,` and close the list with `]`".to_string()
    } else if message.contains("between key-value pairs") {
        "separate `key = value` pairs with `,` and close `{ ... }` with `}` on the same line (or \
         use a `[table]`)"
            .to_string()
    } else if message.contains("expected newline") {
        "write one `key = value` per line".to_string()
    } else {
        "write `key = value` lines, text in quotes, and `[table]` or `[[list]]` headers".to_string()
    };
    (at, message, help)
}

/// The offset of the opening quote of the first string left open, by lexing TOML's strings and
/// comments from the start (parsing stopped at the first error, so the text before is sound);
/// `None` unless it opened at or before `at`.
fn unterminated_string(text: &str, at: usize) -> Option<usize> {
    first_open_string(text).filter(|&o| o <= at)
}

fn first_open_string(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut open: Option<usize> = None;
    while i < b.len() {
        let rest = &b[i..];
        match open {
            None => {
                if rest[0] == b'#' {
                    i += rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
                    continue;
                }
                if rest.starts_with(b"\"\"\"") || rest.starts_with(b"'''") {
                    let q = &rest[..3];
                    let end = rest[3..].windows(3).position(|w| w == q);
                    match end {
                        Some(e) => i += 3 + e + 3,
                        None => return Some(i),
                    }
                    continue;
                }
                if rest[0] == b'"' || rest[0] == b'\'' {
                    open = Some(i);
                }
                i += 1;
            }
            Some(start) => {
                let quote = b[start];
                match rest[0] {
                    b'\\' if quote == b'"' => i += 2,
                    b'\n' => return Some(start),
                    c if c == quote => {
                        open = None;
                        i += 1;
                    }
                    _ => i += 1,
                }
            }
        }
    }
    open
}

fn to_doc_path(p: &serde_ignored::Path<'_>) -> DocPath {
    use serde_ignored::Path as P;
    fn walk(p: &P<'_>, out: &mut Vec<Seg>) {
        match p {
            P::Root => {}
            P::Seq { parent, index } => {
                walk(parent, out);
                out.push(Seg::Index(*index));
            }
            P::Map { parent, key } => {
                walk(parent, out);
                out.push(Seg::Key(key.to_string()));
            }
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                walk(parent, out)
            }
        }
    }
    let mut v = Vec::new();
    walk(p, &mut v);
    DocPath(v)
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// `offset`, moved back to the start of its character and into the text (never a slicing panic).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Close by edit distance (transpositions count once) or by shared prefix and letters.
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::damerau_levenshtein(word, c),
                strsim::jaro_winkler(word, c),
                c,
            )
        })
        .filter(|(dist, jw, _)| *dist <= limit || *jw > 0.85)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c)
}

/// The ids met so far in one list, for the rule that each item has its own id.
pub struct Ids<'a> {
    seen: BTreeMap<&'a str, usize>,
    /// The list's key, to name the earlier item (`nodes[2]`).
    list: &'static str,
    /// What to do about a repeat.
    help: &'static str,
}

impl<'a> Ids<'a> {
    pub fn new(list: &'static str, help: &'static str) -> Self {
        Ids {
            seen: BTreeMap::new(),
            list,
            help,
        }
    }

    /// Record `id`, the id of item `i`, written at `at`. True the first time; else false and a
    /// problem there: `twice`, then ` (also LIST[N])` naming the nearest earlier item with it.
    pub fn once(
        &mut self,
        doc: &mut Doc,
        at: &DocPath,
        i: usize,
        id: &'a str,
        twice: String,
    ) -> bool {
        let Some(first) = self.seen.insert(id, i) else {
            return true;
        };
        let message = format!("{twice} (also {}[{first}])", self.list);
        doc.error(at, message, Some(self.help.into()));
        false
    }
}

/// Help for `word`, which is none of `names`: "did you mean `X`?" when one is close, and the
/// names as "LABEL: a, b" when none is (after the suggestion too, with `always_list`).
pub fn unknown_name_help(word: &str, names: &[&str], label: &str, always_list: bool) -> String {
    let list = format!("{label}: {}", names.join(", "));
    match did_you_mean(word, names.iter().copied()) {
        Some(s) if always_list => format!("did you mean `{s}`? {list}"),
        Some(s) => format!("did you mean `{s}`?"),
        None => list,
    }
}

/// The field names a serde struct accepts, read from its derived `Deserialize` without data.
pub fn struct_fields<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Probe<'a>(&'a mut &'static [&'static str]);
    impl<'de> de::Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("probe"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("probe"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// What the content modules' tests ask of a load's problems.
#[cfg(test)]
pub(crate) mod testing {
    use super::Diagnostics;

    /// The problems of a load, as printed (none when it loaded).
    pub(crate) fn problems<T>(loaded: Result<T, Diagnostics>) -> Vec<String> {
        match loaded {
            Ok(_) => vec![],
            Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
        }
    }

    /// `problem` starts with `start` and says each of `says`.
    pub(crate) fn assert_says(problem: &str, start: &str, says: &[&str]) {
        assert!(
            problem.starts_with(start) && says.iter().all(|s| problem.contains(s)),
            "not `{start}...` saying {says:?}: {problem}"
        );
    }

    /// 1-based line of the first occurrence of `marker` in `text`.
    pub(crate) fn line_of(text: &str, marker: &str) -> usize {
        let at = text.find(marker).unwrap_or_else(|| panic!("no `{marker}`"));
        text[..at].matches('\n').count() + 1
    }

    /// Some problem is at `file:line` (the line of `marker`), says `what` and has a `help:`
    /// containing `help`.
    pub(crate) fn assert_problem(
        problems: &[String],
        file: &str,
        line: usize,
        what: &str,
        help: &str,
    ) {
        let at = format!("{file}:{line}:");
        assert!(
            problems.iter().any(|p| p.starts_with(&at)
                && p.contains(what)
                && p.split_once("help: ")
                    .is_some_and(|(_, h)| h.contains(help))),
            "no problem at {at} saying `{what}` with help `{help}`: {problems:#?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{assert_says, line_of};
    use super::*;

    #[test]
    fn line_and_column() {
        let t = "a = 1\nbb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 11), (2, 6));
        // An offset inside a character or past the end does not panic.
        assert_eq!(line_col("é\n", 1), (1, 1));
        assert_eq!(line_col(t, 99), (3, 1));
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("adress", ["name", "address", "role"]),
            Some("address")
        );
        assert_eq!(did_you_mean("wbe", ["web", "app"]), Some("web"));
        assert_eq!(
            did_you_mean("pg-primray", ["pg-primary", "pg-standby"]),
            Some("pg-primary")
        );
        assert_eq!(did_you_mean("zzz", ["name", "address"]), None);
    }

    #[derive(Deserialize)]
    struct Sample {
        alpha: u8,
        beta: String,
    }

    #[test]
    fn fields_are_read_from_derive() {
        assert_eq!(struct_fields::<Sample>(), &["alpha", "beta"]);
        let s: Sample = toml::from_str("alpha = 1\nbeta = \"b\"").unwrap();
        assert_eq!((s.alpha, s.beta.as_str()), (1, "b"));
    }

    const REAL_LAB: &str = include_str!("../../labs/ch32.toml");

    /// The problems of the real lab with `from` replaced by `to`, as printed.
    fn syntax(from: &str, to: &str) -> (String, Vec<String>) {
        assert!(REAL_LAB.contains(from), "`{from}` is not in labs/ch32.toml");
        let text = REAL_LAB.replacen(from, to, 1);
        let doc = Doc::parse(Path::new("labs/ch32.toml"), text.clone());
        assert!(!doc.is_parsed());
        (text, doc.problems.iter().map(|d| d.to_string()).collect())
    }

    /// The first problem starts `labs/ch32.toml:LINE:` then `rest`, and says each of `says`.
    fn first_at(p: &[String], line: usize, rest: &str, says: &[&str]) {
        assert_says(&p[0], &format!("labs/ch32.toml:{line}:{rest}"), says);
    }

    #[test]
    fn an_unterminated_string_is_reported_where_it_starts() {
        let (text, p) = syntax("standby, a client\"", "standby, a client");
        assert_eq!(p.len(), 1, "{p:#?}");
        let line = line_of(&text, "title = ");
        let close = "help: close the string with `\"` on the same line";
        first_at(&p, line, "9: unterminated string", &[close]);
        // A backslash that escapes nothing says how to write one.
        let (_, p) = syntax("standby, a client\"", "standby, a c:\\lient\"");
        first_at(&p, line, "", &["help: write `\\\\` for a backslash"]);
        // A multi-line one is reported where it opens, not at the end of the file.
        let (text, p) = syntax(
            "[roles.db-primary]",
            "[roles.db-primary]\nnote = '''never closed\n",
        );
        let line = line_of(&text, "note = ");
        first_at(
            &p,
            line,
            "8: unterminated string",
            &["help: close the text with '''"],
        );
    }

    #[test]
    fn a_duplicate_key_is_named() {
        let (text, p) = syntax(
            "vip = \"10.0.0.100\"",
            "vip = \"10.0.0.100\"\niface = \"eth1\"",
        );
        let line = line_of(&text, "iface = \"eth1\"");
        let once = "help: a key appears once in its table";
        first_at(&p, line, "1: duplicate key `iface`", &[once]);
        let (text, p) = syntax("[roles.app]", "[roles.lb]\n[roles.app]");
        let line = line_of(&text, "[roles.lb]\n[roles.app]");
        let says = ["duplicate key `roles.lb`", "help: a table is defined once"];
        first_at(&p, line, "", &says);
    }

    #[test]
    fn a_syntax_error_says_what_was_expected() {
        let (text, p) = syntax("[\"sudo\", \"curl\"", "[\"sudo\" \"curl\"");
        let line = line_of(&text, "\"sudo\" \"curl\"");
        let says = ["expected `,`", "help: separate the elements with `,`"];
        first_at(&p, line, "", &says);
        let (text, p) = syntax("port = 9000", "port = 9000 tcp");
        first_at(&p, line_of(&text, "port = 9000 tcp"), "", &["help: "]);
    }

    #[test]
    fn syntax_error_has_line() {
        let doc = Doc::parse(Path::new("x.toml"), "a = 1\nb = = 2\n".into());
        assert!(!doc.is_parsed());
        assert_eq!(doc.problems[0].line, 2);
    }
}
