//! `halab class create|status|check|reset|destroy CLASS`: an instructor's class of trainee labs
//! on one LXD server. Thin: the class module builds, reads and removes; `check` and `reset` do
//! the grading and resetting of each lab as they do for one.

use std::time::Instant;

use anyhow::Result;

use crate::class::{self, ClassRecord, Permission, run};
use crate::cli::{CheckArgs, ClassCommand, ClassCreateArgs, Format, Global};
use crate::lifecycle::{self, StartRequest};
use crate::state;
use crate::ui::{self, Problem};

pub(crate) fn run(g: &Global, cmd: ClassCommand) -> Result<i32> {
    match cmd {
        ClassCommand::Create(a) => create(a),
        ClassCommand::Status(a) => {
            let class = class::load(&a.class.class)?;
            let rows = run::status(&class)?;
            match a.format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
                Format::Text => {
                    let (color, width) = ui::stdout_table_mode();
                    println!("{}", status_table(&class, &rows, color, width));
                }
            }
            Ok(0)
        }
        ClassCommand::Check(a) => {
            let class = class::load(&a.class.class)?;
            let names = class
                .trainees
                .iter()
                .map(|t| class.lab(t).map(Some))
                .collect::<Result<Vec<_>>>()?;
            let args = CheckArgs {
                step: a.step,
                all: true,
                drills: false,
                format: a.format,
            };
            super::check::grade_labs(&names, &args, true, g.verbose)
        }
        ClassCommand::Reset(a) => {
            let class = class::load(&a.class.class)?;
            let trainees = match &a.trainee {
                Some(t) => vec![class.trainee(t)?],
                None => class.trainees.clone(),
            };
            for t in trainees {
                let lab = class.lab(&t)?;
                class::shelf::take(&state::LabDir::new(&state::home(), &lab))?;
                super::reset::reset_lab(Some(&lab), a.to.as_deref(), false)?;
            }
            Ok(0)
        }
        ClassCommand::Destroy(a) => {
            let class = class::load(&a.class)?;
            for t in &class.trainees {
                let gone = run::unseat(&class, t)?;
                for r in &gone.removed {
                    ui::say(format!("{t}: removed {r}"));
                }
                eprintln!("{} {t}: lab `{}` destroyed", ui::green("✔"), gone.lab);
            }
            let tokens = class::token_file(&class.name, "x");
            if let Some(dir) = tokens.parent().filter(|d| d.exists()) {
                std::fs::remove_dir(dir)?;
            }
            class::remove(&class.name)?;
            eprintln!(
                "{} class `{}` destroyed: nothing of it is left on the server or here",
                ui::green("✔"),
                class.name
            );
            Ok(0)
        }
    }
}

fn create(a: ClassCreateArgs) -> Result<i32> {
    let t0 = Instant::now();
    let trainees: Vec<String> = match a.count {
        Some(n) => (1..=n).map(|i| format!("t{i}")).collect(),
        None => a.trainees.clone(),
    };
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = trainees.iter().find(|t| !seen.insert(*t)) {
        return Err(Problem::new(
            format!("trainee `{dup}` is named twice"),
            "give each trainee one name",
        )
        .into());
    }
    let mut class = if class::exists(&a.class) {
        let c = class::load(&a.class)?;
        if c.lesson != a.lesson || c.remote != a.lxd_remote {
            return Err(Problem::new(
                format!(
                    "class `{}` exists for lesson `{}` on {}",
                    c.name,
                    c.lesson,
                    c.remote.as_deref().unwrap_or("this machine's LXD")
                ),
                "run `halab class create` again with the same lesson and server to finish it, or pick another name",
            )
            .into());
        }
        c
    } else {
        ClassRecord {
            name: a.class.clone(),
            lesson: a.lesson.clone(),
            remote: a.lxd_remote.clone(),
            trainees: Vec::new(),
            allowed: Default::default(),
            created: state::now_unix(),
        }
    };
    class.allowed.reset = a.allow.contains(&Permission::Reset);
    class.allowed.solve = a.allow.contains(&Permission::Solve);
    for t in &trainees {
        class.lab(t)?;
        if !class.trainees.contains(t) {
            class.trainees.push(t.clone());
        }
    }
    // Trainees reach the server over the network: it must listen there before any lab is made.
    let address = crate::backend::lxd::network_address(class.remote.as_deref())?;
    lifecycle::prepare(StartRequest {
        lesson: class.lesson.clone(),
        lab: None,
        backend: Some(crate::state::BackendKind::Lxd),
        lxd_remote: class.remote.clone(),
        yes: a.yes,
    })?;
    // Kept before the first lab, so that `class destroy` finds a class that failed half-way.
    class::save(&class)?;
    ui::say(format!(
        "building {} lab(s) of class `{}` on {address}, {} at a time",
        trainees.len(),
        class.name,
        a.parallel
    ));
    let talk = ui::verbosity();
    let progress = ui::Progress::new("labs", trainees.len() as u64);
    progress.message(&format!("building {}", trainees.join(", ")));
    if talk != ui::Verbosity::Verbose {
        // Each lab's own phases would interleave: one line per lab instead.
        ui::set_verbosity(ui::Verbosity::Quiet);
    }
    let mut failed = Vec::new();
    let mut tokens = Vec::new();
    for chunk in trainees.chunks(usize::from(a.parallel)) {
        let results = crate::parallel::each(chunk, |t| {
            (
                t.clone(),
                run::seat_trainee(&class, t, &a.token_expiry, a.yes),
            )
        });
        for (t, r) in results {
            progress.inc(&t);
            match r {
                Ok(s) => {
                    if talk != ui::Verbosity::Quiet {
                        let how = if s.existed {
                            "was built already".to_string()
                        } else {
                            format!("built in {:.1}s", s.elapsed.as_secs_f32())
                        };
                        progress.println(&format!("{} {t}: lab `{}` {how}", ui::green("✔"), s.lab));
                    }
                    if let Some(tok) = s.token {
                        tokens.push((t, tok));
                    }
                }
                Err(e) => {
                    progress.println(&format!("{} {t}: {e:#}", ui::red("✘")));
                    failed.push(t);
                }
            }
        }
    }
    progress.finish(&format!(
        "{} built, {} failed",
        trainees.len() - failed.len(),
        failed.len()
    ));
    ui::set_verbosity(talk);
    run::apply_settings(&class)?;
    for (t, (token, _)) in &tokens {
        println!("{t}\t{token}");
    }
    if let Some((_, (_, file))) = tokens.first()
        && let Some(dir) = file.parent()
    {
        ui::say(format!(
            "each trainee's token is also in `{}/TRAINEE.token` (mode 0600); it works once, within {}",
            dir.display(),
            a.token_expiry
        ));
    }
    if failed.is_empty() {
        eprintln!(
            "{} class `{}`: {} lab(s) ready in {:.1}s; `halab class status {}` follows them",
            ui::green("✔"),
            class.name,
            trainees.len(),
            t0.elapsed().as_secs_f32(),
            class.name
        );
        Ok(0)
    } else {
        Err(Problem::new(
            format!("the labs of {} could not be built", failed.join(", ")),
            format!(
                "see each error above; `halab class create {} --lesson {} ...` again finishes the class",
                class.name, class.lesson
            ),
        )
        .into())
    }
}

/// One line per trainee: step, steps passed, last check, drills run, whether the lab is up.
fn status_table(class: &ClassRecord, rows: &[run::Row], color: bool, width: Option<u16>) -> String {
    let mut t = ui::table(
        &["TRAINEE", "STEP", "PASSED", "LAST CHECK", "DRILLS", "LAB"],
        color,
        width,
    );
    for r in rows {
        let last = r
            .last_check
            .as_ref()
            .map(|c| format!("{} ({}/{})", state::format_time(c.at), c.passed, c.total))
            .unwrap_or_else(|| "never".into());
        let lab = match &r.problem {
            Some(p) => format!("unreadable: {p}"),
            None if r.healthy => "up".into(),
            None => "nodes down".into(),
        };
        t.add_row(vec![
            r.trainee.clone(),
            r.step.clone().unwrap_or_else(|| "all done".into()),
            format!("{}/{}", r.steps_passed, r.steps),
            last,
            if r.drills.is_empty() {
                "-".into()
            } else {
                r.drills.join(", ")
            },
            lab,
        ]);
    }
    format!("class `{}` (lesson `{}`)\n{t}", class.name, class.lesson)
}
