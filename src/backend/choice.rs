//! Which backend a new lab gets, and why: `--backend`, then `HALAB_BACKEND`, then `backend =` in
//! halab's config file, then what this machine has (an LXD daemon that answers, then a
//! multipass daemon that answers, then Linux: netns). An existing lab keeps its own backend.
//!
//! Must not: build, change or start anything; it only looks.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::ValueEnum as _;
use serde::Deserialize;

use super::BackendKind;
use crate::ui::Problem;

/// A backend and the reason it was chosen, as shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BackendChoice {
    pub kind: BackendKind,
    pub reason: String,
}

/// halab's own settings (`~/.config/halab/config.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The backend new labs get when neither `--backend` nor `HALAB_BACKEND` says.
    #[serde(default)]
    pub backend: Option<String>,
}

/// `$XDG_CONFIG_HOME/halab/config.toml`, else `~/.config/halab/config.toml`.
pub(crate) fn config_path() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("halab/config.toml"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".config/halab/config.toml"))
}

fn parse_kind(value: &str, from: &str) -> Result<BackendKind> {
    BackendKind::from_str(value.trim(), true).map_err(|_| {
        let names: Vec<String> = BackendKind::built().iter().map(|k| k.to_string()).collect();
        let mut hint = format!("use one of: {}", names.join(", "));
        if let Some(m) = crate::content::diag::did_you_mean(value, names.iter().map(String::as_str))
        {
            hint = format!("did you mean `{m}`? ({hint})");
        }
        Problem::new(format!("{from} names no backend: `{value}`"), hint).into()
    })
}

fn load_config() -> Result<Option<(Config, PathBuf)>> {
    let Some(path) = config_path() else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // Another user's home (`sudo` keeping HOME, say): as if there were none, but said.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            crate::ui::warn(format!(
                "cannot read `{}`: {e}; ignoring it",
                path.display()
            ));
            return Ok(None);
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    let config: Config = toml::from_str(&text).map_err(|e| {
        Problem::new(
            format!("`{}` is not valid: {}", path.display(), e.message()),
            "it takes one setting: `backend = \"netns\"` (or \"lxd\", \"multipass\")",
        )
    })?;
    Ok(Some((config, path)))
}

/// The backend for a new lab, and why; one this build lacks is refused, saying so.
pub(crate) fn choose(flag: Option<BackendKind>) -> Result<BackendChoice> {
    let choice = choose_any(flag)?;
    if !choice.kind.is_built() {
        return Err(super::not_built(choice.kind, Some(&choice.reason)));
    }
    Ok(choice)
}

fn choose_any(flag: Option<BackendKind>) -> Result<BackendChoice> {
    if let Some(kind) = flag {
        return Ok(BackendChoice {
            kind,
            reason: format!("`--backend {kind}`"),
        });
    }
    if let Some(v) = std::env::var("HALAB_BACKEND")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return Ok(BackendChoice {
            kind: parse_kind(&v, "`HALAB_BACKEND`")?,
            reason: format!("`HALAB_BACKEND={v}`"),
        });
    }
    if let Some((config, path)) = load_config()?
        && let Some(v) = config.backend
    {
        let from = format!("`backend` in `{}`", path.display());
        return Ok(BackendChoice {
            kind: parse_kind(&v, &from)?,
            reason: from,
        });
    }
    detect()
}

/// What this machine has, in the order a trainee would want it.
pub(crate) fn detect() -> Result<BackendChoice> {
    for (kind, reason) in [
        (BackendKind::Lxd, "detected: an LXD daemon answers"),
        (
            BackendKind::Multipass,
            "detected: a multipass daemon answers",
        ),
    ] {
        if super::daemon(kind).is_some_and(|d| d.answers()) {
            return Ok(BackendChoice {
                kind,
                reason: reason.into(),
            });
        }
    }
    if BackendKind::Netns.is_built() {
        // Without root this ends in the exact `sudo` line to run.
        return Ok(BackendChoice {
            kind: BackendKind::Netns,
            reason: "detected: Linux, and no LXD or multipass daemon answers".into(),
        });
    }
    Err(Problem::new(
        "no backend can run a lab here: no LXD or multipass daemon answers, and this build of halab has no netns backend (that needs Linux)",
        "`halab doctor` says what each backend lacks and how to fix it",
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_parse_with_a_suggestion() {
        assert_eq!(parse_kind("LXD", "x").unwrap(), BackendKind::Lxd);
        let e = parse_kind("multipas", "`HALAB_BACKEND`").unwrap_err();
        let p = e.downcast_ref::<Problem>().unwrap();
        assert!(p.hint.contains("did you mean `multipass`"), "{}", p.hint);
    }
}
