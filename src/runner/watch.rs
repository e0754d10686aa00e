//! `halab watch`: the continuous examiner. In a second terminal it shows the current step's
//! checks and grades the ones that leave the lab alone every few seconds; once they pass it runs
//! the step's disruptive checks once (through the ordinary grading, which holds the lab and
//! records the pass), then moves on to the next step. Ctrl-C leaves between rounds, so a check
//! that broke something on purpose always puts it back first.
//!
//! Must not: run a disruptive check again on its own schedule (only when the quiet checks have
//! failed and pass again, or the trainee presses Enter), or write anything `check` would not.

use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::check::engine;
use crate::check::outcome::GradedLab;
use crate::check::report::{self, Layout};
use crate::content::Lesson;
use crate::session::OpenLab;
use crate::solve;
use crate::ui;

/// Between two rounds of quiet checks.
const ROUND_PAUSE: Duration = Duration::from_secs(3);

/// Watch `lesson` on `open` until every step has passed (exit 0), Ctrl-C (130) or SIGTERM (143).
pub(crate) fn run(open: &OpenLab, lesson: &Lesson, layout: &Layout) -> Result<i32> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let terminated = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&terminated))?;
    let term = console::Term::stdout();
    let again = enter_pressed();
    ui::say(format!(
        "watching lab `{}`: the current step's checks every {} s; Ctrl-C leaves (progress is saved as with `halab check`)",
        open.dir.name,
        ROUND_PAUSE.as_secs()
    ));
    // Whether the step's grading may run (its disruptive checks with it) when the quiet checks
    // pass: once, then again only after the quiet ones failed, or on Enter.
    let mut armed = true;
    // The last full grading that failed, shown while nothing has changed since.
    let mut last_full: Option<String> = None;
    let mut shown = String::new();
    let mut on_step = String::new();
    while !stopped(&interrupted, &terminated) {
        let Some(step) = solve::current_step(lesson, open)? else {
            eprintln!(
                "{} every step of `{}` has passed",
                ui::green("✔"),
                lesson.id
            );
            return Ok(0);
        };
        if step.id != on_step {
            on_step = step.id.clone();
            armed = true;
            last_full = None;
        }
        // Taken every round, so an Enter pressed while the quiet checks fail is not left
        // pending (it would cut every pause short).
        if again.take() {
            armed = true;
        }
        let quiet = engine::grade_quietly(open, lesson, &step.id)?;
        if stopped(&interrupted, &terminated) {
            break;
        }
        let mut passed_now = false;
        let screen = if quiet.outcome.passed && armed {
            armed = false;
            if quiet.disruptive > 0 {
                let running = format!(
                    "running step `{}`'s {} check(s) that break something on purpose...\n",
                    step.id, quiet.disruptive
                );
                show(&term, &running, &mut shown);
            }
            // Grading records the pass, as `check` does.
            match engine::grade(open, lesson, Some(&step.id)) {
                Ok(full) => {
                    passed_now = full.all_passed();
                    let mut text = report::text(&full, layout);
                    if !passed_now && quiet.disruptive > 0 {
                        text += &format!(
                            "\nThey run again when the step's other checks fail and pass again{}.\n",
                            if again.available() {
                                ", or on Enter"
                            } else {
                                ""
                            }
                        );
                    } else if !passed_now {
                        // Only quiet checks: nothing is broken by trying again next round.
                        armed = true;
                    }
                    last_full = Some(text.clone());
                    text
                }
                Err(e) => {
                    armed = true;
                    format!("could not grade the step now: {e:#}\n")
                }
            }
        } else if quiet.outcome.passed {
            // The grading failed and the quiet checks still pass: its report still holds.
            last_full.clone().unwrap_or_default()
        } else {
            armed = true;
            let lab = GradedLab::new(&open.dir.name.to_string(), &lesson.id, vec![quiet.outcome]);
            let mut text = report::text(&lab, layout);
            if quiet.disruptive > 0 {
                text += &format!(
                    "({} check(s) that break something on purpose run once these pass.)\n",
                    quiet.disruptive
                );
            }
            text
        };
        show(&term, &screen, &mut shown);
        if passed_now {
            eprintln!("{} step `{}` passed", ui::green("✔"), step.id);
            continue;
        }
        pause(&interrupted, &terminated, &again);
    }
    ui::say("stopped watching; progress so far is saved");
    // As a shell reports a command ended by the signal: 128 + SIGINT, 128 + SIGTERM.
    Ok(if terminated.load(Ordering::Relaxed) {
        143
    } else {
        130
    })
}

/// Draw `screen`: on a terminal over the last one; elsewhere only when it changed.
fn show(term: &console::Term, screen: &str, shown: &mut String) {
    if term.is_term() {
        let _ = term.clear_screen();
    } else if screen == shown {
        return;
    }
    print!("{screen}");
    *shown = screen.to_string();
}

/// Whether Ctrl-C or SIGTERM came.
fn stopped(interrupted: &AtomicBool, terminated: &AtomicBool) -> bool {
    interrupted.load(Ordering::Relaxed) || terminated.load(Ordering::Relaxed)
}

/// Sleep until the next round, waking early for Ctrl-C, SIGTERM or Enter.
fn pause(interrupted: &AtomicBool, terminated: &AtomicBool, again: &Again) {
    let until = Instant::now() + ROUND_PAUSE;
    while Instant::now() < until && !stopped(interrupted, terminated) && !again.pending() {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Enter on a terminal: "run the disruptive checks again".
struct Again(Option<Arc<AtomicBool>>);

impl Again {
    fn available(&self) -> bool {
        self.0.is_some()
    }
    fn pending(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
    }
    fn take(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|f| f.swap(false, Ordering::Relaxed))
    }
}

/// A thread that turns each line typed on a terminal stdin into a pending [`Again`].
fn enter_pressed() -> Again {
    if !console::Term::stdout().is_term() || !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Again(None);
    }
    let flag = Arc::new(AtomicBool::new(false));
    let set = Arc::clone(&flag);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() {
                break;
            }
            set.store(true, Ordering::Relaxed);
        }
    });
    Again(Some(flag))
}
