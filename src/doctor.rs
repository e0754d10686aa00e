//! `halab doctor`: what each backend needs on this machine, what is missing, and the exact
//! command that fixes each, as the backends themselves say it (`backend::needs`). Looks only:
//! installs, starts and initialises nothing.
//!
//! Must not: change the host, or know what a backend needs (each backend says its own).

use serde::Serialize;

use crate::backend::{self, BackendKind, Need};

/// Everything about one backend.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The backend this is about.
    pub backend: BackendKind,
    /// Whether it can run a lab here: every need that is not optional is met.
    pub usable: bool,
    /// What it needs, in the order it says them.
    pub items: Vec<Need>,
}

/// What `kind` needs here.
pub(crate) fn diagnose(kind: BackendKind) -> Report {
    let items = backend::needs(kind);
    let usable = items.iter().all(|i| i.ok || i.optional);
    Report {
        backend: kind,
        usable,
        items,
    }
}
