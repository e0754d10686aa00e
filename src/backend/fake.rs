//! A backend for unit tests that need only `exec`: a type implements [`ExecOnly`] and is a
//! [`Backend`] whose every other operation is outside the test and panics if reached.
//!
//! Must not: be compiled outside tests, or grow behaviour a real backend would need to match.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Result;

use super::{Backend, LabSpec, NodeUp};
use crate::content::template::Facts;
use crate::exec::Output;
use crate::ui::Progress;

/// The one operation a fake answers.
pub(crate) trait ExecOnly: Sync {
    fn exec(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Output>;
}

impl<T: ExecOnly> Backend for T {
    fn exec(
        &self,
        node: &str,
        argv: &[String],
        stdin: Option<Vec<u8>>,
        timeout: Option<Duration>,
    ) -> Result<Output> {
        ExecOnly::exec(self, node, argv, stdin, timeout)
    }
    fn host_packages(&self) -> Vec<String> {
        unreachable!("a fake backend only runs commands")
    }
    fn prepare(&self, _: &LabSpec, _: bool) -> Result<()> {
        unreachable!("a fake backend only runs commands")
    }
    fn facts(&self, _: &LabSpec) -> Result<Facts> {
        unreachable!("a fake backend only runs commands")
    }
    fn up(
        &self,
        _: &LabSpec,
        _: &BTreeSet<String>,
        _: &Progress,
    ) -> Result<BTreeMap<String, NodeUp>> {
        unreachable!("a fake backend only runs commands")
    }
    fn exec_attached(&self, _: &str, _: &[String], _: &[(&str, &str)]) -> Result<i32> {
        unreachable!("a fake backend only runs commands")
    }
    fn is_running(&self, _: &str) -> bool {
        unreachable!("a fake backend only runs commands")
    }
    fn crash_node(&self, _: &str) -> Result<()> {
        unreachable!("a fake backend only runs commands")
    }
    fn snapshot(&self, _: &[String]) -> Result<bool> {
        unreachable!("a fake backend only runs commands")
    }
    fn restore(&self, _: &[String], _: &Progress) -> Result<Vec<String>> {
        unreachable!("a fake backend only runs commands")
    }
    fn leftovers(&self) -> Result<Vec<String>> {
        unreachable!("a fake backend only runs commands")
    }
    fn down(&self) -> Result<()> {
        unreachable!("a fake backend only runs commands")
    }
    fn purge_cache(&self) -> Result<usize> {
        unreachable!("a fake backend only runs commands")
    }
}
