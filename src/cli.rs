//! Command-line definitions (clap) and nothing else: the words a trainee types, their help, and
//! the examples `--help` teaches with. Examples are written with placeholders (`LESSON`, `NODE`,
//! `STEP`, `DRILL`, `ASSISTED_DRILL`) that `parse` fills from the first lesson when help is asked
//! for, so no lesson's names are written here.
//!
//! Must not: run a command or read a lab (only the content's names, for help).

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::backend::BackendKind;
use crate::state::LabName;

#[derive(Parser, Debug)]
#[command(
    name = "halab",
    version,
    about = "A live lab for a lesson's systems, built on your own machine, graded as you go",
    long_about = None,
    after_help = "Start here:\n  \
                  sudo halab start LESSON\n      build the lab of a lesson (`halab lessons` lists them)\n  \
                  sudo halab status\n      see the nodes and who holds the floating IP\n  \
                  sudo halab shell NODE\n      get a root shell on a node\n  \
                  sudo halab destroy\n      remove the lab and everything it made"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct Global {
    /// Which lab to act on (default: the lesson's id for `start`, else the only lab there is);
    /// lowercase letters, digits and `-`, at most 20 characters
    #[arg(long, global = true, value_name = "NAME", env = "HALAB_LAB", value_parser = LabName::parse)]
    pub lab: Option<LabName>,
    /// Say more: each node's detail in progress (without a terminal, a phase is one line);
    /// for `check`, every line a failing check's command printed, as it came
    #[arg(long, short = 'v', global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Say nothing but warnings and errors (no progress, no talk); data on stdout is unchanged
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Build the lab for a lesson; resumes a half-built lab and leaves a running one alone
    #[command(
        after_help = "Examples:\n  sudo halab start LESSON\n  sudo halab start LESSON --lab team-a --yes"
    )]
    Start(StartArgs),
    /// Get this machine ready for a lesson's labs without building one: host packages, the
    /// backend's daemon and (lxd) the base image, so a later `start` only builds nodes
    #[command(
        after_help = "Before a class or on a slow network: the one-time work of the first `start` (installing\n\
                      packages, initialising LXD, building the base image, about a minute) done now, once.\n\
                      No lab is made; `halab destroy --purge-image` removes the image again.\n\n\
                      Examples:\n  sudo halab prepare LESSON\n  sudo halab prepare LESSON --backend lxd --yes"
    )]
    Prepare(PrepareArgs),
    /// Show each node's address, state and services, and which node holds the floating IP
    Status(StatusArgs),
    /// Run one command on a node as root; exits with the command's exit code
    #[command(after_help = "Examples:\n  sudo halab exec NODE -- hostname\n  \
                            sudo halab exec NODE -- ip -4 -brief address\n  \
                            sudo halab exec NODE -- systemctl --failed\n  \
                            sudo halab exec NODE sh -c 'echo hi'   (`--` may be left out)")]
    Exec(ExecArgs),
    /// Open an interactive root shell on a node (its prompt names the node)
    Shell(ShellArgs),
    /// Remove the lab: every process, namespace, mount and file halab made for it
    Destroy(DestroyArgs),
    /// Grade the lab: every step's checks, the failing commands' real output, hints
    #[command(
        after_help = "Exit status: 0 every step passes, 1 some fail, 2 halab or backend error.\n\n\
                            Examples:\n  sudo halab check\n  sudo halab check --step STEP\n  \
                            sudo halab check --format junit > LESSON.xml"
    )]
    Check(CheckArgs),
    /// Keep grading the step you are on while you work: its checks every few seconds, the
    /// next step the moment it passes
    #[command(
        after_help = "Run it in a second terminal beside your shell. It grades the checks that leave the lab \
                      alone every 3 s; once they pass it runs the step's checks that break something on \
                      purpose once (Enter runs those again), records the pass as `halab check` does and \
                      moves on. Ctrl-C leaves between two rounds, never during a check.\n\n\
                      Exit status: 0 every step passed, 130 stopped with Ctrl-C (143 SIGTERM), 2 halab or backend error.\n\n\
                      Examples:\n  sudo halab watch\n  sudo halab --lab LAB watch"
    )]
    Watch,
    /// Show the next hint for the step you are on
    Hint,
    /// Apply a step's reference solution (solving unfinished earlier steps first)
    #[command(
        after_help = "For instructors, demos and tests; the trainee's own work on those steps is replaced.\n\n\
                            Examples:\n  sudo halab solve\n  sudo halab solve --step STEP"
    )]
    Solve(SolveArgs),
    /// Put the lab back to its start (or the start of a step); the trainee's files are saved first
    #[command(
        after_help = "Examples:\n  sudo halab reset\n  sudo halab reset --to STEP\n  sudo halab reset --all"
    )]
    Reset(ResetArgs),
    /// List the labs on this machine: backend, lesson, current step, steps passed, last check
    Labs(LabsArgs),
    /// Break the lab on purpose and measure what the chapter claims (failed requests and orders, seconds to failover, acknowledged orders lost)
    #[command(
        after_help = "NAME is one of the lesson's drills (an unknown NAME lists them), or `all`: every drill, as\n\
                      the chapter's table.\n\
                      Each puts the lab back, or says what it left changed and how to rebuild it.\n\
                      Results are kept: `halab check --drills` grades them against the lesson's limits.\n\n\
                      Examples:\n  sudo halab drill DRILL\n  sudo halab drill DRILL --format json\n  \
                      sudo halab drill ASSISTED_DRILL --assist\n  sudo halab drill all"
    )]
    Drill(DrillArgs),
    /// Show what arrived at the lab's alert sink (the health check's alerts)
    Alerts(AlertsArgs),
    /// The uptime arithmetic: downtime per year, month, week and day
    #[command(
        after_help = "Examples:\n  halab uptime 99.9\n  halab uptime --serial 99.9 99.9     # two components, both needed\n  \
                            halab uptime --parallel 99 99       # two app servers, either is enough"
    )]
    Uptime(UptimeArgs),
    /// Say what this machine lacks for each backend, and the command that fixes each
    #[command(after_help = DOCTOR_HELP)]
    Doctor(DoctorArgs),
    /// Run a class: every trainee's lab on one LXD server, each trainee reaching only their own
    /// (instructors)
    #[command(subcommand, after_help = CLASS_HELP)]
    Class(ClassCommand),
    /// Join your lab of a class with the token your instructor gave you (no root needed)
    #[command(
        after_help = "The token adds the class's LXD server to your LXD client (`lxc remote list` shows it as\n\
                      `halab-CLASS`) with a certificate that reaches your lab and nothing else, and remembers\n\
                      the lab here under the lesson's name. Then `halab start LESSON`, `check`, `hint`, `exec`,\n\
                      `shell`, `drill` act on your lab on the server; your progress is kept there, where your\n\
                      instructor sees it. `reset` and `solve` work when your class allows them.\n\n\
                      Examples:\n  halab join halab-join-1.eyJ...\n  halab join - < alice.token\n  \
                      halab join \"$(cat alice.token)\" --lab ops-class"
    )]
    Join(JoinArgs),
    /// List the lessons halab can teach
    Lessons,
    /// Check lesson and lab files (every problem at once, with file and line)
    #[command(
        after_help = "A file is checked as what its directory says: `labs/`, `lessons/`, \
                      `solutions/<lesson>/<step>.toml`.\n\
                      A file in none of them is a lab if it has `nodes`, a lesson otherwise (a note says so).\n\
                      Content files are regular UTF-8 files of at most 1 MiB; templates are `{{ ... }}` lookups only.\n\
                      Links to directories, link loops and links leaving the directory are reported, not followed.\n\n\
                      Examples:\n  halab validate labs/ch32.toml\n  halab validate labs/ lessons/"
    )]
    Validate(ValidateArgs),
    /// Print a shell's completion script: commands, options, and the lab's nodes, lessons, steps and drills
    #[command(
        after_help = "The script asks `halab` (on PATH) for the names as you type, so they follow the lab.\n\n\
                      Examples:\n  halab completions bash > ~/.local/share/bash-completion/completions/halab\n  \
                      halab completions zsh > ~/.zfunc/_halab       # with fpath+=(~/.zfunc) before compinit\n  \
                      halab completions fish > ~/.config/fish/completions/halab.fish\n\n\
                      The Debian package installs all three."
    )]
    Completions(CompletionsArgs),
    /// Write halab's manual pages (halab.1, halab-start.1, ...) into DIR (for packaging)
    #[command(hide = true)]
    Manpages(ManpagesArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Args, Debug)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

#[derive(Args, Debug)]
pub(crate) struct ManpagesArgs {
    /// The directory to write the pages into (created if missing)
    pub dir: PathBuf,
}

/// `halab doctor --help`: how `start` picks a backend, netns only in a build that has it.
const DOCTOR_HELP: &str = if cfg!(netns) {
    "Exit status: 0 when the backend `halab start` would use (or `--backend`) is usable, 1 when not.\n\n\
     The backend `start` uses: `--backend`, else `HALAB_BACKEND`, else `backend = \"...\"` in\n\
     ~/.config/halab/config.toml, else the first usable of: an LXD daemon, a multipass daemon,\n\
     Linux (netns).\n\n\
     Examples:\n  halab doctor\n  halab doctor --backend multipass"
} else {
    "Exit status: 0 when the backend `halab start` would use (or `--backend`) is usable, 1 when not.\n\n\
     The backend `start` uses: `--backend`, else `HALAB_BACKEND`, else `backend = \"...\"` in\n\
     ~/.config/halab/config.toml, else the first usable of: an LXD daemon, a multipass daemon.\n\
     This build has no netns backend (it needs Linux and the `netns` feature).\n\n\
     Examples:\n  halab doctor\n  halab doctor --backend multipass"
};

/// `halab class --help`.
const CLASS_HELP: &str = "A class lives on an LXD server (this machine's, or `--lxd-remote REMOTE`) that trainees\n\
     reach over the network (`lxc config set core.https_address :8443`). Each trainee's lab is an\n\
     LXD project restricted to that lab, with limits sized from it; the trainee joins with a\n\
     one-time token (`halab join`) that grants a certificate for that project alone. Progress is\n\
     kept in the project: `class status` shows a trainee's step the moment they check.\n\n\
     Examples:\n  sudo halab class create ops1 --lesson LESSON --trainees alice,bob,carol\n  \
     sudo halab class status ops1\n  sudo halab class check ops1 --format junit > ops1.xml\n  \
     sudo halab class reset ops1 alice --to STEP\n  sudo halab class destroy ops1";

#[derive(Subcommand, Debug)]
pub(crate) enum ClassCommand {
    /// Build every trainee's lab and print one join token per trainee
    Create(ClassCreateArgs),
    /// One row per trainee: step, steps passed, last check, drills run, whether the lab is up
    Status(ClassStatusArgs),
    /// Grade every trainee's lab in one report
    #[command(
        after_help = "Exit status: 0 every lab passes, 1 some fail, 2 halab or backend error."
    )]
    Check(ClassCheckArgs),
    /// Put one trainee's lab (or every one) back to its start, or the start of a step
    Reset(ClassResetArgs),
    /// Remove every lab of the class, its trainees' certificates and unused tokens
    Destroy(ClassNameArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ClassNameArgs {
    /// The class (`halab class create` made it)
    #[arg(value_parser = crate::class::ClassName::parse)]
    pub class: crate::class::ClassName,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("who").required(true).args(["trainees", "count"]))]
pub(crate) struct ClassCreateArgs {
    /// The class's name (lowercase letters, digits and `-`; class and trainee together at most
    /// 19 characters: each lab is named CLASS-TRAINEE)
    #[arg(value_parser = crate::class::ClassName::parse)]
    pub class: crate::class::ClassName,
    /// The lesson every trainee works on (`halab lessons` lists them)
    #[arg(long)]
    pub lesson: String,
    /// The trainees, by name: `alice,bob,carol`
    #[arg(long, value_delimiter = ',', value_parser = crate::class::parse_trainee)]
    pub trainees: Vec<String>,
    /// Or this many trainees, named `t1`, `t2`, ...
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub count: Option<u16>,
    /// Build the labs on this `lxc remote` (an LXD server or cluster) instead of the local daemon
    #[arg(long, value_name = "REMOTE")]
    pub lxd_remote: Option<String>,
    /// What trainees may do to their own lab besides working in it
    #[arg(long, value_enum, value_delimiter = ',', value_name = "WHAT")]
    pub allow: Vec<crate::class::Permission>,
    /// How long a join token stays usable (LXD's durations: `30M`, `24H`, `7d`)
    #[arg(long, value_name = "DURATION", default_value = "24H")]
    pub token_expiry: String,
    /// How many labs are built at once
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub parallel: u16,
    /// Install missing host packages (and initialise LXD) without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ClassStatusArgs {
    #[command(flatten)]
    pub class: ClassNameArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub(crate) struct ClassCheckArgs {
    #[command(flatten)]
    pub class: ClassNameArgs,
    /// Grade only this step in every lab
    #[arg(long, value_name = "ID")]
    pub step: Option<String>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("whom").required(true).args(["trainee", "all"]))]
pub(crate) struct ClassResetArgs {
    #[command(flatten)]
    pub class: ClassNameArgs,
    /// The trainee whose lab to reset
    pub trainee: Option<String>,
    /// Every trainee's lab
    #[arg(long)]
    pub all: bool,
    /// Bring the lab to the start of this step (the steps before it solved)
    #[arg(long, value_name = "STEP")]
    pub to: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct JoinArgs {
    /// The token your instructor gave you (`-`: read it from standard input)
    pub token: String,
}

#[derive(Args, Debug)]
pub(crate) struct StartArgs {
    /// The lesson to build a lab for (`halab lessons` lists them)
    pub lesson: String,
    /// How to realise the nodes (default: `HALAB_BACKEND`, the config file, then what this machine has; see `halab doctor`). A lab keeps its backend for its whole life
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Place an lxd lab on this `lxc remote` (an LXD server or cluster) instead of the local daemon
    #[arg(long, value_name = "REMOTE", requires = "backend")]
    pub lxd_remote: Option<String>,
    /// Install missing host packages (and initialise LXD) without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub(crate) struct PrepareArgs {
    /// The lesson whose labs to prepare for (`halab lessons` lists them)
    pub lesson: String,
    /// The backend to prepare (default: the one `start` would pick; see `halab doctor`)
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Prepare this `lxc remote` (an LXD server or cluster) instead of the local daemon
    #[arg(long, value_name = "REMOTE", requires = "backend")]
    pub lxd_remote: Option<String>,
    /// Install missing host packages (and initialise LXD) without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub(crate) struct DrillArgs {
    /// The drill (`all` runs every drill of the lesson, the chapter's table)
    pub name: String,
    /// Let halab make the move a drill waits for you to make (the drill names it while it waits)
    #[arg(long)]
    pub assist: bool,
    /// Run only this run of the drill (an unknown RUN lists them); not with `all`
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub(crate) struct DoctorArgs {
    /// Check only this backend (and exit 0 when it is usable)
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub(crate) enum Format {
    /// For people
    #[default]
    Text,
    /// For scripts: one JSON document on stdout
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct StatusArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub(crate) struct ExecArgs {
    /// The node to run on (a name `halab status` lists)
    // Indexes fixed: completions (commands/completions.rs) re-add `node`, which would otherwise
    // move it behind the command words.
    #[arg(index = 1)]
    pub node: String,
    /// The command and its arguments, after `--` or straight after the node (as docker and
    /// kubectl take them): everything from the first word on is the command's
    #[arg(
        index = 2,
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub(crate) struct ShellArgs {
    /// The node to open a shell on
    pub node: String,
}

#[derive(Args, Debug)]
pub(crate) struct DestroyArgs {
    /// Also remove the cached base image (lxd), which later labs would reuse
    #[arg(long)]
    pub purge_image: bool,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub(crate) enum CheckFormat {
    /// For people: ✔/✘ per check, the failing command's real output and a hint
    #[default]
    Text,
    /// One JSON document on stdout
    Json,
    /// JUnit XML, for CI dashboards
    Junit,
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// Grade only this step (always runs its checks, even live ones)
    #[arg(long, value_name = "ID")]
    pub step: Option<String>,
    /// Grade every lab on this machine in one report (instructors)
    #[arg(long, conflicts_with = "lab")]
    pub all: bool,
    /// Also grade the latest result of each drill (`halab drill`) against the lesson's limits
    #[arg(long)]
    pub drills: bool,
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Args, Debug)]
pub(crate) struct SolveArgs {
    /// The step to solve (default: the step you are on)
    #[arg(long, value_name = "ID")]
    pub step: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct ResetArgs {
    /// Bring the lab to the start of this step (the steps before it solved)
    #[arg(long, value_name = "STEP")]
    pub to: Option<String>,
    /// Reset every lab on this machine (instructors)
    #[arg(long, conflicts_with = "lab")]
    pub all: bool,
}

#[derive(Args, Debug)]
pub(crate) struct LabsArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub(crate) struct AlertsArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub(crate) struct UptimeArgs {
    /// Availability in percent (several with --serial or --parallel)
    #[arg(required = true, value_name = "PERCENT")]
    pub availability: Vec<String>,
    /// The components are all needed (availabilities multiply)
    #[arg(long, conflicts_with = "parallel")]
    pub serial: bool,
    /// Any one component is enough (unavailabilities multiply)
    #[arg(long)]
    pub parallel: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ValidateArgs {
    /// Lesson or lab files, or directories holding them
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// The names help examples are written with, and what they stand for in one lesson.
struct Examples {
    lesson: String,
    node: String,
    step: String,
    drill: String,
    assisted_drill: String,
}

impl Examples {
    /// From the first lesson of the content and its lab: a node and a step from the middle
    /// (past the first, often trivial, ones), its first drill and its first drill with an assist.
    fn from_content() -> Option<Examples> {
        let catalog = crate::content::Catalog::load().ok()?;
        let (_, lesson) = catalog.lessons.first()?;
        let (_, lab) = catalog.lab(&lesson.lab)?;
        let drill = lesson.drills.first();
        let assisted = lesson.drills.iter().find(|d| {
            d.runs
                .iter()
                .any(|r| r.measure.iter().any(|m| m.assist.is_some()))
        });
        Some(Examples {
            lesson: lesson.id.clone(),
            node: lab.nodes.get(lab.nodes.len() / 2)?.name.clone(),
            step: lesson.steps.get(lesson.steps.len() / 2)?.id.clone(),
            drill: drill.map_or("DRILL".into(), |d| d.id.clone()),
            assisted_drill: assisted.or(drill).map_or("DRILL".into(), |d| d.id.clone()),
        })
    }

    fn fill(&self, text: &str) -> String {
        let words =
            regex::Regex::new(r"\b(LESSON|NODE|STEP|ASSISTED_DRILL|DRILL)\b").expect("regex");
        words
            .replace_all(text, |c: &regex::Captures<'_>| match &c[1] {
                "LESSON" => self.lesson.clone(),
                "NODE" => self.node.clone(),
                "STEP" => self.step.clone(),
                "ASSISTED_DRILL" => self.assisted_drill.clone(),
                _ => self.drill.clone(),
            })
            .into_owned()
    }
}

/// Fill the placeholders of every `after_help` below `cmd`.
fn with_examples(cmd: clap::Command, ex: &Examples) -> clap::Command {
    let help = cmd.get_after_help().map(|h| ex.fill(&h.to_string()));
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let mut cmd = match help {
        Some(h) => cmd.after_help(h),
        None => cmd,
    };
    for n in names {
        cmd = cmd.mut_subcommand(n, |c| with_examples(c, ex));
    }
    cmd
}

/// The whole command with its examples filled from the first lesson, as `--help` shows it (for
/// the manual pages).
pub(crate) fn command_with_examples() -> clap::Command {
    let cmd = Cli::command();
    match Examples::from_content() {
        Some(ex) => with_examples(cmd, &ex),
        None => cmd,
    }
}

/// Parse the command line; when help is asked for, its examples name the first lesson's own
/// nodes, steps and drills (placeholders stay when the content does not load).
pub(crate) fn parse() -> Cli {
    let wants_help = std::env::args_os()
        .skip(1)
        .any(|a| a == "--help" || a == "-h" || a == "help");
    let mut cmd = Cli::command();
    if wants_help && let Some(ex) = Examples::from_content() {
        cmd = with_examples(cmd, &ex);
    }
    let matches = cmd.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command words `exec` hands the node, from each way of typing them.
    fn exec_words(argv: &[&str]) -> (String, Vec<String>) {
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        match cli.command {
            Command::Exec(a) => (a.node, a.command),
            other => panic!("{argv:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn exec_hands_the_node_exactly_the_words_typed_after_it() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for argv in [
            &["halab", "exec", "lb-02", "sh", "-c", "echo hi"][..],
            &["halab", "exec", "lb-02", "--", "sh", "-c", "echo hi"],
        ] {
            assert_eq!(
                exec_words(argv),
                ("lb-02".into(), words(&["sh", "-c", "echo hi"]))
            );
        }
        // After the node, halab's own flags are the command's: `-v` goes to `ls`, not halab.
        assert_eq!(
            exec_words(&["halab", "exec", "lb-02", "ls", "-v", "--lab", "x"]),
            ("lb-02".into(), words(&["ls", "-v", "--lab", "x"]))
        );
        // A `--` after the first command word is the command's too.
        assert_eq!(
            exec_words(&["halab", "exec", "lb-02", "grep", "--", "-x", "f"]),
            ("lb-02".into(), words(&["grep", "--", "-x", "f"]))
        );
        assert!(Cli::try_parse_from(["halab", "exec", "lb-02"]).is_err());
    }

    #[test]
    fn help_examples_take_the_lessons_names() {
        let ex = Examples {
            lesson: "l1".into(),
            node: "web-1".into(),
            step: "s2".into(),
            drill: "d1".into(),
            assisted_drill: "d2".into(),
        };
        let cmd = with_examples(Cli::command(), &ex);
        let help = |name: &str| {
            cmd.find_subcommand(name)
                .and_then(|c| c.get_after_help())
                .map(|h| h.to_string())
                .unwrap_or_default()
        };
        let top = cmd.get_after_help().unwrap().to_string();
        assert!(top.contains("sudo halab start l1\n"), "{top}");
        assert!(top.contains("sudo halab shell web-1\n"), "{top}");
        assert!(help("exec").contains("sudo halab exec web-1 -- hostname"));
        assert!(help("reset").contains("--to s2\n"));
        let drill = help("drill");
        assert!(
            drill.contains("drill d1\n") && drill.contains("drill d2 --assist"),
            "{drill}"
        );
        // Other capitals are words of the help, not placeholders.
        assert!(
            drill.contains("NAME is one of the lesson's drills"),
            "{drill}"
        );
        let without = Cli::command()
            .find_subcommand("exec")
            .unwrap()
            .get_after_help()
            .unwrap()
            .to_string();
        assert!(without.contains("exec NODE -- hostname"), "{without}");
    }
}
