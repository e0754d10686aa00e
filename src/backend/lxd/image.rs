//! The lxd backend's base image: every package of the lab already installed, built once with
//! debootstrap from the host's own release and mirror (`assets/lxd/image.toml`), imported into
//! LXD under an alias that names the recipe, the packages and the release, and reused by every
//! lab that needs the same.
//!
//! Must not: touch an image that is not halab's (aliases `halab-…`), or create instances.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde::Deserialize;

use super::{Lxd, lxc, tag};
use crate::backend::LabSpec;
use crate::exec::Cmd;
use crate::ui::{Problem, Progress};

const IMAGE_TOML: &str = include_str!("../../../assets/lxd/image.toml");

/// `assets/lxd/image.toml`.
#[derive(Deserialize)]
pub(super) struct ImageRecipe {
    base: Vec<String>,
    customize: Vec<String>,
    templates: BTreeMap<String, String>,
    /// Package -> what to undo in a new node whose role lacks it, so the node starts as if only
    /// its own packages were installed.
    pub(super) absent: BTreeMap<String, Vec<String>>,
}

pub(super) fn recipe() -> ImageRecipe {
    toml::from_str(IMAGE_TOML).expect("assets/lxd/image.toml is valid (checked by a unit test)")
}

impl Lxd {
    /// The image alias for this lab's packages on this host's release.
    fn image_alias(&self, spec: &LabSpec) -> Result<(String, HostRelease)> {
        let rel = HostRelease::read()?;
        let r = recipe();
        let mut packages: BTreeSet<&str> = r.base.iter().map(String::as_str).collect();
        packages.extend(spec.packages.iter().map(String::as_str));
        let fingerprint = format!(
            "{IMAGE_TOML}\n{:?}\n{}\n{}\n{}",
            packages, rel.id, rel.codename, rel.mirror
        );
        Ok((
            format!("halab-{}-{}-{}", rel.id, rel.codename, tag(&fingerprint)),
            rel,
        ))
    }

    /// The cached base image, built first when missing. Returns its alias.
    pub(super) fn ensure_image(&self, spec: &LabSpec) -> Result<String> {
        let (alias, rel) = self.image_alias(spec)?;
        if self.q(&format!("/1.0/images/aliases/{alias}"))?.is_none() {
            self.build_image(spec, &alias, &rel)?;
        }
        Ok(alias)
    }

    fn build_image(&self, spec: &LabSpec, alias: &str, rel: &HostRelease) -> Result<()> {
        let r = recipe();
        let t0 = Instant::now();
        let work = self.home.join("cache").join(format!("build-{alias}"));
        let debs = self.home.join("cache").join("debootstrap");
        if work.exists() {
            fs::remove_dir_all(&work)?;
        }
        fs::create_dir_all(&work)?;
        fs::create_dir_all(&debs)?;
        let rootfs = work.join("rootfs");
        let mut packages: BTreeSet<String> = r.base.iter().cloned().collect();
        packages.extend(spec.packages.iter().cloned());
        let progress = Progress::new("base image", 3);
        progress.message(&format!(
            "debootstrap {} from {} (about a minute, once)",
            rel.codename, rel.mirror
        ));
        Cmd::new("debootstrap")
            .arg("--variant=minbase")
            .arg(format!(
                "--include={}",
                packages.into_iter().collect::<Vec<_>>().join(",")
            ))
            .arg(format!("--cache-dir={}", debs.display()))
            .arg(&rel.codename)
            .arg(&rootfs)
            .arg(&rel.mirror)
            .timeout(Some(Duration::from_secs(1800)))
            .run_ok()
            .context("building the lab's base image with debootstrap")?;
        progress.inc("debootstrap");
        for c in &r.customize {
            Cmd::new("chroot")
                .arg(&rootfs)
                .args(["sh", "-c", c])
                .run_ok()?;
        }
        fs::create_dir_all(work.join("templates"))?;
        let mut meta = format!(
            "architecture: {}\ncreation_date: {}\nproperties:\n  description: halab lab image ({} {})\n  os: {}\n  release: {}\ntemplates:\n",
            rel.arch,
            crate::state::now_unix(),
            rel.id,
            rel.codename,
            rel.id,
            rel.codename
        );
        for (i, (path, text)) in r.templates.iter().enumerate() {
            let name = format!("t{i}.tpl");
            fs::write(work.join("templates").join(&name), text)?;
            meta += &format!("  {path}:\n    when: [create, copy, start]\n    template: {name}\n");
        }
        fs::write(work.join("metadata.yaml"), meta)?;
        progress.inc("customize");
        progress.message("packing and importing");
        let tar = work.join("image.tar");
        Cmd::new("tar")
            .args(["--numeric-owner", "--xattrs", "--xattrs-include=*", "-C"])
            .arg(&work)
            .arg("-cf")
            .arg(&tar)
            .args(["metadata.yaml", "templates", "rootfs"])
            .timeout(Some(Duration::from_secs(600)))
            .run_ok()?;
        lxc()
            .args(["image", "import"])
            .arg(&tar)
            .args(self.remote.as_ref().map(|r| format!("{r}:")))
            .args(["--alias", alias])
            .timeout(Some(Duration::from_secs(600)))
            .run_ok()?;
        progress.inc("import");
        fs::remove_dir_all(&work)?;
        progress.finish(&format!(
            "`{alias}` built in {:.0} s (cached for later labs)",
            t0.elapsed().as_secs_f32()
        ));
        Ok(())
    }

    /// Remove every halab image; returns how many.
    pub(super) fn purge_images(&self) -> Result<usize> {
        let mut n = 0;
        let aliases = self
            .q("/1.0/images/aliases?recursion=1")?
            .unwrap_or_default();
        for a in aliases.as_array().into_iter().flatten() {
            if let Some(name) = a["name"].as_str().filter(|n| n.starts_with("halab-")) {
                lxc().args(["image", "delete", &self.on(name)]).run_ok()?;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// What debootstrap builds: this host's own distribution, release, mirror and architecture.
struct HostRelease {
    id: String,
    codename: String,
    mirror: String,
    arch: String,
}

impl HostRelease {
    fn read() -> Result<HostRelease> {
        let os = fs::read_to_string("/etc/os-release").context("cannot read /etc/os-release")?;
        let field = |k: &str| {
            os.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        let id = field("ID").unwrap_or_default();
        let codename = field("VERSION_CODENAME").unwrap_or_default();
        if !matches!(id.as_str(), "debian" | "ubuntu") || codename.is_empty() {
            return Err(Problem::new(
                format!("the lxd backend builds its image from this host's release, and `{id}` is not Debian or Ubuntu"),
                "run halab on Debian 12 or Ubuntu 22.04 or newer",
            )
            .into());
        }
        let mirror = apt_mirror(&codename).unwrap_or_else(|| {
            if id == "ubuntu" {
                "http://archive.ubuntu.com/ubuntu".into()
            } else {
                "http://deb.debian.org/debian".into()
            }
        });
        let deb_arch = Cmd::new("dpkg")
            .arg("--print-architecture")
            .run_ok()?
            .stdout
            .trim()
            .to_string();
        let arch = match deb_arch.as_str() {
            "amd64" => "x86_64",
            "arm64" => "aarch64",
            other => other,
        }
        .to_string();
        Ok(HostRelease {
            id,
            codename,
            mirror,
            arch,
        })
    }
}

/// The mirror the host's apt uses for `codename` (deb822 `.sources` or `sources.list`).
fn apt_mirror(codename: &str) -> Option<String> {
    let mut texts: Vec<String> = Vec::new();
    for e in fs::read_dir("/etc/apt/sources.list.d")
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "sources") {
            texts.push(fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    for stanza in texts.iter().flat_map(|t| t.split("\n\n")) {
        let get = |k: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
        };
        if let (Some(uris), Some(suites)) = (get("URIs:"), get("Suites:"))
            && suites.split_whitespace().any(|s| s == codename)
        {
            return uris.split_whitespace().next().map(String::from);
        }
    }
    let list = fs::read_to_string("/etc/apt/sources.list").unwrap_or_default();
    list.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("deb ")?.trim_start();
        // `deb [signed-by=...] URL SUITE COMPONENTS`
        let rest = match rest.strip_prefix('[') {
            Some(r) => r.split_once(']')?.1,
            None => rest,
        };
        let mut words = rest.split_whitespace();
        let (url, suite) = (words.next()?, words.next()?);
        (suite == codename).then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipe_asset_parses() {
        let r = recipe();
        assert!(r.base.contains(&"systemd-sysv".to_string()));
        assert!(r.templates.keys().any(|k| k.contains("systemd/network")));
        assert!(r.absent.contains_key("postgresql"));
    }
}
