//! `halab alerts`: what the lab's health checks posted to its alert sink.

use std::time::Duration;

use anyhow::Result;

use crate::cli::{AlertsArgs, Format, Global};
use crate::exec::shell_quote;
use crate::session::OpenLab;
use crate::state;
use crate::ui::Problem;

pub(crate) fn run(g: &Global, a: AlertsArgs) -> Result<i32> {
    let open = OpenLab::open(g.lab.as_ref())?;
    let Some(sink) = &open.lab.alerts else {
        return Err(Problem::new(
            format!("lab `{}` has no alert sink", open.dir.name),
            "its lab file has no `[alerts]` table",
        )
        .into());
    };
    let out = open.backend.node(&sink.node).run(
        &format!("cat {} 2>/dev/null || true", shell_quote(&sink.log)),
        Duration::from_secs(10),
    )?;
    let alerts: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&alerts)?),
        Format::Text if alerts.is_empty() => {
            println!("no alerts have arrived at {}:{}", sink.node, sink.port)
        }
        Format::Text => {
            for al in &alerts {
                let at = al["time"]
                    .as_f64()
                    .map(|t| state::format_time(t as u64))
                    .unwrap_or_default();
                let text = al["fields"]["text"]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| al["body"].as_str().unwrap_or_default().to_string());
                println!(
                    "{at}  from {:<10} {text}",
                    al["from"].as_str().unwrap_or("?")
                );
            }
        }
    }
    Ok(0)
}
