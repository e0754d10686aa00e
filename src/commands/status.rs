//! `halab status`: the lab's nodes, their services and the floating IP's holder.

use anyhow::Result;

use crate::cli::{Format, Global, StatusArgs};
use crate::lifecycle::{self, NodeStatus};
use crate::session::OpenLab;
use crate::ui;

pub(crate) fn run(g: &Global, a: StatusArgs) -> Result<i32> {
    let open = OpenLab::open(g.lab.as_ref())?;
    // The lesson names services of its own; a lab whose lesson is gone shows its roles' only.
    let catalog = crate::content::Catalog::load().ok();
    let lesson = catalog
        .as_ref()
        .and_then(|c| c.lesson(&open.record.lesson).ok());
    let st = lifecycle::status(&open, lesson)?;
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&st)?),
        Format::Text => {
            println!(
                "lab {} (lesson {}) on {}{}",
                ui::bold(&st.lab),
                st.lesson,
                st.backend,
                match (&st.vip, &st.vip_holder) {
                    (Some(v), Some(h)) => format!(", floating IP {v} on {h}"),
                    (Some(v), None) => format!(", floating IP {v} not held"),
                    _ => String::new(),
                }
            );
            let (color, width) = ui::stdout_table_mode();
            println!("{}", nodes_table(&st.nodes, color, width));
        }
    }
    Ok(0)
}

/// One line per node: name, address, role, running or stopped, and each service with ✔ or ✘.
fn nodes_table(nodes: &[NodeStatus], color: bool, width: Option<u16>) -> String {
    let mut t = ui::table(
        &["NODE", "ADDRESS", "ROLE", "STATE", "SERVICES"],
        color,
        width,
    );
    for n in nodes {
        let services: Vec<String> = n
            .services
            .iter()
            .map(|s| format!("{} {}", s.name, if s.active { "✔" } else { "✘" }))
            .collect();
        t.add_row(vec![
            n.name.as_str().into(),
            n.address.as_str().into(),
            n.role.as_str().into(),
            if n.running {
                ui::status_cell("running", true)
            } else {
                ui::status_cell("stopped", false)
            },
            if services.is_empty() {
                "-".into()
            } else {
                services.join("  ").into()
            },
        ]);
    }
    t.trim_fmt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::ServiceStatus;

    fn node(name: &str, running: bool) -> NodeStatus {
        NodeStatus {
            name: name.into(),
            address: "10.0.0.100".into(),
            role: "app".into(),
            running,
            services: vec![ServiceStatus {
                name: "nginx".into(),
                active: running,
                source: "role",
            }],
        }
    }

    /// Where each column of a line starts, by the header's column names.
    fn starts(line: &str, cells: &[&str]) -> Vec<usize> {
        let mut at = 0;
        cells
            .iter()
            .map(|c| {
                at += line[at..]
                    .find(c)
                    .unwrap_or_else(|| panic!("{c} in {line:?}"));
                let col = line[..at].chars().count();
                at += c.len();
                col
            })
            .collect()
    }

    #[test]
    fn columns_stay_aligned_with_the_longest_legal_node_name() {
        let longest = "a".repeat(15);
        let nodes = [node(&longest, true), node("db", false)];
        let out = nodes_table(&nodes, false, None);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        let header = starts(lines[0], &["NODE", "ADDRESS", "ROLE", "STATE", "SERVICES"]);
        assert_eq!(header[0], 0, "{out}");
        let row = |l: &str, name: &str, state: &str, mark: &str| {
            starts(
                l,
                &[name, "10.0.0.100", "app", state, &format!("nginx {mark}")],
            )
        };
        assert_eq!(row(lines[1], &longest, "running", "✔"), header, "{out}");
        assert_eq!(row(lines[2], "db", "stopped", "✘"), header, "{out}");
        assert!(
            !out.contains('\x1b'),
            "no colour when asked for none: {out:?}"
        );
    }

    #[test]
    fn a_narrow_terminal_wraps_cells_instead_of_overflowing() {
        let nodes = [node(&"a".repeat(15), true)];
        let out = nodes_table(&nodes, false, Some(40));
        for line in out.lines() {
            assert!(line.chars().count() <= 40, "{out}");
        }
    }

    #[test]
    fn colours_only_when_asked() {
        let out = nodes_table(&[node("db", true)], true, None);
        assert!(out.contains('\x1b'), "{out:?}");
    }
}
