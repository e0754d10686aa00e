//! How a backend tells what it needs of the host: a [`Need`] (something the backend needs on
//! this host, whether it is there, and the command that fixes it) and a [`Daemon`] (whether the
//! backend's daemon answers). Each backend says its own (`lxd::needs`, `lxd::daemon`, ...);
//! `backend::needs` and `backend::daemon` ask the one a kind names, with no lab open.
//!
//! Must not: change the host (these only look), or know what any one backend needs.

use std::collections::BTreeSet;

use serde::Serialize;

/// One thing a backend needs on this host.
#[derive(Debug, Serialize)]
pub(crate) struct Need {
    /// What is needed, e.g. "`lxc` (the LXD client)".
    pub need: String,
    /// Whether this host has it.
    pub ok: bool,
    /// What was found (a version, a state) or what is wrong.
    pub detail: String,
    /// The command that fixes it, when it is missing.
    pub fix: Option<String>,
    /// Whether the backend works without it (reset rebuilds instead of restoring, say).
    pub optional: bool,
}

impl Need {
    /// A need, with `fix` kept only when it is missing.
    pub(crate) fn new(
        need: impl Into<String>,
        ok: bool,
        detail: impl Into<String>,
        fix: &str,
    ) -> Need {
        Need {
            need: need.into(),
            ok,
            detail: detail.into(),
            fix: (!ok).then(|| fix.to_string()),
            optional: false,
        }
    }

    /// The same need, one the backend works without.
    pub(crate) fn optional(self) -> Need {
        Need {
            optional: true,
            ..self
        }
    }

    /// A need met when nothing of it is `missing`: `all_there` says so, or the detail lists
    /// what is missing.
    #[cfg(netns)]
    pub(crate) fn none_missing(need: &str, missing: &[&str], all_there: &str, fix: &str) -> Need {
        let detail = if missing.is_empty() {
            all_there.to_string()
        } else {
            format!("missing: {}", missing.join(", "))
        };
        Need::new(need, missing.is_empty(), detail, fix)
    }

    /// halab running as root.
    #[cfg(netns)]
    pub(crate) fn root() -> Need {
        let root = crate::host::is_root();
        Need::new(
            "root",
            root,
            if root { "running as root" } else { "not root" },
            "run halab with `sudo`",
        )
    }

    /// Debian packages: what is missing of `wanted`, and the `apt-get` line that installs it.
    pub(crate) fn packages(need: &str, wanted: &BTreeSet<String>) -> Need {
        match crate::host::missing_packages(wanted) {
            Ok(missing) if missing.is_empty() => Need::new(need, true, "installed", ""),
            Ok(missing) => Need::new(
                need,
                false,
                format!("missing: {}", missing.join(", ")),
                &format!("sudo apt-get install {}", missing.join(" ")),
            ),
            Err(e) => Need::new(need, false, e.to_string(), "use a Debian or Ubuntu host"),
        }
    }
}

/// What a backend's daemon said when asked whether it is there: asked once, by one function
/// per backend, with one timeout, for `halab doctor`, the backend choice and the backend alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Daemon {
    /// Its client is not installed: there is nobody to ask.
    NoClient,
    /// It answers this user; its version.
    Answers(String),
    /// It is there but refuses this user (permissions); what it said.
    Denied(String),
    /// It does not answer; what was said instead.
    Silent(String),
}

impl Daemon {
    pub(crate) fn answers(&self) -> bool {
        matches!(self, Daemon::Answers(_))
    }
}
