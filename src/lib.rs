//! halab: a live lab for "Dhruv builds the system that never goes down".
//!
//! Where things are: `cli` (the words), `commands/` (one file per subcommand), `content/`
//! (lessons and labs as data, and their templates), `backend/` (how nodes exist), `provision` (a
//! node's starting state), `lifecycle` (start, restart, status, destroy), `session` (an open
//! lab), `state` (what is kept on disk), `exec` (the one place that runs programs), `host`, `ui`.
//! Imports only point down (README's "Developing"; `tests/it/layers.rs` keeps it so).

pub mod backend;
pub mod check;
pub mod cli;
pub mod commands;
pub mod content;
pub mod doctor;
pub mod drill;
pub mod exec;
pub mod host;
pub mod lifecycle;
pub mod parallel;
pub mod provision;
pub mod reset;
pub mod runner;
pub mod session;
pub mod solve;
pub mod state;
pub mod ui;
pub mod uptime;
