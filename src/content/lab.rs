//! The lab file (`labs/<id>.toml`): which nodes a lab has, their addresses and roles, and what
//! each role runs. Loading checks everything and reports every problem at once.
//!
//! This is *what* a node is. *How* a node is realised (namespaces, containers, VMs) belongs to
//! `backend/`; nothing here knows about a particular backend.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::diag::{Doc, DocPath, Ids, Seg, struct_fields, unknown_name_help};
use super::template::Context;

/// A lab: the machines one lesson runs on and how they are wired.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Lab {
    /// Identifier, also the default lab name (`[a-z0-9-]`, at most 20 characters).
    pub id: String,
    /// One line shown in listings.
    pub title: String,
    /// The lab's IPv4 subnet in CIDR form, e.g. `192.0.2.0/24`. Every address lies inside it.
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
    /// What only a running node can tell (a program's version, the paths that carry it), by
    /// group then name: templates read `{{ GROUP.NAME }}`. Every backend asks them the same way,
    /// on the running nodes after they are up, and the lab's record keeps the answers.
    #[serde(default)]
    pub facts: BTreeMap<String, BTreeMap<String, Fact>>,
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

/// One fact of the lab: either a command run on a node (its trimmed output is the value) or a
/// value made from other facts.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Fact {
    /// The node the command runs on (with `run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// A shell command that prints the value on one line (with `node`); a failure or an empty
    /// answer stops `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// What the command would print on a typical node (with `run`): used to check templates
    /// without a running lab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// A template made from command facts (`"/var/lib/x/{{ x.version }}"`), instead of `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// Names templates have besides facts: a fact group may not take one.
pub const BUILT_IN_NAMES: &[&str] = &[
    "lab", "subnet", "prefix", "iface", "vip", "node", "this", "secrets", "alerts", "run_id",
    "baseline",
];

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
        let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
        unknown_name_help(name, &names, "nodes", true)
    }
}

/// Report `name`, written at `at`, unless it is a node of `lab` (with no lab, nothing is known).
pub(crate) fn check_node_ref(lab: Option<&Lab>, doc: &mut Doc, at: &DocPath, name: &str) {
    if let Some(lab) = lab
        && lab.node(name).is_none()
    {
        doc.error(
            at,
            format!("no node `{name}` in lab `{}`", lab.id),
            Some(lab.unknown_node_help(name)),
        );
    }
}

/// Parse `a.b.c.d/n`.
pub fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let net: Ipv4Net = s.parse().ok()?;
    Some((net.addr(), net.prefix_len()))
}

/// Whether `ip` is a usable host address of `net/prefix` (not the network or broadcast address).
pub fn is_host_in(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    Ipv4Net::new(net, prefix)
        .is_ok_and(|net| net.contains(&ip) && ip != net.network() && ip != net.broadcast())
}

/// A name usable as a host name, an interface name and a file name.
pub fn is_simple_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
}

/// Report `name` (the `what` at `at`, e.g. "node name") unless it is a simple name of at most
/// `max` characters.
pub(crate) fn check_simple_name(doc: &mut Doc, at: &DocPath, what: &str, name: &str, max: usize) {
    if !is_simple_name(name, max) {
        doc.error(
            at,
            format!("{what} `{name}` is not a simple name"),
            Some(format!(
                "use lowercase letters, digits and `-`, at most {max} characters"
            )),
        );
    }
}

/// A Debian package name (Debian policy 5.6.1): these are handed to root's `apt-get`.
pub fn is_package_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.len() >= 2
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c))
}

/// A systemd unit name, conservatively: services are named in commands run with `bash -c`.
pub fn is_unit_name(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 255
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || ":_.@-".contains(c))
}

/// The kernel's rule for interface names (`dev_valid_name`): 1-15 bytes, not `.` or `..`, no
/// `/`, `:` or white space.
pub fn is_iface_name(s: &str) -> bool {
    (1..=15).contains(&s.len())
        && s != "."
        && s != ".."
        && !s.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

/// Permission bits as 3 or 4 octal digits (`644`, `0755`, up to `7777`).
pub fn is_mode(s: &str) -> bool {
    (3..=4).contains(&s.len()) && s.chars().all(|c| ('0'..='7').contains(&c))
}

/// `user` or `user:group`, each a name `useradd` accepts by default.
pub fn is_owner(s: &str) -> bool {
    fn is_account(n: &str) -> bool {
        let body = n.strip_suffix('$').unwrap_or(n);
        let mut chars = body.chars();
        n.len() <= 32
            && chars
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    }
    match s.split_once(':') {
        Some((user, group)) => is_account(user) && is_account(group),
        None => is_account(s),
    }
}

/// An absolute path on a node, usable as one shell word's worth of text (no control characters).
pub fn is_node_path(s: &str) -> bool {
    s.starts_with('/') && !s.chars().any(|c| c.is_control())
}

/// Check a file's `mode` and `owner` (lab roles and solutions place files alike).
pub(crate) fn check_file_attrs(doc: &mut Doc, fp: &DocPath, mode: &str, owner: &str) {
    if !is_mode(mode) {
        doc.error(
            &fp.key("mode"),
            format!("mode `{mode}` is not 3 or 4 octal digits"),
            Some(
                "write the permission bits in octal, from `0000` to `7777`, e.g. `0644` or `0755`"
                    .into(),
            ),
        );
    }
    if !is_owner(owner) {
        doc.error(
            &fp.key("owner"),
            format!("owner `{owner}` is not `user` or `user:group`"),
            Some(
                "write a user name, optionally `:` and a group name (lowercase letters, digits, \
                 `_`, `-`), e.g. `root:root` or `www-data`"
                    .into(),
            ),
        );
    }
}

/// Report every name in `names` that `valid` rejects.
fn check_names(
    doc: &mut Doc,
    list: &DocPath,
    names: &[String],
    valid: fn(&str) -> bool,
    what: &str,
    help: &str,
) {
    for (i, n) in names.iter().enumerate() {
        if !valid(n) {
            doc.error(
                &list.index(i),
                format!("`{n}` is not a valid {what}"),
                Some(help.to_string()),
            );
        }
    }
}

const PACKAGE_HELP: &str = "write one Debian package name per string: lowercase letters, digits, \
     `+`, `-` and `.`, starting with a letter or digit, e.g. `openssh-server` (no options, no spaces)";
pub(crate) const UNIT_HELP: &str = "write one systemd unit name per string: letters, digits and `:_.@-`, \
     e.g. `ssh` or `getty@tty1` (no spaces, no shell)";

/// Field names per place in a lab file, for "did you mean".
fn lab_fields(p: &DocPath) -> &'static [&'static str] {
    match p.0.as_slice() {
        [] => struct_fields::<Lab>(),
        [Seg::Key(k), Seg::Index(_)] if k == "nodes" => struct_fields::<Node>(),
        [Seg::Key(k), Seg::Key(_)] if k == "roles" => struct_fields::<Role>(),
        [Seg::Key(k)] if k == "alerts" => struct_fields::<AlertSink>(),
        [Seg::Key(k), Seg::Key(_), Seg::Key(_)] if k == "facts" => struct_fields::<Fact>(),
        [Seg::Key(k), Seg::Key(_), Seg::Key(f), Seg::Index(_)] if k == "roles" && f == "files" => {
            struct_fields::<FileSpec>()
        }
        _ => &[],
    }
}

/// Read and check a lab file. On success the lab is fully valid.
pub fn load(path: &Path, text: String) -> Result<Lab, super::diag::Diagnostics> {
    Doc::load(path, text, lab_fields, check)
}

/// Every check of a lab, in the order its problems are reported.
fn check(lab: &Lab, doc: &mut Doc) {
    let net = check_top_level(lab, doc);
    let addrs = check_nodes(lab, net, doc);
    check_vip(lab, net, &addrs, doc);
    check_alerts(lab, doc);
    check_facts(lab, doc);
    check_roles(lab, doc);
    check_templates(lab, net.is_some(), doc);
}

/// The lab's own fields (id, subnet, interface, packages, secrets); returns the subnet if it parses.
fn check_top_level(lab: &Lab, doc: &mut Doc) -> Option<(Ipv4Addr, u8)> {
    let root = DocPath::root();
    check_simple_name(doc, &root.key("id"), "lab id", &lab.id, 20);
    let net = parse_cidr(&lab.subnet);
    if net.is_none_or(|(_, p)| !(8..=30).contains(&p)) {
        doc.error(
            &root.key("subnet"),
            format!("`{}` is not an IPv4 subnet", lab.subnet),
            Some("write it in CIDR form with a prefix from /8 to /30, e.g. `192.0.2.0/24`".into()),
        );
    }
    if !is_iface_name(&lab.iface) {
        doc.error(
            &root.key("iface"),
            format!("`{}` is not a valid interface name", lab.iface),
            Some(
                "write the kernel's name of the interface: 1 to 15 characters, no `/`, `:` or \
                 spaces, e.g. `eth0`"
                    .into(),
            ),
        );
    }
    check_names(
        doc,
        &root.key("packages"),
        &lab.packages,
        is_package_name,
        "Debian package name",
        PACKAGE_HELP,
    );
    for (name, len) in &lab.secrets {
        if !(4..=64).contains(len) {
            doc.error(
                &root.key("secrets").key(name),
                format!("secret `{name}` has length {len}"),
                Some("choose a length from 4 to 64 characters".into()),
            );
        }
    }
    net
}

/// `value` (the `what` at `path`) as an address, reported unless it is a host of the subnet `net`.
fn address_in_subnet(
    lab: &Lab,
    net: Option<(Ipv4Addr, u8)>,
    doc: &mut Doc,
    path: &DocPath,
    what: &str,
    value: &str,
) -> Option<Ipv4Addr> {
    let Ok(ip) = value.parse::<Ipv4Addr>() else {
        doc.error(
            path,
            format!("{what} `{value}` is not an IPv4 address"),
            Some("write four numbers, e.g. `192.0.2.20` (no prefix length)".into()),
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
}

/// Each node's name, address and role, and that there is one; returns the addresses in use.
fn check_nodes<'a>(
    lab: &'a Lab,
    net: Option<(Ipv4Addr, u8)>,
    doc: &mut Doc,
) -> BTreeMap<Ipv4Addr, &'a str> {
    let mut names = Ids::new("nodes", "give each node its own name");
    let mut addrs: BTreeMap<Ipv4Addr, &str> = BTreeMap::new();
    let roles: Vec<&str> = lab.roles.keys().map(String::as_str).collect();
    for (i, (p, node)) in DocPath::root().items("nodes", &lab.nodes).enumerate() {
        check_simple_name(doc, &p.key("name"), "node name", &node.name, 15);
        let twice = format!("node `{}` is defined twice", node.name);
        names.once(doc, &p.key("name"), i, &node.name, twice);
        if let Some(ip) =
            address_in_subnet(lab, net, doc, &p.key("address"), "address", &node.address)
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
            doc.error(
                &p.key("role"),
                format!("node `{}` has unknown role `{}`", node.name, node.role),
                Some(unknown_name_help(
                    &node.role,
                    &roles,
                    "roles defined in this file",
                    false,
                )),
            );
        }
    }
    if lab.nodes.is_empty() {
        doc.error_file(
            "the lab has no nodes",
            Some("add `[[nodes]]` tables".into()),
        );
    }
    addrs
}

/// The floating IP: an address of the subnet that no node has.
fn check_vip(
    lab: &Lab,
    net: Option<(Ipv4Addr, u8)>,
    addrs: &BTreeMap<Ipv4Addr, &str>,
    doc: &mut Doc,
) {
    let at = DocPath::root().key("vip");
    if let Some(vip) = &lab.vip
        && let Some(ip) = address_in_subnet(lab, net, doc, &at, "floating IP", vip)
        && let Some(owner) = addrs.get(&ip)
    {
        doc.error(
            &at,
            format!("floating IP {ip} is also the address of node `{owner}`"),
            Some("choose an address no node uses".into()),
        );
    }
}

/// The alert sink: on a node of the lab, on a real port, logging to an absolute path.
fn check_alerts(lab: &Lab, doc: &mut Doc) {
    let Some(a) = &lab.alerts else {
        return;
    };
    let ap = DocPath::root().key("alerts");
    if lab.node(&a.node).is_none() {
        doc.error(
            &ap.key("node"),
            format!("alert sink on unknown node `{}`", a.node),
            Some(lab.unknown_node_help(&a.node)),
        );
    }
    if a.port == 0 {
        doc.error(
            &ap.key("port"),
            "port 0 is not a port one can listen on",
            Some("choose a TCP port from 1 to 65535, e.g. `9000`".into()),
        );
    }
    if !is_node_path(&a.log) {
        doc.error(
            &ap.key("log"),
            format!("alert log `{}` is not an absolute path", a.log),
            Some("write the full path on the node, e.g. `/var/log/halab-alerts.jsonl`".into()),
        );
    }
}

/// Each role's packages and services by name, and its files: absolute, once each, valid attributes.
fn check_roles(lab: &Lab, doc: &mut Doc) {
    for (rname, role) in &lab.roles {
        let rp = DocPath::root().key("roles").key(rname);
        check_names(
            doc,
            &rp.key("packages"),
            &role.packages,
            is_package_name,
            "Debian package name",
            PACKAGE_HELP,
        );
        check_names(
            doc,
            &rp.key("services"),
            &role.services,
            is_unit_name,
            "service (systemd unit) name",
            UNIT_HELP,
        );
        let mut paths = Ids::new("files", "keep one entry per file");
        for (i, (fp, f)) in rp.items("files", &role.files).enumerate() {
            if !is_node_path(&f.path) {
                doc.error(
                    &fp.key("path"),
                    format!("file path `{}` is not absolute", f.path),
                    Some("write the full path on the node, e.g. `/etc/myapp/conf.d/x.conf`".into()),
                );
            }
            let twice = format!("role `{rname}` places `{}` twice", f.path);
            paths.once(doc, &fp.key("path"), i, &f.path, twice);
            check_file_attrs(doc, &fp, &f.mode, &f.owner);
        }
    }
}

/// Every role's templates (file contents, `setup`, `init`) render for a node of that role.
///
/// Unknown names are errors whatever else is wrong: values that are themselves reported
/// elsewhere (a subnet that does not parse, an alert sink on no node) are stood in for, so that
/// only the templates' own mistakes show here.
fn check_templates(lab: &Lab, subnet_parses: bool, doc: &mut Doc) {
    let mut stand_in = lab.clone();
    if !subnet_parses {
        stand_in.subnet = "192.0.2.0/24".into();
    }
    if let Some(a) = &mut stand_in.alerts
        && lab.node(&a.node).is_none()
        && let Some(n) = lab.nodes.first()
    {
        a.node = n.name.clone();
    }
    let lab = &stand_in;
    let example = Context::example(lab);
    for (rname, role) in &lab.roles {
        let Some(node) = lab.nodes.iter().find(|n| &n.role == rname) else {
            continue;
        };
        let ctx = example.for_node(node);
        let rp = DocPath::root().key("roles").key(rname);
        let texts = rp
            .items("files", &role.files)
            .map(|(p, f)| (p.key("content"), &f.content))
            .chain(rp.items("setup", &role.setup))
            .chain(rp.items("init", &role.init));
        for (path, text) in texts {
            ctx.render_at(doc, &path, text);
        }
    }
}

/// A fact group or name: what a template can look up after a `.`.
fn is_fact_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 32
}

const FACT_HELP: &str = "write either `{ node = \"NODE\", run = \"COMMAND\", example = \"VALUE\" }` \
     (a command whose output is the value) or `{ value = \"TEMPLATE\" }` (made from command facts)";

/// Each fact: a usable name, and either a command on a node with an example or a value that renders.
fn check_facts(lab: &Lab, doc: &mut Doc) {
    let root = DocPath::root().key("facts");
    for (group, facts) in &lab.facts {
        let gp = root.key(group);
        if !is_fact_name(group) || BUILT_IN_NAMES.contains(&group.as_str()) {
            doc.error(
                &gp,
                format!("`{group}` cannot name a group of facts"),
                Some(format!(
                    "use lowercase letters, digits and `_`, starting with a letter, and none of \
                     the built-in names ({})",
                    BUILT_IN_NAMES.join(", ")
                )),
            );
        }
        for (name, f) in facts {
            let fp = gp.key(name);
            if !is_fact_name(name) {
                doc.error(
                    &fp,
                    format!("`{group}.{name}` is not a fact name"),
                    Some("use lowercase letters, digits and `_`, starting with a letter".into()),
                );
            }
            match (&f.run, &f.value) {
                (Some(run), None) => {
                    match &f.node {
                        None => doc.error(
                            &fp,
                            format!("fact `{group}.{name}` runs a command on no node"),
                            Some("add `node = \"NODE\"`: the node the command runs on".into()),
                        ),
                        Some(n) if lab.node(n).is_none() => doc.error(
                            &fp.key("node"),
                            format!("fact `{group}.{name}` on unknown node `{n}`"),
                            Some(lab.unknown_node_help(n)),
                        ),
                        Some(_) => {}
                    }
                    if run.trim().is_empty() {
                        doc.error(
                            &fp.key("run"),
                            format!("fact `{group}.{name}` runs an empty command"),
                            Some("write the shell command that prints the value".into()),
                        );
                    }
                    if f.example.as_deref().is_none_or(|e| e.trim().is_empty()) {
                        doc.error(
                            &fp,
                            format!("fact `{group}.{name}` has no example value"),
                            Some(
                                "add `example = \"...\"`, what the command prints on a typical \
                                 node: templates are checked with it"
                                    .into(),
                            ),
                        );
                    }
                }
                (None, Some(_)) => {
                    for (field, set) in
                        [("node", f.node.is_some()), ("example", f.example.is_some())]
                    {
                        if set {
                            doc.error(
                                &fp.key(field),
                                format!(
                                    "fact `{group}.{name}` has a `value`: `{field}` is not used"
                                ),
                                Some(FACT_HELP.into()),
                            );
                        }
                    }
                }
                (Some(_), Some(_)) => doc.error(
                    &fp,
                    format!("fact `{group}.{name}` has both `run` and `value`"),
                    Some(FACT_HELP.into()),
                ),
                (None, None) => doc.error(
                    &fp,
                    format!("fact `{group}.{name}` has neither `run` nor `value`"),
                    Some(FACT_HELP.into()),
                ),
            }
        }
    }
    // Values are made from command facts only, so every one renders from the examples.
    if parse_cidr(&lab.subnet).is_some()
        && let Err((group, name, e)) = crate::content::template::Facts::try_example(lab)
    {
        doc.error(
            &root.key(&group).key(&name).key("value"),
            format!("fact `{group}.{name}` does not render: {e:#}"),
            Some("a value may look up command facts and lab values, not other values".into()),
        );
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::content::diag::testing::{
        assert_problem, assert_says, line_of, problems as problems_of,
    };

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
        problems_of(load(Path::new("labs/t.toml"), text.to_string()))
    }

    #[test]
    fn facts_are_checked_with_file_and_line() {
        let facts = "\n[facts.tool]\n\
            version = { node = \"a\", run = \"tool --version\", example = \"3\" }\n\
            home = { value = \"/opt/tool/{{ tool.version }}\" }\n";
        let lab = load(Path::new("t.toml"), format!("{GOOD}{facts}")).unwrap();
        assert_eq!(
            crate::content::template::Facts::example(&lab).lab["tool"]["home"],
            "/opt/tool/3"
        );
        let bad = "\n[facts.node]\n\
            version = { node = \"nope\", run = \"x\" }\n\
            both = { node = \"a\", run = \"x\", example = \"1\", value = \"y\" }\n\
            [facts.tool]\n\
            home = { value = \"/opt/{{ tool.nope }}\" }\n\
            spelt = { nod = \"a\", run = \"x\", example = \"1\" }\n";
        let p = problems(&format!("{GOOD}{bad}"));
        let has = |line: usize, what: &str| {
            p.iter()
                .any(|d| d.starts_with(&format!("labs/t.toml:{line}:")) && d.contains(what))
        };
        // GOOD has 20 lines; the section starts on line 22.
        assert!(has(22, "`node` cannot name a group of facts"), "{p:#?}");
        assert!(has(23, "on unknown node `nope`"), "{p:#?}");
        assert!(has(23, "has no example value"), "{p:#?}");
        assert!(has(24, "has both `run` and `value`"), "{p:#?}");
        assert!(has(26, "`tool.home` does not render"), "{p:#?}");
        assert!(has(27, "unknown field `nod`"), "{p:#?}");
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
        let used = "labs/t.toml:15:11: address 10.9.0.2 of `b` is already used by `a`";
        assert_says(&p[0], used, &[]);
        let unknown = "labs/t.toml:16:8: node `b` has unknown role `wbe`";
        assert_says(&p[1], unknown, &["did you mean `web`?"]);
        let outside = "labs/t.toml:5:7: floating IP 10.8.0.100 is outside the lab's subnet";
        assert_says(&p[2], outside, &[]);
    }

    #[test]
    fn unknown_fields_are_all_reported_with_suggestions() {
        let bad = GOOD
            .replace("vip = ", "ifcae = \"eth1\"\nvip = ")
            .replace("services = [", "servces = [");
        let p = problems(&bad);
        assert_eq!(p.len(), 2, "{p:#?}");
        let ifcae = "labs/t.toml:5:1: unknown field `ifcae`";
        assert_says(&p[0], ifcae, &["did you mean `iface`?"]);
        let servces = "labs/t.toml:20:1: unknown field `servces`";
        assert_says(&p[1], servces, &["did you mean `services`?"]);
    }

    #[test]
    fn a_misspelt_required_field_says_both_things() {
        let p = problems(&GOOD.replacen("address = \"10.9.0.2\"", "adress = \"10.9.0.2\"", 1));
        let adress = "labs/t.toml:10:1: unknown field `adress`";
        assert_says(&p[0], adress, &["did you mean `address`?"]);
        assert_says(&p[1], "labs/t.toml:8:1: missing field `address`", &[]);
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

    /// The shipped lab, for tests that break one thing in it.
    pub(crate) const REAL: &str = include_str!("../../labs/ch32.toml");

    /// The real lab with `from` (which must occur) replaced once by `to`: its text and problems.
    fn real_with(from: &str, to: &str) -> (String, Vec<String>) {
        assert!(REAL.contains(from), "`{from}` is not in labs/ch32.toml");
        let text = REAL.replacen(from, to, 1);
        let problems = problems_of(load(Path::new("labs/ch32.toml"), text.clone()));
        (text, problems)
    }

    fn broken(from: &str, to: &str, marker: &str, what: &str, help: &str) -> Vec<String> {
        let (text, p) = real_with(from, to);
        assert_problem(&p, "labs/ch32.toml", line_of(&text, marker), what, help);
        p
    }

    #[test]
    fn the_real_lab_loads() {
        let lab = load(Path::new("labs/ch32.toml"), REAL.into()).unwrap();
        assert!(!lab.nodes.is_empty());
    }

    #[test]
    fn package_names_are_debian_names() {
        let p = broken(
            "packages = [\"sudo\",",
            "packages = [\"-oDPkg::Pre-Invoke::=touch /tmp/x\", \"nginx extra\", \"\", \"sudo\",",
            "packages = [\"-oDPkg",
            "is not a valid Debian package name",
            "Debian package name",
        );
        assert_eq!(p.len(), 3, "{p:#?}");
        broken(
            "packages = [\"python3\"]",
            "packages = [\"python3 --yes\"]",
            "python3 --yes",
            "`python3 --yes` is not a valid Debian package name",
            "no options, no spaces",
        );
    }

    #[test]
    fn service_names_are_unit_names() {
        broken(
            "services = [\"halab-alert-sink\"]",
            "services = [\"cron; touch /tmp/x\"]",
            "cron; touch",
            "`cron; touch /tmp/x` is not a valid service (systemd unit) name",
            "systemd unit name",
        );
        let (_, p) = real_with(
            "services = [\"postgresql\", \"cron\"]",
            "services = [\"postgresql@15-main\", \"cron.service\"]",
        );
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn interface_names_follow_the_kernel() {
        for bad in ["", "a/b", "eth:0", "eth 0", "..", "sixteen-chars-xy"] {
            broken(
                "iface = \"eth0\"",
                &format!("iface = \"{bad}\""),
                "iface =",
                "is not a valid interface name",
                "1 to 15 characters",
            );
        }
        let (_, p) = real_with("iface = \"eth0\"", "iface = \"enp0s1.100\"");
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn file_modes_are_octal() {
        for bad in ["77777777", "+755", "rwxr-xr-x", "0800", "75"] {
            broken(
                "mode = \"0755\"",
                &format!("mode = \"{bad}\""),
                "mode = ",
                &format!("mode `{bad}` is not 3 or 4 octal digits"),
                "from `0000` to `7777`",
            );
        }
        let (_, p) = real_with("mode = \"0755\"", "mode = \"755\"");
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn owners_are_user_or_user_and_group() {
        for bad in ["a:b:c", "", ":x", "x:", "Root", "a b"] {
            broken(
                "mode = \"0755\"",
                &format!("mode = \"0755\"\nowner = \"{bad}\""),
                "owner = ",
                &format!("owner `{bad}` is not `user` or `user:group`"),
                "e.g. `root:root`",
            );
        }
        let (_, p) = real_with("mode = \"0755\"", "mode = \"0755\"\nowner = \"www-data\"");
        assert!(p.is_empty(), "{p:#?}");
    }

    #[test]
    fn the_alert_port_is_a_port() {
        broken(
            "port = 9000",
            "port = 0",
            "port = 0",
            "port 0",
            "from 1 to 65535",
        );
        broken(
            "port = 9000",
            "port = 65536",
            "port = 65536",
            "expected u16",
            "from 0 to 65535",
        );
    }

    #[test]
    fn node_paths_are_absolute() {
        broken(
            "log = \"/var/log/halab-alerts.jsonl\"",
            "log = \"halab-alerts.jsonl\"",
            "log = ",
            "alert log `halab-alerts.jsonl` is not an absolute path",
            "full path on the node",
        );
        broken(
            "path = \"/usr/local/etc/halab-app/db.conf\"",
            "path = \"usr/local/etc/halab-app/db.conf\"",
            "path = \"usr/local",
            "file path `usr/local/etc/halab-app/db.conf` is not absolute",
            "full path on the node",
        );
    }

    #[test]
    fn template_problems_come_with_the_others() {
        // A broken port and a broken subnet (the templates' own input) do not hide a bad template.
        let (text, _) = real_with("port = 9000", "port = 0");
        let text = text
            .replacen(
                "NAME = \"{{ this.name }}\"",
                "NAME = \"{{ this.nmae }}\"",
                1,
            )
            .replacen("subnet = \"10.0.0.0/24\"", "subnet = \"10.0.0.0\"", 1);
        let p2 = problems_of(load(Path::new("labs/ch32.toml"), text.clone()));
        let f = "labs/ch32.toml";
        assert_problem(&p2, f, line_of(&text, "port = 0"), "port 0", "65535");
        assert_problem(
            &p2,
            f,
            line_of(&text, "subnet ="),
            "not an IPv4 subnet",
            "CIDR",
        );
        assert_problem(
            &p2,
            f,
            // A multi-line text is reported where it opens, with the line within it.
            line_of(&text, "content = '''\n#!/usr/bin/python3"),
            "template does not render",
            "this.name",
        );
        assert_eq!(p2.len(), 3, "{p2:#?}");
    }

    #[test]
    fn host_address_rules() {
        let n: Ipv4Addr = "10.0.0.0".parse().unwrap();
        assert!(is_host_in("10.0.0.2".parse().unwrap(), n, 24));
        assert!(!is_host_in("10.0.0.0".parse().unwrap(), n, 24));
        assert!(!is_host_in("10.0.0.255".parse().unwrap(), n, 24));
        assert!(!is_host_in("10.0.1.2".parse().unwrap(), n, 24));
        assert!(is_host_in("10.0.0.2".parse().unwrap(), n, 30));
        assert!(!is_host_in("10.0.0.3".parse().unwrap(), n, 30));
        assert!(!is_host_in("10.0.0.0".parse().unwrap(), n, 32));
        assert_eq!(
            parse_cidr("10.0.0.5/24"),
            Some(("10.0.0.5".parse().unwrap(), 24))
        );
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("10.0.0.0"), None);
    }
}
