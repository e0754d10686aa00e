//! The lxd backend's part in classes, mechanical: a lab project that keeps to itself (its own
//! copy of the base image, so no other image of the server shows; restricted to its own bridge;
//! limits sized from the lab), key-value state kept in the project (a profile halab owns,
//! readable and writable by whoever may use the project and nobody else), settings in the
//! project's own config (which a certificate restricted to the project can read but not
//! change), and trust tokens restricted to one project.
//!
//! Must not: know what a class, trainee or step is (it is given names and keys), or touch a
//! certificate, token, project or profile whose name is not halab's.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use super::{Lxd, NODE_MEMORY_MIB, client, lxc, query};
use crate::backend::LabSpec;
use crate::exec::Cmd;
use crate::ui::Problem;

/// The profile in a lab's project that holds its shared state (no instance uses it).
const SHELF_PROFILE: &str = "halab-state";

impl Lxd {
    /// The daemon itself as an argument: `REMOTE:`, or `local:`.
    fn server(&self) -> String {
        format!("{}:", self.remote.as_deref().unwrap_or("local"))
    }

    /// The daemon as an optional first argument: `REMOTE:`, or none for the local one.
    fn server_args(&self) -> Vec<String> {
        self.remote.iter().map(|r| format!("{r}:")).collect()
    }

    /// Create the lab's project as a class lab's, before its nodes: with its own images (a copy
    /// of the base image, made first when missing) and profiles, so that a certificate
    /// restricted to the project sees nothing of the server's other images.
    pub(crate) fn create_class_project(&self, spec: &LabSpec) -> Result<()> {
        let project = self.project();
        if self.q(&format!("/1.0/projects/{project}"))?.is_none() {
            lxc()
                .args(["project", "create", &self.on(&project)])
                .args(["-c", "features.images=true", "-c", "features.profiles=true"])
                .args(["-c", "features.storage.volumes=false"])
                .run_ok()?;
            // A project limit on CPUs needs every instance to have its own, also one restored
            // from a snapshot: from the project's default profile, not each instance's config.
            self.in_project(lxc().args(["profile", "set", &self.on("default"), "limits.cpu=1"]))
                .run_ok()?;
        }
        let alias = self.ensure_image(spec)?;
        if self
            .q(&format!("/1.0/images/aliases/{alias}?project={project}"))?
            .is_none()
        {
            lxc()
                .args(["image", "copy", &self.on(&alias), &self.server()])
                .args(["--target-project", &project, "--copy-aliases"])
                .timeout(Some(Duration::from_secs(600)))
                .run_ok()
                .context("copying the base image into the lab's project")?;
        }
        Ok(())
    }

    /// Close the built lab's project to anything but the lab: `restricted` (LXD's own rules
    /// for a project its users must not break out of: no privileged or nested containers, no
    /// host devices), its own bridge as the only network, and limits from the lab (no more
    /// instances than its nodes, one CPU and its memory per node). `settings` (keys
    /// `user.halab.*`) are set in the same change.
    pub(crate) fn seal_project(&self, nodes: usize, settings: &[(String, String)]) -> Result<()> {
        let count = nodes as u64;
        let mut c = lxc().args(["project", "set", &self.on(&self.project())]);
        c = c.args([
            "restricted=true".to_string(),
            format!("restricted.networks.access={}", self.network()),
            format!("limits.instances={count}"),
            format!("limits.cpu={count}"),
            format!("limits.memory={}MiB", count * NODE_MEMORY_MIB),
        ]);
        for (k, v) in settings {
            c = c.arg(format!("{k}={v}"));
        }
        c.run_ok().context("restricting the lab's project")?;
        Ok(())
    }

    /// Change the project's `user.halab.*` settings (only a certificate with full access can).
    pub(crate) fn set_project_settings(&self, settings: &[(String, String)]) -> Result<()> {
        let mut c = lxc().args(["project", "set", &self.on(&self.project())]);
        for (k, v) in settings {
            c = c.arg(format!("{k}={v}"));
        }
        c.run_ok()?;
        Ok(())
    }

    /// The project's `user.halab.*` settings; `None` when the project does not exist.
    pub(crate) fn project_settings(&self) -> Result<Option<BTreeMap<String, String>>> {
        let Some(p) = self.q(&format!("/1.0/projects/{}", self.project()))? else {
            return Ok(None);
        };
        Ok(Some(user_keys(&p["config"])))
    }

    /// The state kept in the project (its `user.halab.*` keys); `None` when none is kept.
    pub(crate) fn shelf(&self) -> Result<Option<BTreeMap<String, String>>> {
        let path = format!("/1.0/profiles/{SHELF_PROFILE}?project={}", self.project());
        Ok(self.q(&path)?.map(|p| user_keys(&p["config"])))
    }

    /// Replace the state kept in the project by `keys` (each `user.halab.*`), in one change.
    pub(crate) fn put_shelf(&self, keys: &BTreeMap<String, String>) -> Result<()> {
        let body = serde_json::json!({
            "description": "halab: the lab's record, progress and secrets (no instance uses it)",
            "config": keys,
        });
        if self.shelf()?.is_none() {
            // `profile create` reads no stdin: made empty, then edited.
            self.in_project(lxc().args(["profile", "create", &self.on(SHELF_PROFILE)]))
                .run_ok()?;
        }
        // The profile's YAML read from stdin (JSON is YAML): no argument grows with the record.
        self.in_project(lxc().args(["profile", "edit", &self.on(SHELF_PROFILE)]))
            .stdin(body.to_string())
            .run_ok()
            .context("storing the lab's state in its LXD project")?;
        Ok(())
    }

    /// Every node's LXD status (`Running`, `Stopped`...) in one question.
    pub(crate) fn node_states(&self) -> Result<BTreeMap<String, String>> {
        let list = self
            .q(&format!(
                "/1.0/instances?project={}&recursion=1",
                self.project()
            ))?
            .unwrap_or_default();
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| {
                Some((
                    i["name"].as_str()?.to_string(),
                    i["status"].as_str()?.to_string(),
                ))
            })
            .collect())
    }

    /// A one-time token with which a client gets a certificate restricted to this lab's
    /// project, named `name`. It expires after `expiry` (LXD's duration, e.g. `24H`): LXD 5.0
    /// takes a token's expiry from the server's `core.remote_token_expiry` when the token is
    /// made, so an unset key is set for that moment and unset again; one the server's owner
    /// set is used as it is.
    pub(crate) fn trust_token(&self, name: &str, expiry: &str) -> Result<String> {
        // Labs are built in parallel: one token at a time, or one's unset would undo another's.
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let server = self.q("/1.0")?.unwrap_or_default();
        let key = "core.remote_token_expiry";
        let own = server["config"][key].as_str().filter(|v| !v.is_empty());
        if own.is_none() {
            lxc()
                .args(["config", "set"])
                .args(self.server_args())
                .arg(format!("{key}={expiry}"))
                .run_ok()?;
        }
        let made = lxc()
            .args(["config", "trust", "add"])
            .args(self.server_args())
            .args([
                "--name",
                name,
                "--restricted",
                "--projects",
                &self.project(),
            ])
            .run_ok();
        if own.is_none() {
            lxc()
                .args(["config", "unset"])
                .args(self.server_args())
                .arg(key)
                .run_ok()?;
        }
        let token = made?
            .stdout
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string();
        if token.is_empty() || token.contains(' ') {
            bail!("`{} config trust add` printed no token", client());
        }
        Ok(token)
    }

    /// Remove the trust certificates and the pending tokens named `name`; what was removed.
    pub(crate) fn revoke(&self, name: &str) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        let certs = self.q("/1.0/certificates?recursion=1")?.unwrap_or_default();
        for c in certs.as_array().into_iter().flatten() {
            if c["name"].as_str() == Some(name)
                && let Some(fp) = c["fingerprint"].as_str()
            {
                lxc()
                    .args(["config", "trust", "remove", &self.on(fp)])
                    .run_ok()?;
                removed.push(format!("trusted certificate `{name}`"));
            }
        }
        let ops = self.q("/1.0/operations?recursion=1")?.unwrap_or_default();
        let pending = ops["running"].as_array().into_iter().flatten().filter(|o| {
            o["class"] == "token" && o["metadata"]["request"]["name"].as_str() == Some(name)
        });
        if pending.count() > 0 {
            lxc()
                .args(["config", "trust", "revoke-token", &self.on(name)])
                .run_ok()?;
            removed.push(format!("unused join token `{name}`"));
        }
        Ok(removed)
    }

    /// Delete what a class lab's project holds besides instances (its image copies and halab's
    /// profiles), so the project itself can go; nothing is done to another lab's project.
    pub(super) fn empty_class_project(&self, project: &str, p: &serde_json::Value) -> Result<()> {
        if p["config"]["features.images"].as_str() == Some("true") {
            let images = self
                .q(&format!("/1.0/images?project={project}"))?
                .unwrap_or_default();
            for url in images
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u.as_str())
            {
                let fp = last_segment(url);
                self.in_project(lxc().args(["image", "delete", &self.on(fp)]))
                    .run_ok()?;
            }
        }
        let profiles = self
            .q(&format!("/1.0/profiles?project={project}"))?
            .unwrap_or_default();
        for url in profiles
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u.as_str())
        {
            let name = last_segment(url);
            if name.starts_with("halab-") {
                self.in_project(lxc().args(["profile", "delete", &self.on(name)]))
                    .run_ok()?;
            }
        }
        Ok(())
    }
}

/// `/1.0/images/abc?project=p` -> `abc`.
fn last_segment(url: &str) -> &str {
    url.split('?')
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// The `user.halab.*` keys of an LXD config object.
fn user_keys(config: &serde_json::Value) -> BTreeMap<String, String> {
    config
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("user.halab."))
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// The address a remote (or, `None`, the local daemon) listens on for clients over the network
/// (`core.https_address`), which every token names; an error saying how to set it when unset.
pub(crate) fn network_address(remote: Option<&str>) -> Result<String> {
    let path = match remote {
        Some(r) => format!("{r}:/1.0"),
        None => "/1.0".to_string(),
    };
    let server = query(&path)?.unwrap_or_default();
    let addr = server["config"]["core.https_address"]
        .as_str()
        .unwrap_or_default();
    if addr.is_empty() {
        return Err(Problem::new(
            "the LXD server does not listen on the network, so trainees could not reach it",
            format!(
                "let it listen where the trainees reach it, e.g. `{} config set core.https_address :8443`",
                client()
            ),
        )
        .into());
    }
    Ok(addr.to_string())
}

/// Add the LXD server a token names as the remote `name` of this user's LXD client (its
/// `LXD_CONF`), with the certificate the token grants.
pub(crate) fn add_remote(name: &str, token: &str) -> Result<()> {
    Cmd::new(client())
        .args(["remote", "add", name, token])
        .timeout(Some(Duration::from_secs(120)))
        .run_ok()
        .map_err(|e| {
            anyhow::Error::new(e).context(Problem::new(
                format!("the class server did not accept the join token (as remote `{name}`)"),
                "a token works once and expires: ask your instructor for a new one",
            ))
        })?;
    Ok(())
}

/// Whether this user's LXD client has the remote `name`.
pub(crate) fn has_remote(name: &str) -> Result<bool> {
    let out = Cmd::new(client())
        .args(["remote", "list", "--format", "csv"])
        .run_ok()?;
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.split(',').next())
        // The default remote's name carries ` (current)`.
        .any(|n| n.trim_end_matches(" (current)") == name))
}
