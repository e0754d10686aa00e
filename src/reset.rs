//! Putting a lab back to its start: `halab reset` saves the files the lesson has the trainee
//! edit into `backups/<time>/<node>/...`, then restores the nodes from the backend's snapshots
//! where it keeps them and rebuilds the others, and forgets the lab's progress.
//!
//! Must not: grade, solve steps, prompt, or print results (the command does).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::content::Lesson;
use crate::exec::{Cmd, shell_quote};
use crate::lifecycle;
use crate::session::OpenLab;
use crate::state;
use crate::ui;

/// How long one node may take to pack the trainee's files.
const BACKUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Packs the existing files among the positional parameters into a gzipped tar on stdout
/// (nothing when none exists), with paths relative to `/`.
const BACKUP_SCRIPT: &str = r#"cd / && ex=(); for p in "$@"; do [ -e "$p" ] && ex+=("${p#/}"); done; [ ${#ex[@]} -eq 0 ] || tar -czf - -- "${ex[@]}""#;

/// Copy the files the lesson has the trainee edit into `backups/<time>/<node>/...`; returns the
/// backup directory.
pub(crate) fn backup(open: &OpenLab, lesson: &Lesson) -> Result<PathBuf> {
    let ctx = open.template_context()?;
    let stamp = state::format_time(state::now_unix())
        .replace([' ', ':'], "-")
        .replace("-UTC", "");
    let mut dir = open.dir.path.join("backups").join(&stamp);
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = open.dir.path.join("backups").join(format!("{stamp}.{n}"));
    }
    for edit in &lesson.edits {
        let paths = edit
            .paths
            .iter()
            .map(|p| ctx.render(p).map(|p| shell_quote(&p)))
            .collect::<Result<Vec<_>, _>>()?;
        // The paths become the script's positional parameters, quoted, never its code.
        let script = format!("set -- {}\n{BACKUP_SCRIPT}", paths.join(" "));
        for node in &edit.nodes {
            if !open.backend.is_running(node) {
                ui::warn(format!(
                    "{node} is not running: its files are not in the backup"
                ));
                continue;
            }
            let out = open.backend.node(node).run(&script, BACKUP_TIMEOUT)?;
            if !out.success() {
                anyhow::bail!("saving files on {node} failed: {}", out.stderr.trim());
            }
            if out.raw_stdout.is_empty() {
                continue;
            }
            let dest = dir.join(node);
            std::fs::create_dir_all(&dest)?;
            Cmd::new("tar")
                .args(["-xzf", "-", "--no-same-owner", "-C"])
                .arg(&dest)
                .stdin(out.raw_stdout)
                .run_ok()?;
        }
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Save the trainee's files, then put the lab back to its start and forget its progress: from
/// the backend's snapshots where it keeps them, else by rebuilding the nodes.
pub(crate) fn reset(open: &OpenLab, lesson: &Lesson) -> Result<PathBuf> {
    let _hold = open.dir.lock("reset")?;
    let saved = backup(open, lesson)?;
    let nodes: Vec<String> = open.lab.nodes.iter().map(|n| n.name.clone()).collect();
    let progress = ui::Progress::new("restore", nodes.len() as u64);
    let restored = open.backend.restore(&nodes, &progress)?;
    if !restored.is_empty() {
        progress.finish(&format!(
            "{} node(s) back at their starting snapshot",
            restored.len()
        ));
    }
    open.dir.update("reset", |rec| {
        rec.progress.clear();
        // Drill figures described the lab before; they say nothing of the new one.
        rec.drills.clear();
        rec.phase = state::Phase::Building;
        for (n, r) in rec.nodes.iter_mut() {
            if !restored.contains(n) {
                r.provisioned = false;
            }
        }
    })?;
    lifecycle::restart(open)?;
    Ok(saved)
}
