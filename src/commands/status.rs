//! `halab status`: the lab's nodes, their services and the floating IP's holder.

use anyhow::Result;

use crate::cli::{Format, Global, StatusArgs};
use crate::lifecycle::{self, OpenLab};
use crate::ui;

pub fn run(g: &Global, a: StatusArgs) -> Result<i32> {
    let open = OpenLab::open(g.lab.as_ref())?;
    let st = lifecycle::status(&open)?;
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
            println!(
                "{:<12} {:<15} {:<12} {:<9} SERVICES",
                "NODE", "ADDRESS", "ROLE", "STATE"
            );
            for n in &st.nodes {
                let state = if n.running {
                    ui::green("running")
                } else {
                    ui::red("stopped")
                };
                let services: Vec<String> = n
                    .services
                    .iter()
                    .map(|s| {
                        if s.active {
                            format!("{} ✔", s.name)
                        } else {
                            format!("{} ✘", s.name)
                        }
                    })
                    .collect();
                // Pad by visible width: styling adds invisible bytes.
                let pad = 9usize.saturating_sub(console::measure_text_width(&state));
                println!(
                    "{:<12} {:<15} {:<12} {state}{} {}",
                    n.name,
                    n.address,
                    n.role,
                    " ".repeat(pad),
                    if services.is_empty() {
                        "-".into()
                    } else {
                        services.join("  ")
                    }
                );
            }
        }
    }
    Ok(0)
}
