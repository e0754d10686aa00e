//! What the class commands do, lab by lab: build a trainee's lab as a class lab (its project
//! made and closed around it, its state kept in it, a join token), read every lab's kept
//! progress and health, remove a trainee's lab and certificate, and join a lab from a token.
//!
//! Must not: print (the command renders what these return), or grade or reset a lab (the
//! commands call `check` and `reset` on the labs named here).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::shelf::{self, ALLOW_RESET, ALLOW_SOLVE};
use super::token::JoinToken;
use super::{ClassName, ClassRecord};
use crate::backend::lxd::{self, Lxd};
use crate::backend::{BackendKind, Place};
use crate::content::Catalog;
use crate::lifecycle::{self, StartRequest};
use crate::state::{self, LabDir, LabName, LabRecord, Seat};
use crate::ui::Problem;

/// The name of the trust certificate (and of its token) a trainee's lab gets.
pub(crate) fn certificate_name(lab: &LabName) -> String {
    format!("halab-{lab}")
}

/// The class's settings as the project keeps them.
fn settings(class: &ClassRecord, trainee: &str) -> Vec<(String, String)> {
    vec![
        ("user.halab.class".into(), class.name.to_string()),
        ("user.halab.trainee".into(), trainee.to_string()),
        (ALLOW_RESET.into(), class.allowed.reset.to_string()),
        (ALLOW_SOLVE.into(), class.allowed.solve.to_string()),
    ]
}

/// What building one trainee's lab gave.
pub(crate) struct Seated {
    pub lab: LabName,
    /// The lab was there already (a `create` run again): it was left as it was.
    pub existed: bool,
    pub elapsed: Duration,
    /// The join token, and the file it was written to (none when one was made before).
    pub token: Option<(String, std::path::PathBuf)>,
}

/// Build `trainee`'s lab of `class` (or find it built), close its project around it, keep its
/// state in it, and make a join token valid for `expiry` (LXD's duration, `24H`).
pub(crate) fn seat_trainee(
    class: &ClassRecord,
    trainee: &str,
    expiry: &str,
    yes: bool,
) -> Result<Seated> {
    let t0 = Instant::now();
    let lab = class.lab(trainee)?;
    let home = state::home();
    let dir = LabDir::new(&home, &lab);
    let existed = dir.exists() && dir.load()?.seat.is_some();
    let lxd = Lxd::new(&dir, Place::on(class.remote.clone()));
    if !existed {
        let catalog = Catalog::load()?;
        let lesson = catalog.lesson(&class.lesson)?;
        let labfile = &catalog.lab(&lesson.lab).expect("cross-checked").1;
        lxd.create_class_project(&lifecycle::spec(labfile, &lab)?)
            .with_context(|| format!("making the LXD project of lab `{lab}`"))?;
        lifecycle::start(StartRequest {
            lesson: class.lesson.clone(),
            lab: Some(lab.clone()),
            backend: Some(BackendKind::Lxd),
            lxd_remote: class.remote.clone(),
            yes,
        })?;
        lxd.seal_project(dir.load_lab()?.nodes.len(), &settings(class, trainee))?;
        // From here every save of the record is kept in the project too.
        dir.update("class create", |r| {
            r.seat = Some(Seat {
                class: class.name.to_string(),
                trainee: trainee.to_string(),
                lxd_name: lab.clone(),
                instructor: true,
                allow_reset: class.allowed.reset,
                allow_solve: class.allowed.solve,
            })
        })?;
    }
    let file = super::token_file(&class.name, trainee);
    // A token is made once; another only when its file was removed (to hand out a new one).
    let token = if file.exists() {
        None
    } else {
        let lxd_token = lxd.trust_token(&certificate_name(&lab), expiry)?;
        let join = JoinToken {
            class: class.name.clone(),
            trainee: trainee.to_string(),
            lab: lab.clone(),
            lesson: class.lesson.clone(),
            lxd: lxd_token,
        }
        .encode();
        state::write_atomic(&file, format!("{join}\n").as_bytes(), 0o600)?;
        Some((join, file))
    };
    Ok(Seated {
        lab,
        existed,
        elapsed: t0.elapsed(),
        token,
    })
}

/// Change what the class's trainees may do, on every lab's project.
pub(crate) fn apply_settings(class: &ClassRecord) -> Result<()> {
    for trainee in &class.trainees {
        let dir = LabDir::new(&state::home(), &class.lab(trainee)?);
        Lxd::new(&dir, Place::on(class.remote.clone()))
            .set_project_settings(&settings(class, trainee))?;
    }
    Ok(())
}

/// One trainee's lab as `class status` shows it.
#[derive(Serialize)]
pub(crate) struct Row {
    pub trainee: String,
    pub lab: String,
    /// The first step not passed, solved or skipped; none when every step is done.
    pub step: Option<String>,
    pub steps_passed: usize,
    pub steps: usize,
    pub last_check: Option<state::LastCheck>,
    /// The drills run, by id.
    pub drills: Vec<String>,
    /// Every node of the lab is running.
    pub healthy: bool,
    /// Why the lab could not be read (its project gone, its server or cluster member down).
    pub problem: Option<String>,
}

/// Every trainee's lab as kept on the server, one after another; a lab that cannot be read is
/// a row saying why, and the others go on.
pub(crate) fn status(class: &ClassRecord) -> Result<Vec<Row>> {
    let catalog = Catalog::load()?;
    let lesson = catalog.lesson(&class.lesson)?;
    let steps: Vec<&str> = lesson.steps.iter().map(|s| s.id.as_str()).collect();
    let nodes = catalog
        .lab(&lesson.lab)
        .expect("cross-checked")
        .1
        .nodes
        .len();
    let rows = crate::parallel::each(&class.trainees, |trainee| -> Result<Row> {
        let lab = class.lab(trainee)?;
        let dir = LabDir::new(&state::home(), &lab);
        let lxd = Lxd::new(&dir, Place::on(class.remote.clone()));
        let mut row = Row {
            trainee: trainee.clone(),
            lab: lab.to_string(),
            step: None,
            steps_passed: 0,
            steps: steps.len(),
            last_check: None,
            drills: Vec::new(),
            healthy: false,
            problem: None,
        };
        let read = || -> Result<(Option<LabRecord>, BTreeMap<String, String>)> {
            Ok((shelf::kept_record(&lxd)?, lxd.node_states()?))
        };
        match read() {
            Ok((Some(rec), states)) => {
                row.step = steps
                    .iter()
                    .find(|s| !rec.step_done(s))
                    .map(|s| s.to_string());
                row.steps_passed = steps
                    .iter()
                    .filter(|s| rec.progress.get(**s).is_some_and(|p| p.passed_at.is_some()))
                    .count();
                row.last_check = rec.last_check.clone();
                row.drills = rec.drills.keys().cloned().collect();
                row.healthy = states.len() == nodes && states.values().all(|s| s == "Running");
            }
            Ok((None, _)) => row.problem = Some("nothing kept on the server (not built?)".into()),
            Err(e) => row.problem = Some(format!("{e:#}")),
        }
        Ok(row)
    });
    rows.into_iter().collect()
}

/// What removing a trainee's lab took away.
pub(crate) struct Unseated {
    pub lab: LabName,
    pub removed: Vec<String>,
}

/// Remove `trainee`'s lab, certificate and token from the server and this machine.
pub(crate) fn unseat(class: &ClassRecord, trainee: &str) -> Result<Unseated> {
    let lab = class.lab(trainee)?;
    let dir = LabDir::new(&state::home(), &lab);
    let lxd = Lxd::new(&dir, Place::on(class.remote.clone()));
    let mut removed = lxd.revoke(&certificate_name(&lab))?;
    let d = lifecycle::destroy(&lab, false)?;
    removed.extend(d.removed);
    let file = super::token_file(&class.name, trainee);
    if file.exists() {
        std::fs::remove_file(&file)?;
    }
    Ok(Unseated { lab, removed })
}

/// What `halab join` made.
pub(crate) struct Joined {
    pub lab: LabName,
    pub class: ClassName,
    pub trainee: String,
    pub lesson: String,
    pub remote: String,
    /// The remote was there already (joined before): the token was not used again.
    pub remote_existed: bool,
}

/// Join a class lab on this machine: the class server as an LXD remote with the certificate
/// the token grants, and the lab, named `local` (default: the lesson's id), from what its
/// project keeps.
pub(crate) fn join(token: &JoinToken, local: Option<LabName>) -> Result<Joined> {
    let catalog = Catalog::load()?;
    catalog.lesson(&token.lesson).map_err(|e| {
        e.context(Problem::new(
            format!(
                "this halab does not have lesson `{}` that the class uses",
                token.lesson
            ),
            "install the halab your instructor uses (`halab lessons` lists this one's lessons)",
        ))
    })?;
    let name = match local {
        Some(n) => n,
        None => LabName::parse(&token.lesson).map_err(anyhow::Error::msg)?,
    };
    let home = state::home();
    let dir = LabDir::new(&home, &name);
    let seat = Seat {
        class: token.class.to_string(),
        trainee: token.trainee.clone(),
        lxd_name: token.lab.clone(),
        instructor: false,
        allow_reset: false,
        allow_solve: false,
    };
    if dir.exists() && dir.load()?.seat.as_ref().map(|s| &s.lxd_name) != Some(&token.lab) {
        return Err(Problem::new(
            format!("there is a lab `{name}` on this machine already"),
            format!("join under another name: `halab join TOKEN --lab {name}-class`"),
        )
        .into());
    }
    let remote = token.class.remote();
    let remote_existed = lxd::has_remote(&remote)?;
    if !remote_existed {
        lxd::add_remote(&remote, &token.lxd)?;
    }
    let _lock = dir.lock("join")?;
    let kept =
        shelf::kept_record(&shelf::lxd(&dir, Some(remote.clone()), &seat))?.ok_or_else(|| {
            Problem::new(
                format!("lab `{}` keeps nothing on the class server yet", token.lab),
                "ask your instructor whether `halab class create` finished",
            )
        })?;
    if !dir.exists() {
        dir.create()?;
    }
    let mut rec = kept;
    rec.name = name.clone();
    rec.remote = Some(remote.clone());
    rec.seat = Some(seat);
    dir.save_here(&rec)?;
    // The lab file, secrets and the class's settings, as a command would take them.
    shelf::take(&dir)?;
    Ok(Joined {
        lab: name,
        class: token.class.clone(),
        trainee: token.trainee.clone(),
        lesson: token.lesson.clone(),
        remote,
        remote_existed,
    })
}
