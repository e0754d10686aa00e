//! A class lab's state kept with the lab, in its LXD project: the record (progress, checks,
//! drills; without the machine's own [`Seat`]), the lab file and the secrets, each under a
//! `user.halab.*` key of the profile the backend keeps for it. Every save of the record is
//! stored there too ([`store`], given to `state` at start), and a command on a class lab first
//! takes the kept state ([`take`]), so trainee and instructor see the same progress.
//!
//! Must not: keep anything of a lab that is not a class lab, or let the kept record decide
//! what this machine may do (the seat and the class's settings come from elsewhere).

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};

use crate::backend::Place;
use crate::backend::lxd::Lxd;
use crate::state::{self, LabDir, LabRecord, Seat};

const RECORD: &str = "user.halab.record";
const LAB_FILE: &str = "user.halab.lab-file";
const SECRETS: &str = "user.halab.secrets";
/// The class's settings in the project's own config (a trainee reads them, cannot change them).
pub(crate) const ALLOW_RESET: &str = "user.halab.allow-reset";
pub(crate) const ALLOW_SOLVE: &str = "user.halab.allow-solve";

/// The backend of a class lab, for its project.
pub(crate) fn lxd(dir: &LabDir, remote: Option<String>, seat: &Seat) -> Lxd {
    Lxd::new(
        dir,
        Place {
            remote,
            lxd_name: Some(seat.lxd_name.clone()),
        },
    )
}

/// Store a class lab's saved record (and its lab file and secrets) in its project.
pub(crate) fn store(dir: &LabDir, rec: &LabRecord) -> Result<()> {
    let Some(seat) = &rec.seat else {
        return Ok(());
    };
    let mut kept = rec.clone();
    kept.seat = None;
    let mut keys = BTreeMap::new();
    keys.insert(RECORD.to_string(), serde_json::to_string(&kept)?);
    keys.insert(
        LAB_FILE.to_string(),
        std::fs::read_to_string(dir.lab_file()).unwrap_or_default(),
    );
    keys.insert(
        SECRETS.to_string(),
        std::fs::read_to_string(dir.secrets_path()).unwrap_or_else(|_| "{}".into()),
    );
    lxd(dir, rec.remote.clone(), seat)
        .put_shelf(&keys)
        .with_context(|| format!("keeping lab `{}`'s state on its LXD server", dir.name))
}

/// The record kept in a class lab's project, if any (for the instructor's views).
pub(crate) fn kept_record(lxd: &Lxd) -> Result<Option<LabRecord>> {
    let Some(keys) = lxd.shelf()? else {
        return Ok(None);
    };
    let Some(text) = keys.get(RECORD) else {
        return Ok(None);
    };
    Ok(Some(serde_json::from_str(text).context(
        "the lab's record kept on the LXD server is damaged",
    )?))
}

/// Make this machine's copy of a class lab the one kept in its project, keeping this machine's
/// seat (its class settings read anew from the project). A lab that is not a class lab, or
/// whose project keeps nothing yet, is left as it is.
pub(crate) fn take(dir: &LabDir) -> Result<()> {
    let Ok(local) = dir.load() else {
        return Ok(());
    };
    let Some(mut seat) = local.seat.clone() else {
        return Ok(());
    };
    let lxd = lxd(dir, local.remote.clone(), &seat);
    let settings = lxd
        .project_settings()
        .with_context(|| format!("reading lab `{}` on its LXD server", dir.name))?
        .ok_or_else(|| {
            crate::ui::Problem::new(
                format!(
                    "lab `{}` of class `{}` is no longer on its LXD server",
                    dir.name, seat.class
                ),
                format!(
                    "ask your instructor; `halab destroy --lab {}` forgets it here",
                    dir.name
                ),
            )
        })?;
    seat.allow_reset = settings.get(ALLOW_RESET).is_some_and(|v| v == "true");
    seat.allow_solve = settings.get(ALLOW_SOLVE).is_some_and(|v| v == "true");
    let Some(keys) = lxd.shelf()? else {
        return Ok(());
    };
    if let Some(t) = keys.get(LAB_FILE).filter(|t| !t.is_empty()) {
        state::write_atomic(&dir.lab_file(), t.as_bytes(), 0o644)?;
    }
    if let Some(t) = keys.get(SECRETS) {
        state::write_atomic(&dir.secrets_path(), t.as_bytes(), 0o600)?;
    }
    let mut rec: LabRecord = match keys.get(RECORD) {
        Some(t) => {
            serde_json::from_str(t).context("the lab's record kept on the LXD server is damaged")?
        }
        None => local,
    };
    // The record's own place stays this machine's: its remote name and its seat.
    rec.remote = dir.load()?.remote;
    rec.name = dir.name.clone();
    rec.seat = Some(seat);
    dir.save_here(&rec)
}
