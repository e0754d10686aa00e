//! Template values: everything a lesson or lab file may write as `{{ ... }}` instead of a literal
//! address, interface, version or password, so the same content runs on every backend.
//!
//! Names available: `lab.id`, `lab.name`, `subnet`, `prefix`, `iface`, `vip`,
//! `node["NAME"].ip` / `.name` / `.role`, `this` (the node a file or command is for), the lab's
//! own facts as `GROUP.NAME` (its `[facts]`), `secrets.NAME`, `alerts.url`, in checks
//! `run_id`, and in a drill with `roles` each part's node as `role.ID.name` / `.ip`. An unknown name is an error, never an empty string.
//!
//! Content may only *look values up*: `{{ name }}`, `{{ name.field }}`, `{{ name["key"] }}`.
//! Statements (`{% for %}`, `{% macro %}`, `{% include %}`...), filters, calls and operators are
//! refused before rendering, and rendering itself runs with no filters or functions and a fuel
//! and recursion limit, so no content can make halab loop or eat memory.
//! Must not: read state or talk to a backend (callers pass the values in).

use std::collections::BTreeMap;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Serde, ValueKind};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value, context};
use serde::{Deserialize, Serialize};

use crate::content::diag::{Doc, DocPath};
use crate::content::lab::{Lab, Node};

/// Shown with template errors.
pub const HELP: &str = "known values: lab.id, lab.name, subnet, prefix, iface, vip, node[\"NAME\"].ip, \
     this.name, this.ip, GROUP.NAME (the lab's [facts]), secrets.NAME, alerts.url, run_id (checks)";

/// Instructions one render may run: a lookup costs a handful, so this is thousands of lookups,
/// and a runaway text stops within milliseconds.
const FUEL: u64 = 50_000;

/// Nesting depth a render may reach (lookups need 1-2).
const RECURSION_LIMIT: usize = 16;

/// Fact values by group, then name: `{{ GROUP.NAME }}`.
pub type FactValues = BTreeMap<String, BTreeMap<String, String>>;

/// What the lab found out about its running nodes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Facts {
    /// The lab file's `[facts]` as asked on the running nodes, values made from them included.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lab: FactValues,
    /// The network as the backend made it, where it does not follow the lab file (multipass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkFacts>,
}

/// A network the backend chose: used instead of the lab file's subnet, interface, floating IP
/// and addresses.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct NetworkFacts {
    /// The nodes' interface (`ens3`, `enp0s1`...).
    pub iface: String,
    /// The subnet the nodes' addresses are in, CIDR (`192.168.64.0/24`).
    pub subnet: String,
    /// The floating IP: an address of the subnet no instance had when the lab was built.
    pub vip: String,
    /// Each node's address when it was last seen running: shown for a node that is down
    /// (running nodes' addresses are always asked afresh).
    #[serde(default)]
    pub last_seen: BTreeMap<String, String>,
}

impl Facts {
    /// Plausible values for checking that templates resolve, without a running lab: the lab's
    /// command facts take their `example`. A lab whose values do not render (validation reports
    /// it) gets its examples only.
    pub fn example(lab: &Lab) -> Facts {
        let lab_facts = Facts::try_example(lab).unwrap_or_else(|_| examples(lab));
        Facts {
            lab: lab_facts,
            network: None,
        }
    }

    /// The examples of the lab's command facts with its values made from them; an error names
    /// the group and name of the value that does not render.
    pub fn try_example(lab: &Lab) -> Result<FactValues, (String, String, Error)> {
        with_values(lab, examples(lab))
    }
}

fn examples(lab: &Lab) -> FactValues {
    lab.facts
        .iter()
        .map(|(g, facts)| {
            let found = facts
                .iter()
                .filter(|(_, f)| f.run.is_some())
                .map(|(n, f)| (n.clone(), f.example.clone().unwrap_or_default()))
                .collect();
            (g.clone(), found)
        })
        .collect()
}

/// The lab's command facts as `asked` (group -> name -> value) plus its values made from them.
pub fn with_values(lab: &Lab, asked: FactValues) -> Result<FactValues, (String, String, Error)> {
    let facts = Facts {
        lab: asked.clone(),
        network: None,
    };
    let ctx = Context::new(lab, &lab.id, &facts, &BTreeMap::new());
    let mut out = asked;
    for (group, defs) in &lab.facts {
        for (name, f) in defs {
            if let Some(v) = &f.value {
                let rendered = ctx
                    .render(v)
                    .map_err(|e| (group.clone(), name.clone(), e))?;
                out.entry(group.clone())
                    .or_default()
                    .insert(name.clone(), rendered);
            }
        }
    }
    Ok(out)
}

/// The values one lab offers to templates.
pub struct Context {
    base: BTreeMap<String, Value>,
}

#[derive(Serialize)]
struct NodeValue<'a> {
    name: &'a str,
    ip: &'a str,
    role: &'a str,
}

impl Context {
    pub fn new(
        lab: &Lab,
        lab_name: &str,
        facts: &Facts,
        secrets: &BTreeMap<String, String>,
    ) -> Context {
        let nodes: BTreeMap<&str, NodeValue> = lab
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), node_value(n)))
            .collect();
        let mut base = BTreeMap::new();
        base.insert("lab", ser(context! { id => &lab.id, name => lab_name }));
        base.insert("subnet", Value::from(lab.subnet.clone()));
        base.insert("prefix", Value::from(lab.prefix()));
        base.insert("iface", Value::from(lab.iface.clone()));
        if let Some(vip) = &lab.vip {
            base.insert("vip", Value::from(vip.clone()));
        }
        base.insert("node", ser(&nodes));
        // Groups are names of their own (`{{ pg.version }}`); validation keeps them off the
        // built-in names, which win all the same.
        let mut groups: BTreeMap<String, Value> = BTreeMap::new();
        for (group, values) in &facts.lab {
            groups.insert(group.clone(), ser(values));
        }
        base.insert("secrets", ser(secrets));
        if let Some(a) = &lab.alerts
            && let Some(n) = lab.node(&a.node)
        {
            base.insert(
                "alerts",
                ser(context! { url => format!("http://{}:{}/", n.address, a.port), node => &a.node, log => &a.log, port => a.port }),
            );
        }
        let mut base: BTreeMap<String, Value> =
            base.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        for (group, v) in groups {
            base.entry(group).or_insert(v);
        }
        Context { base }
    }

    /// Plausible values of `lab` with nothing running: its facts' examples and a stand-in for
    /// each secret, to check that content renders before any lab is built.
    pub fn example(lab: &Lab) -> Context {
        let secrets: BTreeMap<String, String> = lab
            .secrets
            .keys()
            .map(|k| (k.clone(), "x".repeat(8)))
            .collect();
        Context::new(lab, &lab.id, &Facts::example(lab), &secrets)
    }

    /// Render `text`, found at `at` in `doc`; when it does not render, that is a problem there.
    pub(crate) fn render_at(&self, doc: &mut Doc, at: &DocPath, text: &str) -> Option<String> {
        self.render(text)
            .map_err(|e| {
                doc.error(
                    at,
                    format!("template does not render: {e:#}"),
                    Some(HELP.into()),
                );
            })
            .ok()
    }

    /// The same values plus `this`, the node the text is for.
    pub fn for_node(&self, node: &Node) -> Context {
        let mut base = self.base.clone();
        base.insert("this".into(), ser(node_value(node)));
        Context { base }
    }

    /// The same values plus `name` (e.g. a drill's `baseline`).
    pub fn with(&self, name: &'static str, value: impl Serialize) -> Context {
        let mut base = self.base.clone();
        base.insert(name.into(), ser(value));
        Context { base }
    }

    /// The same values plus `role`: each part of a drill (`cast`: role id -> node name) as the
    /// node that plays it, `{{ role.ID.name }}`, `{{ role.ID.ip }}`. A node the lab does not
    /// have is left out (validation keeps drills from naming one).
    pub fn with_roles(&self, cast: &BTreeMap<String, String>) -> Context {
        let nodes = self.base.get("node");
        let roles: BTreeMap<&str, Value> = cast
            .iter()
            .filter_map(|(role, node)| {
                let v = nodes?.get_item(&Value::from(node.as_str())).ok()?;
                (!v.is_undefined()).then_some((role.as_str(), v))
            })
            .collect();
        let mut base = self.base.clone();
        base.insert("role".into(), ser(roles));
        Context { base }
    }

    /// The same values plus `run_id`, unique to one run of a check (for probe rows and markers).
    pub fn with_run_id(&self, run_id: &str) -> Context {
        let mut base = self.base.clone();
        base.insert("run_id".into(), Value::from(run_id.to_string()));
        Context { base }
    }

    /// Render one text; unknown names, anything but a lookup, and syntax errors are errors.
    pub fn render(&self, text: &str) -> Result<String, Error> {
        if !text.contains("{{") && !text.contains("{%") && !text.contains("{#") {
            return Ok(text.to_string());
        }
        let lookups = lookups(text)?;
        let mut env = Environment::empty();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(RECURSION_LIMIT);
        env.set_syntax(
            SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("syntax"),
        );
        env.render_str(text, &self.base)
            .map_err(|e| self.explain(e, &lookups))
    }

    /// minijinja says "undefined value" without the name: find the lookup that fails and say
    /// which part of it is missing and what is there instead.
    fn explain(&self, e: Error, lookups: &[Lookup<'_>]) -> Error {
        if e.kind() == ErrorKind::OutOfFuel {
            return Error::new(
                ErrorKind::InvalidOperation,
                format!("this text takes more than {FUEL} steps to render"),
            );
        }
        if e.kind() != ErrorKind::UndefinedError {
            return e;
        }
        for l in lookups {
            if let Err(why) = self.resolve(l) {
                return Error::new(
                    ErrorKind::UndefinedError,
                    format!("{why}, in `{}`{}", l.source, l.line_note),
                );
            }
        }
        e
    }

    /// Walk one lookup through the values; the error names the first part that is missing.
    fn resolve(&self, l: &Lookup<'_>) -> Result<(), String> {
        let Some(mut value) = self.base.get(l.name).cloned() else {
            return Err(format!("`{}` is not a known name", l.name));
        };
        let mut written = l.name.to_string();
        for key in &l.keys {
            let (next, step) = match key {
                Key::Field(f) => (value.get_attr(f), format!(".{f}")),
                Key::Item(k) => (value.get_item(&Value::from(*k)), format!("[\"{k}\"]")),
            };
            let next = next.unwrap_or(Value::UNDEFINED);
            if next.is_undefined() {
                let has = if value.kind() == ValueKind::Map {
                    let keys: Vec<String> = value
                        .try_iter()
                        .map(|it| it.map(|k| format!("`{k}`")).collect())
                        .unwrap_or_default();
                    if keys.is_empty() {
                        "nothing".to_string()
                    } else {
                        keys.join(", ")
                    }
                } else {
                    format!("no fields (it is a {})", value.kind())
                };
                return Err(format!(
                    "`{written}{step}` is undefined: `{written}` has {has}"
                ));
            }
            written.push_str(&step);
            value = next;
        }
        Ok(())
    }
}

/// One `{{ ... }}` of a text: a name and the fields or keys looked up below it.
struct Lookup<'a> {
    /// The whole `{{ ... }}` as written, for messages.
    source: &'a str,
    name: &'a str,
    keys: Vec<Key<'a>>,
    /// " (line N)" when the text has several lines, else empty.
    line_note: String,
}

enum Key<'a> {
    /// `.field`
    Field(&'a str),
    /// `["key"]` or `['key']`
    Item(&'a str),
}

const ONLY_LOOKUPS: &str = "content may only look values up, as `{{ vip }}`, `{{ secrets.NAME }}` or \
     `{{ node[\"NAME\"].ip }}`";

/// Every `{{ ... }}` of `text`, or an error for a statement or an expression that is not a lookup.
fn lookups(text: &str) -> Result<Vec<Lookup<'_>>, Error> {
    let multiline = text.contains('\n');
    let line_note = |at: usize| {
        if multiline {
            format!(" (line {})", text[..at].matches('\n').count() + 1)
        } else {
            String::new()
        }
    };
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find('{') {
        let at = from + i;
        let tail = &text[at..];
        if tail.starts_with("{%") {
            let shown = tail.find("%}").map_or(tail, |end| &tail[..end + 2]);
            return Err(Error::new(
                ErrorKind::SyntaxError,
                format!(
                    "`{}`{}: statements are not allowed, only `{{{{ ... }}}}` lookups: {ONLY_LOOKUPS}",
                    ellipsis(shown),
                    line_note(at)
                ),
            ));
        }
        if tail.starts_with("{#") {
            // A comment: minijinja drops it (or reports it unterminated).
            from = tail.find("#}").map_or(text.len(), |end| at + end + 2);
            continue;
        }
        if !tail.starts_with("{{") {
            from = at + 1;
            continue;
        }
        let Some(end) = closing(tail) else {
            return Err(Error::new(
                ErrorKind::SyntaxError,
                format!(
                    "`{}`{}: `{{{{` is never closed by `}}}}`",
                    ellipsis(tail),
                    line_note(at)
                ),
            ));
        };
        let source = &tail[..end + 2];
        let inner = source[2..end].strip_prefix('-').unwrap_or(&source[2..end]);
        let inner = inner.strip_suffix('-').unwrap_or(inner).trim();
        let Some((name, keys)) = parse_lookup(inner) else {
            return Err(Error::new(
                ErrorKind::SyntaxError,
                format!(
                    "`{}`{}: only lookups are allowed inside `{{{{ ... }}}}` (a name, `.field`, \
                     `[\"key\"]`), no filters, calls or operators: {ONLY_LOOKUPS}",
                    ellipsis(source),
                    line_note(at)
                ),
            ));
        };
        out.push(Lookup {
            source,
            name,
            keys,
            line_note: line_note(at),
        });
        from = at + end + 2;
    }
    Ok(out)
}

/// Offset of the `}}` closing the `{{` at the start of `tail`, quotes respected.
fn closing(tail: &str) -> Option<usize> {
    let b = tail.as_bytes();
    let mut quote = None;
    let mut i = 2;
    while i < b.len() {
        match (quote, b[i]) {
            (None, q @ (b'"' | b'\'')) => quote = Some(q),
            (Some(q), c) if c == q => quote = None,
            (None, b'}') if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `name`, then any of `.field`, `["key"]`, `['key']`; `None` for anything else.
fn parse_lookup(s: &str) -> Option<(&str, Vec<Key<'_>>)> {
    let ident_len = |s: &str| {
        let n = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (n > 0 && !s.starts_with(|c: char| c.is_ascii_digit())).then_some(n)
    };
    let n = ident_len(s)?;
    let (name, mut rest) = s.split_at(n);
    let mut keys = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Some((name, keys));
        }
        if let Some(r) = rest.strip_prefix('.') {
            let r = r.trim_start();
            let n = ident_len(r)?;
            keys.push(Key::Field(&r[..n]));
            rest = &r[n..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let r = r.trim_start();
            let q = r.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let body = &r[1..];
            let close = body.find(q)?;
            let key = &body[..close];
            if key.contains('\\') {
                return None;
            }
            let r = body[close + 1..].trim_start().strip_prefix(']')?;
            keys.push(Key::Item(key));
            rest = r;
        } else {
            return None;
        }
    }
}

/// A piece of content short enough for one line of a message.
fn ellipsis(s: &str) -> String {
    let one_line = s.lines().next().unwrap_or_default();
    let mut out: String = one_line.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn ser<T: Serialize>(v: T) -> Value {
    Value::from(Serde(v))
}

fn node_value(n: &Node) -> NodeValue<'_> {
    NodeValue {
        name: &n.name,
        ip: &n.address,
        role: &n.role,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lab() -> Lab {
        crate::content::lab::load(
            Path::new("t.toml"),
            r#"
id = "t"
title = "t"
subnet = "10.1.0.0/24"
iface = "ens3"
vip = "10.1.0.100"
[[nodes]]
name = "pg-primary"
address = "10.1.0.30"
role = "r"
[roles.r]
[facts.pg]
version = { node = "pg-primary", run = "echo 15", example = "15" }
datadir = { value = "/var/lib/postgresql/{{ pg.version }}/main" }
"#
            .into(),
        )
        .unwrap()
    }

    #[test]
    fn renders_lab_values() {
        let lab = lab();
        let secrets = BTreeMap::from([("pw".to_string(), "s3cret".to_string())]);
        let ctx =
            Context::new(&lab, "mylab", &Facts::example(&lab), &secrets).for_node(&lab.nodes[0]);
        let out = ctx
            .render("{{ node[\"pg-primary\"].ip }} {{ iface }} {{ vip }}/{{ prefix }} {{ pg.datadir }} {{ secrets.pw }} {{ this.name }} {{ lab.name }}\n")
            .unwrap();
        assert_eq!(
            out,
            "10.1.0.30 ens3 10.1.0.100/24 /var/lib/postgresql/15/main s3cret pg-primary mylab\n"
        );
    }

    #[test]
    fn unknown_values_are_errors() {
        let lab = lab();
        let ctx = Context::new(&lab, "t", &Facts::example(&lab), &BTreeMap::new());
        assert!(ctx.render("{{ node[\"nope\"].ip }}").is_err());
        assert!(ctx.render("{{ secrets.missing }}").is_err());
        assert!(ctx.render("{{ vipp }}").is_err());
    }

    fn message(r: Result<String, Error>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn undefined_errors_name_the_missing_part() {
        let lab = lab();
        let ctx = Context::new(&lab, "t", &Facts::example(&lab), &BTreeMap::new());
        let e = message(ctx.render("ping {{ node.nope.ip }} now"));
        assert!(
            e.contains("`node.nope` is undefined: `node` has `pg-primary`"),
            "{e}"
        );
        assert!(e.contains("in `{{ node.nope.ip }}`"), "{e}");
        let e = message(ctx.render("a\nb {{ node[\"pg-primary\"].ipp }}"));
        assert!(e.contains("`node[\"pg-primary\"].ipp` is undefined"), "{e}");
        assert!(e.contains("`ip`") && e.contains("(line 2)"), "{e}");
        let e = message(ctx.render("{{ vipp }}"));
        assert!(
            e.contains("`vipp` is not a known name, in `{{ vipp }}`"),
            "{e}"
        );
        let e = message(ctx.render("{{ vip.x }}"));
        assert!(
            e.contains("`vip.x` is undefined: `vip` has no fields"),
            "{e}"
        );
    }

    #[test]
    fn only_lookups_are_allowed() {
        let lab = lab();
        let ctx = Context::new(&lab, "t", &Facts::example(&lab), &BTreeMap::new());
        // Every text is refused with a message saying each of `says`.
        let refused = |texts: &[&str], says: &[&str]| {
            for t in texts {
                let e = message(ctx.render(t));
                assert!(says.iter().all(|s| e.contains(s)), "{t}: {e}");
            }
        };
        refused(
            &[
                "{% for i in range(10) %}x{% endfor %}",
                "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
                "{% include \"x\" %}",
                "{% set x = 1 %}",
            ],
            &["statements are not allowed", "only `{{ ... }}` lookups"],
        );
        refused(
            &[
                "{{ vip | upper }}",
                "{{ range(10) }}",
                "{{ \"x\" * 100000000 }}",
                "{{ 1 + 2 }}",
                "{{ node[vip] }}",
                "{{ }}",
                "{{ vip",
            ],
            &["syntax error"],
        );
        // What content writes today still renders, comments and trim markers included.
        assert_eq!(
            ctx.render("{{- vip -}} {{ node['pg-primary'].role }}{# note #}")
                .unwrap(),
            "10.1.0.100r"
        );
    }
}
