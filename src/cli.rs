//! Command-line definitions (clap) and nothing else: the words a trainee types, their help, and
//! the examples `--help` teaches with.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::backend::BackendKind;

#[derive(Parser, Debug)]
#[command(
    name = "halab",
    version,
    about = "A live lab for \"Dhruv builds the system that never goes down\": nginx load balancing, \
             keepalived, PostgreSQL replication, on your own machine",
    long_about = None,
    after_help = "Start here:\n  sudo halab start ch32        build the lab (8 nodes) for chapter 32\n  \
                  sudo halab status            see the nodes and who holds the floating IP\n  \
                  sudo halab shell lb-01       get a root shell on a node\n  \
                  sudo halab destroy           remove the lab and everything it made"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Which lab to act on (default: the lesson's id for `start`, else the only lab there is)
    #[arg(long, global = true, value_name = "NAME", env = "HALAB_LAB")]
    pub lab: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build the lab for a lesson; resumes a half-built lab and leaves a running one alone
    #[command(
        after_help = "Examples:\n  sudo halab start ch32\n  sudo halab start ch32 --lab team-a --yes"
    )]
    Start(StartArgs),
    /// Show each node's address, state and services, and which node holds the floating IP
    Status(StatusArgs),
    /// Run one command on a node as root; exits with the command's exit code
    #[command(after_help = "Examples:\n  sudo halab exec app-02 -- hostname\n  \
                            sudo halab exec client -- curl -s 10.0.0.21:8080\n  \
                            sudo halab exec lb-01 -- nginx -t")]
    Exec(ExecArgs),
    /// Open an interactive root shell on a node (its prompt names the node)
    Shell(ShellArgs),
    /// Remove the lab: every process, namespace, mount and file halab made for it
    Destroy(DestroyArgs),
    /// List the lessons halab can teach
    Lessons,
    /// Check lesson and lab files (every problem at once, with file and line)
    #[command(
        after_help = "Examples:\n  halab validate labs/ch32.toml\n  halab validate labs/ lessons/"
    )]
    Validate(ValidateArgs),
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// The lesson to build a lab for (`halab lessons` lists them)
    pub lesson: String,
    /// How to realise the nodes (a lab keeps its backend for its whole life)
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Install missing host packages without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub enum Format {
    /// For people
    #[default]
    Text,
    /// For scripts: one JSON document on stdout
    Json,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The node to run on (e.g. `client`, `lb-01`)
    pub node: String,
    /// The command and its arguments, after `--`
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ShellArgs {
    /// The node to open a shell on
    pub node: String,
}

#[derive(Args, Debug)]
pub struct DestroyArgs {}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Lesson or lab files, or directories holding them
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}
