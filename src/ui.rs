//! How halab talks to people: `error:` / `hint:` reports with their "Caused by" chain, styled
//! words, progress displays, and the questions it asks (a yes or no, a menu, a typed answer: the
//! one place halab prompts). Data goes to stdout; talk, progress, prompts and errors go to
//! stderr. Colours follow `NO_COLOR` and are off when the stream is not a terminal. How much
//! talk there is follows the global `-q`/`-v` ([`set_verbosity`]): `-q` leaves only warnings and
//! errors, `-v` adds each node's detail to the one line a phase prints without a terminal.
//!
//! Must not: decide what to do (commands and the library decide; this only renders and asks),
//! or wait for an answer nobody can give (no terminal: an error naming `--yes` instead).

use std::fmt;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use console::{Style, style};
use dialoguer::theme::ColorfulTheme;
use indicatif::{ProgressBar, ProgressStyle};

/// An error a person can act on: what went wrong and what to do next.
#[derive(Debug)]
pub(crate) struct Problem {
    pub message: String,
    pub hint: String,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>, hint: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

/// How much halab says on stderr besides warnings and errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verbosity {
    /// `-q`: no talk and no progress.
    Quiet = 0,
    /// The default: talk, and one progress line per phase without a terminal.
    Normal = 1,
    /// `-v`: also each node's detail.
    Verbose = 2,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Set once at start-up from `-q`/`-v`.
pub(crate) fn set_verbosity(v: Verbosity) {
    VERBOSITY.store(v as u8, Ordering::Relaxed);
}

pub(crate) fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Apply `NO_COLOR` (any value turns colours off) once at start-up.
pub(crate) fn init_colors() {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }
}

/// An error on one line, with its hint when it has one (for tables and JSON fields).
pub(crate) fn one_line(err: &anyhow::Error) -> String {
    match err.downcast_ref::<Problem>() {
        Some(p) => format!("{}; {}", p.message, p.hint),
        None => format!("{err:#}"),
    }
}

/// Print an error with its causes and the first hint found anywhere in it.
pub(crate) fn report_error(err: &anyhow::Error) {
    let red = Style::new().red().bold().for_stderr();
    let mut chain = err.chain();
    if let Some(top) = chain.next() {
        eprintln!("{} {top}", red.apply_to("error:"));
    }
    let causes: Vec<String> = chain.map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        eprintln!("\nCaused by:");
        for c in causes {
            for (i, line) in c.lines().enumerate() {
                eprintln!("  {}{line}", if i == 0 { "" } else { "  " });
            }
        }
    }
    if let Some(p) = err.downcast_ref::<Problem>() {
        let cyan = Style::new().cyan().bold().for_stderr();
        eprintln!("\n{} {}", cyan.apply_to("hint:"), p.hint);
    }
}

/// A line of talk on stderr, e.g. "==> building lab `ch32`" (none with `-q`).
pub(crate) fn say(msg: impl fmt::Display) {
    if verbosity() == Verbosity::Quiet {
        return;
    }
    eprintln!("{} {msg}", style("==>").for_stderr().cyan().bold());
}

/// A warning on stderr.
pub(crate) fn warn(msg: impl fmt::Display) {
    eprintln!("{} {msg}", style("warning:").for_stderr().yellow().bold());
}

pub(crate) fn green(s: impl fmt::Display) -> String {
    style(s).green().bold().to_string()
}

pub(crate) fn red(s: impl fmt::Display) -> String {
    style(s).red().bold().to_string()
}

pub(crate) fn dim(s: impl fmt::Display) -> String {
    style(s).dim().to_string()
}

pub(crate) fn bold(s: impl fmt::Display) -> String {
    style(s).bold().to_string()
}

/// How a table printed on stdout may look: colours as for [`green`], and the terminal's width
/// (none when stdout is not a terminal, so piped tables are never wrapped).
pub(crate) fn stdout_table_mode() -> (bool, Option<u16>) {
    let width = console::Term::stdout().size_checked().map(|(_, cols)| cols);
    (console::colors_enabled(), width)
}

/// A borderless table with one space between columns, wrapping cells to fit `width`.
pub(crate) fn table(header: &[&str], color: bool, width: Option<u16>) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING)
        .set_header(header.to_vec())
        // The caller decides colours and width; the table never asks the terminal itself.
        .force_no_tty();
    if color {
        t.enforce_styling();
    }
    if let Some(w) = width {
        t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(w);
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 1));
    }
    t
}

/// The colour of a cell that says good or bad, like [`green`] and [`red`].
pub(crate) fn status_cell(text: &str, good: bool) -> comfy_table::Cell {
    let color = if good {
        comfy_table::Color::Green
    } else {
        comfy_table::Color::Red
    };
    comfy_table::Cell::new(text)
        .fg(color)
        .add_attribute(comfy_table::Attribute::Bold)
}

/// Whether halab may ask questions: stdin and stderr are terminals.
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask a yes-or-no question, yes by default. `assume_yes` (`--yes`) is a yes without asking.
/// Without a terminal nobody can answer, so rather than wait this fails with `unanswered`,
/// which should say to pass `--yes`.
pub(crate) fn confirm(
    question: &str,
    assume_yes: bool,
    unanswered: Problem,
) -> anyhow::Result<bool> {
    if assume_yes {
        return Ok(true);
    }
    if !interactive() {
        return Err(unanswered.into());
    }
    Ok(dialoguer::Confirm::new()
        .with_prompt(question)
        .default(true)
        .interact()?)
}

/// A menu of `items` under `prompt`, the first one preselected; the index picked. For callers
/// that run only on a terminal ([`interactive`]).
pub(crate) fn pick(prompt: &str, items: &[&str]) -> anyhow::Result<usize> {
    Ok(dialoguer::Select::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .items(items)
        .default(0)
        .interact()?)
}

/// A line typed in answer to `prompt`. For callers that run only on a terminal.
pub(crate) fn ask_text(prompt: &str) -> anyhow::Result<String> {
    Ok(dialoguer::Input::with_theme(&ColorfulTheme::default())
        .with_prompt(prompt)
        .interact_text()?)
}

/// Progress over a known number of items (a phase: the nodes, their services, a restore).
/// On a terminal, a bar. Elsewhere (logs, CI), one line when the phase ends, with its summary;
/// `-v` adds a line when it begins and one per item (what is happening, what is done); `-q`
/// shows nothing. Nothing is shown until the first message, so work that turns out to be a
/// no-op stays silent.
pub(crate) struct Progress {
    label: String,
    total: u64,
    verbosity: Verbosity,
    bar: std::sync::OnceLock<Option<ProgressBar>>,
}

impl Progress {
    pub(crate) fn new(label: &str, total: u64) -> Progress {
        Progress {
            label: label.to_string(),
            total,
            verbosity: verbosity(),
            bar: std::sync::OnceLock::new(),
        }
    }

    fn shown(&self) -> &Option<ProgressBar> {
        self.bar.get_or_init(|| {
            if self.verbosity == Verbosity::Quiet {
                None
            } else if std::io::stderr().is_terminal() {
                let bar = ProgressBar::new(self.total);
                bar.set_style(
                    ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} [{bar:24.cyan/blue}] {pos}/{len} {wide_msg}")
                        .expect("progress template")
                        .progress_chars("=> "),
                );
                bar.set_prefix(self.label.clone());
                bar.enable_steady_tick(Duration::from_millis(100));
                Some(bar)
            } else {
                if self.verbosity == Verbosity::Verbose {
                    say(format!("{} ({} to do)", self.label, self.total));
                }
                None
            }
        })
    }

    /// A line of detail without a terminal, only with `-v`.
    fn detail(&self, line: &str) {
        if self.verbosity == Verbosity::Verbose {
            eprintln!("    {line}");
        }
    }

    /// What is happening now (next to the bar; a line of its own with `-v` and no terminal).
    pub(crate) fn message(&self, msg: &str) {
        match self.shown() {
            Some(b) => b.set_message(msg.to_string()),
            None => self.detail(msg),
        }
    }

    pub(crate) fn inc(&self, done_item: &str) {
        match self.shown() {
            Some(b) => {
                b.inc(1);
                if self.verbosity == Verbosity::Verbose {
                    b.println(format!("    {done_item} done"));
                }
                b.set_message(format!("{done_item} done"));
            }
            None => self.detail(&format!("{done_item} done")),
        }
    }

    /// A line of its own, above the bar on a terminal (shown even with `-q`: the caller decides).
    pub(crate) fn println(&self, line: &str) {
        match self.bar.get() {
            Some(Some(b)) => b.println(line),
            _ => eprintln!("{line}"),
        }
    }

    /// The phase's one line: its label and `summary` (none with `-q`).
    pub(crate) fn finish(&self, summary: &str) {
        if let Some(Some(b)) = self.bar.get() {
            b.finish_and_clear();
        }
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{} {}: {summary}", green("✔"), self.label);
        }
    }
    /// Stop drawing (before an error is printed).
    pub(crate) fn abandon(&self) {
        if let Some(Some(b)) = self.bar.get() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.abandon();
    }
}
