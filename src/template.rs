//! Template values: everything a lesson or lab file may write as `{{ ... }}` instead of a literal
//! address, interface, version or password, so the same content runs on every backend.
//!
//! Names available: `lab.id`, `lab.name`, `subnet`, `prefix`, `iface`, `vip`,
//! `node["NAME"].ip` / `.name` / `.role`, `this` (the node a file or command is for), `pg.version`,
//! `pg.datadir`, `pg.confdir`, `pg.bindir`, `secrets.NAME`, `alerts.url`, and in checks `run_id`. An unknown name is an error, never an
//! empty string. Must not: read state or talk to a backend (callers pass the values in).

use std::collections::BTreeMap;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::{Deserialize, Serialize};

use crate::content::lab::{Lab, Node};

/// Shown with template errors.
pub const HELP: &str = "known values: lab.id, lab.name, subnet, prefix, iface, vip, node[\"NAME\"].ip, \
     this.name, this.ip, pg.version, pg.datadir, pg.confdir, pg.bindir, secrets.NAME, alerts.url, run_id (checks)";

/// What a backend found out about the software inside its nodes.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Facts {
    /// PostgreSQL major version installed in the nodes ("15" on Debian 12); empty when absent.
    pub pg_version: String,
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
    /// Plausible values for checking that templates resolve, without a running lab.
    pub fn example() -> Facts {
        Facts {
            pg_version: "15".into(),
            network: None,
        }
    }
}

/// The values one lab offers to templates.
pub struct Context {
    base: BTreeMap<&'static str, Value>,
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
        let v = &facts.pg_version;
        let mut base = BTreeMap::new();
        base.insert("lab", ser(context! { id => &lab.id, name => lab_name }));
        base.insert("subnet", Value::from(lab.subnet.clone()));
        base.insert("prefix", Value::from(lab.prefix()));
        base.insert("iface", Value::from(lab.iface.clone()));
        if let Some(vip) = &lab.vip {
            base.insert("vip", Value::from(vip.clone()));
        }
        base.insert("node", ser(&nodes));
        if !v.is_empty() {
            base.insert(
                "pg",
                ser(context! {
                    version => v,
                    datadir => format!("/var/lib/postgresql/{v}/main"),
                    confdir => format!("/etc/postgresql/{v}/main"),
                    bindir => format!("/usr/lib/postgresql/{v}/bin"),
                }),
            );
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
        Context { base }
    }

    /// The same values plus `this`, the node the text is for.
    pub fn for_node(&self, node: &Node) -> Context {
        let mut base = self.base.clone();
        base.insert("this", ser(node_value(node)));
        Context { base }
    }

    /// The same values plus `name` (e.g. a drill's `baseline`).
    pub fn with(&self, name: &'static str, value: impl Serialize) -> Context {
        let mut base = self.base.clone();
        base.insert(name, ser(value));
        Context { base }
    }

    /// The same values plus `run_id`, unique to one run of a check (for probe rows and markers).
    pub fn with_run_id(&self, run_id: &str) -> Context {
        let mut base = self.base.clone();
        base.insert("run_id", Value::from(run_id.to_string()));
        Context { base }
    }

    /// Render one text; unknown names and syntax errors are errors.
    pub fn render(&self, text: &str) -> Result<String, minijinja::Error> {
        if !text.contains("{{") && !text.contains("{%") {
            return Ok(text.to_string());
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("syntax"),
        );
        env.render_str(text, &self.base)
    }
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
"#
            .into(),
        )
        .unwrap()
    }

    #[test]
    fn renders_lab_values() {
        let lab = lab();
        let secrets = BTreeMap::from([("pw".to_string(), "s3cret".to_string())]);
        let ctx = Context::new(&lab, "mylab", &Facts::example(), &secrets).for_node(&lab.nodes[0]);
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
        let ctx = Context::new(&lab, "t", &Facts::example(), &BTreeMap::new());
        assert!(ctx.render("{{ node[\"nope\"].ip }}").is_err());
        assert!(ctx.render("{{ secrets.missing }}").is_err());
        assert!(ctx.render("{{ vipp }}").is_err());
    }
}
