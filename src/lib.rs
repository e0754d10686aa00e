//! halab: a live lab for "Dhruv builds the system that never goes down".
//!
//! Where things are: `cli` (the words), `commands/` (one file per subcommand), `content/`
//! (lessons and labs as data), `backend/` (how nodes exist), `provision` (a node's starting
//! state), `lifecycle` (start, status, destroy), `state` (what is kept on disk), `exec` (the one
//! place that runs programs), `template`, `host`, `ui`.

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
pub mod provision;
pub mod runner;
pub mod session;
pub mod solve;
pub mod state;
pub mod ui;
pub mod uptime;
