//! Shell completions: `halab completions bash|zsh|fish` prints the script a shell loads, and
//! [`command`] is what that script asks when a trainee presses Tab: the command line with, on
//! the arguments that name something, the names that exist now (the lab's nodes, the lessons,
//! the lab's lesson's steps and drills, the labs).
//!
//! Why dynamic completion (clap_complete's `CompleteEnv`, feature `unstable-dynamic`) and not a
//! generated script: node, step and drill names are data of a lab that does not exist when the
//! package is built, and differ between labs; a static script would have to shell out to
//! `halab` for them anyway. With `CompleteEnv` the script is a few lines that call
//! `COMPLETE=SHELL halab -- WORDS...`, and the answer always matches the installed binary's
//! commands and the lab on this machine. The feature is unstable (no API promise across
//! clap_complete versions): Cargo.lock pins it and a CLI test runs a real completion.
//!
//! Must not: fail or print errors while completing (a lab that cannot be read offers no names),
//! or change anything.

use std::ffi::OsString;

use anyhow::Result;
use clap::CommandFactory as _;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::{Bash, EnvCompleter, Fish, Zsh};

use crate::cli::{Cli, CompletionShell, CompletionsArgs};
use crate::content::Catalog;
use crate::state::{self, LabName};

/// `halab completions SHELL`: the shell's script, which asks `halab` on PATH for candidates.
pub(crate) fn run(a: CompletionsArgs) -> Result<i32> {
    let shell: &dyn EnvCompleter = match a.shell {
        CompletionShell::Bash => &Bash,
        CompletionShell::Zsh => &Zsh,
        CompletionShell::Fish => &Fish,
    };
    let mut out = Vec::new();
    shell.write_registration("COMPLETE", "halab", "halab", "halab", &mut out)?;
    if let CompletionShell::Zsh = a.shell {
        // Installed as `_halab` on fpath (the package's vendor-completions), zsh runs this file
        // as the body of `_halab` at the first Tab: complete that Tab too, not only the next.
        out.extend_from_slice(
            b"if [ \"${funcstack[1]}\" = \"_halab\" ]; then _clap_dynamic_completer_halab \"$@\"; fi\n",
        );
    }
    use std::io::Write as _;
    std::io::stdout().write_all(&out)?;
    Ok(0)
}

/// What a name-taking argument is completed with.
#[derive(Clone, Copy)]
enum Names {
    Labs,
    Lessons,
    Nodes,
    Steps,
    Drills,
}

/// (subcommand, argument id, what it names). `None` is the top level (its global `--lab`).
const NAMED: &[(Option<&str>, &str, Names)] = &[
    (None, "lab", Names::Labs),
    (Some("start"), "lesson", Names::Lessons),
    (Some("exec"), "node", Names::Nodes),
    (Some("shell"), "node", Names::Nodes),
    (Some("check"), "step", Names::Steps),
    (Some("solve"), "step", Names::Steps),
    (Some("reset"), "to", Names::Steps),
    (Some("drill"), "name", Names::Drills),
];

/// The command line as completion sees it: [`Cli`] with candidates on the arguments of [`NAMED`].
pub(crate) fn command() -> clap::Command {
    let mut cmd = Cli::command();
    for &(sub, arg, names) in NAMED {
        let add = |c: clap::Command| {
            if c.get_arguments().any(|a| a.get_id() == arg) {
                c.mut_arg(arg, |a| {
                    a.add(ArgValueCandidates::new(move || candidates(names)))
                })
            } else {
                c
            }
        };
        cmd = match sub {
            None => add(cmd),
            Some(s) if cmd.find_subcommand(s).is_some() => cmd.mut_subcommand(s, add),
            Some(_) => cmd,
        };
    }
    cmd
}

/// The lab the words being completed are about: their `--lab NAME`/`--lab=NAME`, else
/// `HALAB_LAB`, else the only lab there is.
fn lab_of(words: &[OsString]) -> Option<state::LabDir> {
    let home = state::home();
    let mut given = None;
    for (i, w) in words.iter().enumerate() {
        let w = w.to_string_lossy();
        if w == "--lab" {
            given = words.get(i + 1).map(|v| v.to_string_lossy().into_owned());
        } else if let Some(v) = w.strip_prefix("--lab=") {
            given = Some(v.to_string());
        }
    }
    let given = given
        .or_else(|| std::env::var("HALAB_LAB").ok())
        .and_then(|n| LabName::parse(&n).ok());
    state::resolve_lab(&home, given.as_ref()).ok()
}

/// The candidates for one kind of name, from this machine's labs and content.
fn candidates(names: Names) -> Vec<CompletionCandidate> {
    let words: Vec<OsString> = std::env::args_os().collect();
    names_for(names, &words)
        .into_iter()
        .map(|(value, help)| CompletionCandidate::new(value).help(help.map(Into::into)))
        .collect()
}

/// Values and their one-line help, for `names` in the lab `words` are about.
fn names_for(names: Names, words: &[OsString]) -> Vec<(String, Option<String>)> {
    let lesson_of_lab = || {
        let dir = lab_of(words)?;
        let record = dir.load().ok()?;
        let catalog = Catalog::load().ok()?;
        catalog.lesson(&record.lesson).ok().cloned()
    };
    match names {
        Names::Labs => state::lab_names(&state::home())
            .into_iter()
            .map(|n| (n.to_string(), None))
            .collect(),
        Names::Lessons => Catalog::load()
            .map(|c| {
                c.lessons
                    .iter()
                    .map(|(_, l)| (l.id.clone(), Some(l.title.clone())))
                    .collect()
            })
            .unwrap_or_default(),
        Names::Nodes => lab_of(words)
            .and_then(|d| d.load_lab().ok())
            .map(|lab| {
                lab.nodes
                    .iter()
                    .map(|n| (n.name.clone(), Some(format!("{} {}", n.role, n.address))))
                    .collect()
            })
            .unwrap_or_default(),
        Names::Steps => lesson_of_lab()
            .map(|l| {
                l.steps
                    .iter()
                    .map(|s| (s.id.clone(), Some(s.title.clone())))
                    .collect()
            })
            .unwrap_or_default(),
        Names::Drills => lesson_of_lab()
            .map(|l| {
                let mut v: Vec<(String, Option<String>)> = l
                    .drills
                    .iter()
                    .map(|d| (d.id.clone(), Some(d.title.clone())))
                    .collect();
                v.push((
                    "all".into(),
                    Some("every drill, as the chapter's table".into()),
                ));
                v
            })
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A renamed argument would silently lose its names: every entry of NAMED must exist.
    #[test]
    fn every_named_argument_exists() {
        let cmd = Cli::command();
        for &(sub, arg, _) in NAMED {
            let c = match sub {
                None => &cmd,
                Some(s) => cmd.find_subcommand(s).unwrap_or_else(|| panic!("no `{s}`")),
            };
            assert!(
                c.get_arguments().any(|a| a.get_id() == arg),
                "no argument `{arg}` in {sub:?}"
            );
        }
    }
}
