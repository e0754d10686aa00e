//! The lab file (`labs/<id>.toml`): which nodes a lab has, their addresses and roles, and what
//! each role runs. Loading checks everything and reports every problem at once.
//!
//! This is *what* a node is. *How* a node is realised (namespaces, containers, VMs) belongs to
//! `backend/`; nothing here knows about a particular backend.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::diag::{Doc, DocPath, Seg, did_you_mean, struct_fields};

/// A lab: the machines one lesson runs on and how they are wired.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Lab {
    /// Identifier, also the default lab name (`[a-z0-9-]`, at most 20 characters).
    pub id: String,
    /// One line shown in listings.
    pub title: String,
    /// The lab's IPv4 subnet in CIDR form, e.g. `10.0.0.0/24`. Every address lies inside it.
    pub subnet: String,
    /// The name of each node's lab interface, as the lesson shows it (`{{ iface }}`).
    #[serde(default = "default_iface")]
    pub iface: String,
    /// A floating address the lesson moves between nodes (`{{ vip }}`), inside the subnet.
    #[serde(default)]
    pub vip: Option<String>,
    /// Debian packages every node has, whatever its role.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Secrets generated once per lab: name -> length in characters (`{{ secrets.NAME }}`).
    #[serde(default)]
    pub secrets: BTreeMap<String, usize>,
    /// Where the lab's alert sink listens: health checks post there (`{{ alerts.url }}`) instead
    /// of to a chat service, and `halab alerts` shows what arrived.
    #[serde(default)]
    pub alerts: Option<AlertSink>,
    /// The machines of the lab, in the order listings show them.
    pub nodes: Vec<Node>,
    /// What each kind of node is: packages, services, files and one-time commands.
    pub roles: BTreeMap<String, Role>,
}

/// The lab's HTTP alert sink.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AlertSink {
    /// The node it runs on.
    pub node: String,
    /// Its TCP port on that node's lab address.
    pub port: u16,
    /// The file (on that node) where it appends one JSON line per alert.
    pub log: String,
}

/// One machine of the lab.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Node {
    /// Host name inside the node, and how commands name it (`[a-z0-9-]`, at most 15 characters).
    pub name: String,
    /// Static IPv4 address inside the lab's subnet.
    pub address: String,
    /// Key into `[roles]`.
    pub role: String,
}

/// What a kind of node has installed and running in the lab's starting state.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Role {
    /// One line shown by `halab status`.
    #[serde(default)]
    pub description: String,
    /// Debian packages this node needs installed.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Services started (in this order) whenever the node starts.
    #[serde(default)]
    pub services: Vec<String>,
    /// Files placed when the node is first provisioned, before `setup` runs.
    #[serde(default)]
    pub files: Vec<FileSpec>,
    /// Shell commands run once on a new node, after `files` and before services start.
    #[serde(default)]
    pub setup: Vec<String>,
    /// Shell commands run once on a new node, after its services first started.
    #[serde(default)]
    pub init: Vec<String>,
}

/// A file to place on a node. `content` is a template (`{{ this.name }}` ...).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct FileSpec {
    /// Absolute path on the node.
    pub path: String,
    /// The file's text (a template).
    pub content: String,
    /// Octal permission bits, default `0644`.
    #[serde(default = "default_mode")]
    pub mode: String,
    /// `user:group`, default `root:root`.
    #[serde(default = "default_owner")]
    pub owner: String,
}

fn default_iface() -> String {
    "eth0".into()
}
pub(crate) fn default_mode() -> String {
    "0644".into()
}
pub(crate) fn default_owner() -> String {
    "root:root".into()
}

impl Lab {
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub fn role_of(&self, node: &Node) -> &Role {
        // Validation guarantees every node's role exists.
        &self.roles[&node.role]
    }

    /// Network address and prefix length of the subnet.
    pub fn network(&self) -> (Ipv4Addr, u8) {
        parse_cidr(&self.subnet).expect("validated subnet")
    }

    pub fn prefix(&self) -> u8 {
        self.network().1
    }

    /// Every Debian package any node needs.
    pub fn all_packages(&self) -> BTreeSet<String> {
        self.roles
            .values()
            .flat_map(|r| r.packages.iter().cloned())
            .chain(self.packages.iter().cloned())
            .collect()
    }

    /// The Debian packages one node has: the lab's common ones and its role's.
    pub fn node_packages(&self, node: &Node) -> Vec<String> {
        let mut v = self.packages.clone();
        v.extend(self.role_of(node).packages.iter().cloned());
        v
    }

    /// "did you mean" help for an unknown node name.
    pub fn unknown_node_help(&self, name: &str) -> String {
        let names = self.nodes.iter().map(|n| n.name.as_str());
        match did_you_mean(name, names.clone()) {
            Some(s) => format!(
                "did you mean `{s}`? nodes: {}",
                names.collect::<Vec<_>>().join(", ")
            ),
            None => format!("nodes: {}", names.collect::<Vec<_>>().join(", ")),
        }
    }
}

/// Parse `a.b.c.d/n`.
pub fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, p) = s.split_once('/')?;
    let addr: Ipv4Addr = a.parse().ok()?;
    let prefix: u8 = p.parse().ok()?;
    (prefix <= 32).then_some((addr, prefix))
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

/// Whether `ip` is a usable host address of `net/prefix` (not the network or broadcast address).
pub fn is_host_in(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let m = mask(prefix);
    let (ip, net) = (u32::from(ip), u32::from(net));
    ip & m == net & m && ip != net & m && ip != (net & m) | !m
}

/// A name usable as a host name, an interface name and a file name.
pub fn is_simple_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
}

/// Field names per place in a lab file, for "did you mean".
fn lab_fields(p: &DocPath) -> &'static [&'static str] {
    match p.0.as_slice() {
        [] => struct_fields::<Lab>(),
        [Seg::Key(k), Seg::Index(_)] if k == "nodes" => struct_fields::<Node>(),
        [Seg::Key(k), Seg::Key(_)] if k == "roles" => struct_fields::<Role>(),
        [Seg::Key(k)] if k == "alerts" => struct_fields::<AlertSink>(),
        [Seg::Key(k), Seg::Key(_), Seg::Key(f), Seg::Index(_)] if k == "roles" && f == "files" => {
            struct_fields::<FileSpec>()
        }
        _ => &[],
    }
}

/// Read and check a lab file. On success the lab is fully valid.
pub fn load(path: &Path, text: String) -> Result<Lab, super::diag::Diagnostics> {
    let mut doc = Doc::parse(path, text);
    let lab: Option<Lab> = doc.deserialize(lab_fields);
    if let Some(lab) = &lab {
        check(lab, &mut doc);
    }
    let lab = lab.filter(|_| doc.problems.is_empty());
    doc.finish().map(|()| lab.expect("no problems means a lab"))
}

fn check(lab: &Lab, doc: &mut Doc) {
    let root = DocPath::root();
    if !is_simple_name(&lab.id, 20) {
        doc.error(
            &root.key("id"),
            format!("lab id `{}` is not a simple name", lab.id),
            Some("use lowercase letters, digits and `-`, at most 20 characters".into()),
        );
    }
    let net = parse_cidr(&lab.subnet);
    if net.is_none_or(|(_, p)| !(8..=30).contains(&p)) {
        doc.error(
            &root.key("subnet"),
            format!("`{}` is not an IPv4 subnet", lab.subnet),
            Some("write it in CIDR form with a prefix from /8 to /30, e.g. `10.0.0.0/24`".into()),
        );
    }
    if !is_simple_name(&lab.iface, 15) && !lab.iface.chars().all(|c| c.is_ascii_alphanumeric()) {
        doc.error(
            &root.key("iface"),
            format!("`{}` is not a valid interface name", lab.iface),
            Some("use at most 15 letters and digits, e.g. `eth0`".into()),
        );
    }
    for (name, len) in &lab.secrets {
        if !(4..=64).contains(len) {
            doc.error(
                &root.key("secrets").key(name),
                format!("secret `{name}` has length {len}"),
                Some("choose a length from 4 to 64 characters".into()),
            );
        }
    }

    let in_subnet = |doc: &mut Doc, path: &DocPath, what: &str, value: &str| -> Option<Ipv4Addr> {
        let Ok(ip) = value.parse::<Ipv4Addr>() else {
            doc.error(
                path,
                format!("{what} `{value}` is not an IPv4 address"),
                Some("write four numbers, e.g. `10.0.0.20` (no prefix length)".into()),
            );
            return None;
        };
        if let Some((n, p)) = net
            && !is_host_in(ip, n, p)
        {
            doc.error(
                path,
                format!("{what} {ip} is outside the lab's subnet {}", lab.subnet),
                Some(format!("pick a host address inside {}", lab.subnet)),
            );
        }
        Some(ip)
    };

    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut addrs: BTreeMap<Ipv4Addr, &str> = BTreeMap::new();
    for (i, node) in lab.nodes.iter().enumerate() {
        let p = root.key("nodes").index(i);
        if !is_simple_name(&node.name, 15) {
            doc.error(
                &p.key("name"),
                format!("node name `{}` is not a simple name", node.name),
                Some("use lowercase letters, digits and `-`, at most 15 characters".into()),
            );
        }
        if let Some(first) = names.insert(&node.name, i) {
            doc.error(
                &p.key("name"),
                format!(
                    "node `{}` is defined twice (also nodes[{first}])",
                    node.name
                ),
                Some("give each node its own name".into()),
            );
        }
        if let Some(ip) = in_subnet(doc, &p.key("address"), "address", &node.address)
            && let Some(other) = addrs.insert(ip, &node.name)
        {
            doc.error(
                &p.key("address"),
                format!(
                    "address {ip} of `{}` is already used by `{other}`",
                    node.name
                ),
                Some("give each node its own address".into()),
            );
        }
        if !lab.roles.contains_key(&node.role) {
            let help = match did_you_mean(&node.role, lab.roles.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "roles defined in this file: {}",
                    lab.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            };
            doc.error(
                &p.key("role"),
                format!("node `{}` has unknown role `{}`", node.name, node.role),
                Some(help),
            );
        }
    }
    if lab.nodes.is_empty() {
        doc.error_file(
            "the lab has no nodes",
            Some("add `[[nodes]]` tables".into()),
        );
    }
    if let Some(vip) = &lab.vip
        && let Some(ip) = in_subnet(doc, &root.key("vip"), "floating IP", vip)
        && let Some(owner) = addrs.get(&ip)
    {
        doc.error(
            &root.key("vip"),
            format!("floating IP {ip} is also the address of node `{owner}`"),
            Some("choose an address no node uses".into()),
        );
    }

    if let Some(a) = &lab.alerts
        && lab.node(&a.node).is_none()
    {
        doc.error(
            &root.key("alerts").key("node"),
            format!("alert sink on unknown node `{}`", a.node),
            Some(lab.unknown_node_help(&a.node)),
        );
    }

    for (rname, role) in &lab.roles {
        let rp = root.key("roles").key(rname);
        for (i, f) in role.files.iter().enumerate() {
            let fp = rp.key("files").index(i);
            if !f.path.starts_with('/') {
                doc.error(
                    &fp.key("path"),
                    format!("file path `{}` is not absolute", f.path),
                    Some("write the full path on the node, e.g. `/etc/nginx/conf.d/x.conf`".into()),
                );
            }
            if u32::from_str_radix(&f.mode, 8).is_err() {
                doc.error(
                    &fp.key("mode"),
                    format!("mode `{}` is not octal", f.mode),
                    Some("write it like `0644`".into()),
                );
            }
            if f.owner.split(':').count() != 2 {
                doc.error(
                    &fp.key("owner"),
                    format!("owner `{}` is not `user:group`", f.owner),
                    Some("write it like `root:root`".into()),
                );
            }
        }
    }

    // Every template must render with what a lab provides (unknown names are errors).
    if doc.problems.is_empty() {
        let facts = crate::template::Facts::example();
        let secrets: BTreeMap<String, String> = lab
            .secrets
            .keys()
            .map(|k| (k.clone(), "x".repeat(8)))
            .collect();
        for (rname, role) in &lab.roles {
            let Some(node) = lab.nodes.iter().find(|n| &n.role == rname) else {
                continue;
            };
            let ctx = crate::template::Context::new(lab, lab.id.as_str(), &facts, &secrets)
                .for_node(node);
            let rp = root.key("roles").key(rname);
            let texts = role
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| (rp.key("files").index(i).key("content"), &f.content))
                .chain(
                    role.setup
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (rp.key("setup").index(i), c)),
                )
                .chain(
                    role.init
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (rp.key("init").index(i), c)),
                );
            for (path, text) in texts {
                if let Err(e) = ctx.render(text) {
                    doc.error(
                        &path,
                        format!("template does not render: {e:#}"),
                        Some(crate::template::HELP.into()),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "t"
title = "test lab"
subnet = "10.9.0.0/24"
vip = "10.9.0.100"
secrets = { pw = 8 }

[[nodes]]
name = "a"
address = "10.9.0.2"
role = "web"

[[nodes]]
name = "b"
address = "10.9.0.3"
role = "web"

[roles.web]
services = ["nginx"]
files = [{ path = "/var/www/i", content = "{{ this.name }} {{ secrets.pw }} {{ node.b.ip }}" }]
"#;

    fn problems(text: &str) -> Vec<String> {
        match load(Path::new("labs/t.toml"), text.to_string()) {
            Ok(_) => vec![],
            Err(d) => d.0.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn good_lab_loads() {
        let lab = load(Path::new("t.toml"), GOOD.into()).unwrap();
        assert_eq!(lab.nodes.len(), 2);
        assert_eq!(lab.iface, "eth0");
        assert_eq!(lab.prefix(), 24);
    }

    #[test]
    fn every_problem_is_reported_with_file_and_line() {
        let bad = GOOD
            .replace("address = \"10.9.0.3\"", "address = \"10.9.0.2\"") // duplicate (line 15)
            .replace("role = \"web\"\n\n[roles", "role = \"wbe\"\n\n[roles") // unknown role (line 16)
            .replace("vip = \"10.9.0.100\"", "vip = \"10.8.0.100\""); // outside subnet (line 5)
        let p = problems(&bad);
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(
            p[0].starts_with("labs/t.toml:15:11: address 10.9.0.2 of `b` is already used by `a`"),
            "{p:#?}"
        );
        assert!(
            p[1].starts_with("labs/t.toml:16:8: node `b` has unknown role `wbe`"),
            "{p:#?}"
        );
        assert!(p[1].contains("did you mean `web`?"), "{p:#?}");
        assert!(
            p[2].starts_with("labs/t.toml:5:7: floating IP 10.8.0.100 is outside the lab's subnet"),
            "{p:#?}"
        );
    }

    #[test]
    fn unknown_fields_are_all_reported_with_suggestions() {
        let bad = GOOD
            .replace("vip = ", "ifcae = \"eth1\"\nvip = ")
            .replace("services = [", "servces = [");
        let p = problems(&bad);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[0].starts_with("labs/t.toml:5:1: unknown field `ifcae`")
                && p[0].contains("did you mean `iface`?"),
            "{p:#?}"
        );
        assert!(
            p[1].starts_with("labs/t.toml:20:1: unknown field `servces`")
                && p[1].contains("did you mean `services`?"),
            "{p:#?}"
        );
    }

    #[test]
    fn a_misspelt_required_field_says_both_things() {
        let p = problems(&GOOD.replacen("address = \"10.9.0.2\"", "adress = \"10.9.0.2\"", 1));
        assert!(
            p[0].starts_with("labs/t.toml:10:1: unknown field `adress`")
                && p[0].contains("did you mean `address`?"),
            "{p:#?}"
        );
        assert!(
            p[1].starts_with("labs/t.toml:8:1: missing field `address`"),
            "{p:#?}"
        );
    }

    #[test]
    fn node_outside_subnet_and_unknown_template_value() {
        let bad = GOOD
            .replace("address = \"10.9.0.3\"", "address = \"10.9.1.3\"")
            .replace("{{ node.b.ip }}", "{{ node.c.ip }}");
        let p = problems(&bad);
        assert!(
            p.iter()
                .any(|l| l
                    .contains(":15:11: address 10.9.1.3 is outside the lab's subnet 10.9.0.0/24")),
            "{p:#?}"
        );
        let p = problems(&GOOD.replace("{{ node.b.ip }}", "{{ node.c.ip }}"));
        assert!(
            p.iter().any(|l| l.contains("template does not render")),
            "{p:#?}"
        );
    }

    #[test]
    fn host_address_rules() {
        let n: Ipv4Addr = "10.0.0.0".parse().unwrap();
        assert!(is_host_in("10.0.0.2".parse().unwrap(), n, 24));
        assert!(!is_host_in("10.0.0.0".parse().unwrap(), n, 24));
        assert!(!is_host_in("10.0.0.255".parse().unwrap(), n, 24));
        assert!(!is_host_in("10.0.1.2".parse().unwrap(), n, 24));
    }
}
