//! The traffic of a drill's run: the request stream and the order stream (`assets/drill/`), each
//! a program fed to python3 on a lab node. They run on their own threads while the run's
//! timeline runs on the caller's (two long waits beside a third, not a fan-out over nodes), and
//! stop when a stop file appears on their node.
//!
//! Must not: judge what the traffic printed (`result` does), or name a node (the lesson does).

use std::time::Duration;

use anyhow::Result;

use crate::backend::Backend;
use std::cell::RefCell;

use crate::content::drill::{Drill, Orders, Requests, Run};
use crate::content::template::Context;
use crate::exec::{Output, shell_quote};

const REQUESTS_PY: &str = include_str!("../../assets/drill/requests.py");
const ORDERS_PY: &str = include_str!("../../assets/drill/orders.py");
/// How long creating or removing a stop file may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the traffic printed, once it stopped.
pub(super) struct Printed {
    /// The request stream's output, when the drill sends requests.
    pub requests: Option<Output>,
    /// The order stream's output, when the drill sends orders.
    pub orders: Option<Output>,
}

/// A run's request stream and order stream, as the drill declares them.
pub(super) struct Traffic<'a> {
    backend: &'a dyn Backend,
    requests: Option<&'a Requests>,
    orders: Option<&'a Orders>,
    /// This run's order ids start with it and `-`: unique per run of halab.
    pub(super) prefix: String,
    stop_requests: String,
    stop_orders: String,
    /// Seconds the programs run at most if their stop file never appears: long enough for
    /// everything the run may wait for.
    max_s: f64,
}

impl<'a> Traffic<'a> {
    pub(super) fn new(backend: &'a dyn Backend, drill: &'a Drill, r: &Run) -> Self {
        let stop = format!("/tmp/halab-drill-{}-{}.stop", r.id, std::process::id());
        let since = (super::unix_now() * 1000.0) as u64;
        Traffic {
            backend,
            requests: drill.requests.as_ref(),
            orders: drill.orders.as_ref(),
            prefix: format!("{}-{}-{since}", r.id, std::process::id()),
            stop_requests: format!("{stop}.requests"),
            stop_orders: format!("{stop}.orders"),
            max_s: r.settle_s * 2.0
                + r.hold_s
                + r.measure.iter().map(|m| m.limit_s).sum::<f64>()
                + 120.0,
        }
    }

    /// Run `during` with the traffic going; it is given a way to stop the order stream early,
    /// which returns once the stream's last order has ended (so that nothing is still in flight
    /// when the orders are read back). The traffic always stops and its stop files go, whatever
    /// failed; an error of the traffic itself comes before one of `during`.
    pub(super) fn around<T>(
        &self,
        ctx: &Context,
        during: impl FnOnce(&dyn Fn()) -> Result<T>,
    ) -> Result<(T, Printed)> {
        self.on_stop_files("rm -f", None);
        std::thread::scope(|s| {
            let requests = self.requests.map(|q| {
                let args = [
                    ctx.render(&q.url).unwrap_or_default(),
                    q.every_ms.to_string(),
                    q.timeout_ms.to_string(),
                    self.stop_requests.clone(),
                    format!("{:.0}", self.max_s),
                ];
                let script = program("python3 -", &args);
                s.spawn(move || self.start(&q.node, &script, REQUESTS_PY))
            });
            let orders = self.orders.map(|o| {
                let args = [
                    ctx.render(&o.url).unwrap_or_default(),
                    ctx.render(&o.body).unwrap_or_default(),
                    o.content_type.clone(),
                    o.every_ms.to_string(),
                    o.timeout_ms.to_string(),
                    self.prefix.clone(),
                    self.stop_orders.clone(),
                    format!("{:.0}", self.max_s),
                ];
                let script = program("python3 -", &args);
                s.spawn(move || self.start(&o.node, &script, ORDERS_PY))
            });
            let orders = RefCell::new(orders);
            let stopped = RefCell::new(None);
            let stop_orders = || {
                self.on_stop_files("touch", Some(&self.stop_orders));
                if let Some(h) = orders.borrow_mut().take() {
                    *stopped.borrow_mut() = Some(h.join().expect("order stream thread"));
                }
            };
            let outcome = during(&stop_orders);
            self.on_stop_files("touch", None);
            stop_orders();
            let requests = requests.map(|h| h.join().expect("request stream thread"));
            self.on_stop_files("rm -f", None);
            let printed = Printed {
                requests: requests.transpose()?,
                orders: stopped.into_inner().transpose()?,
            };
            Ok((outcome?, printed))
        })
    }

    /// Run `script` on `node` with `program` on its stdin, until it ends.
    fn start(&self, node: &str, script: &str, program: &str) -> Result<Output> {
        let limit =
            Duration::try_from_secs_f64(self.max_s + 60.0).unwrap_or(Duration::from_secs(3600));
        self.backend
            .node(node)
            .run_with_input(script, Some(program.as_bytes().to_vec()), limit)
    }

    /// `verb` (`touch`, `rm -f`) on the stop file of each program, or only on `only`.
    fn on_stop_files(&self, verb: &str, only: Option<&str>) {
        let stops = self
            .requests
            .map(|q| (q.node.as_str(), self.stop_requests.as_str()))
            .into_iter()
            .chain(
                self.orders
                    .map(|w| (w.node.as_str(), self.stop_orders.as_str())),
            );
        for (node, file) in stops.filter(|(_, f)| only.is_none_or(|o| o == *f)) {
            // A stop file that cannot be made leaves the program to its own limit (`max_s`).
            let _ = self
                .backend
                .node(node)
                .run(&format!("{verb} -- {}", shell_quote(file)), STOP_TIMEOUT);
        }
    }
}

/// The script that starts `interpreter` (reading its program on stdin) with `args`.
fn program(interpreter: &str, args: &[String]) -> String {
    let args: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
    format!("exec {interpreter} {}", args.join(" "))
}
