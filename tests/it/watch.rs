//! `halab watch` in a pseudo-terminal, on the tiny fixture lab: it shows the current step
//! failing, sees the step pass the moment the lab has what it checks, records the pass, runs the
//! next step's disruptive check only once its quiet check passes (and after it failed, only on
//! Enter), and leaves cleanly on Ctrl-C.

use std::time::Duration;

use crate::support::{Home, Opening, destroy_and_check, text};

/// `halab --lab wt watch` in a pseudo-terminal, the pty its stdin too (`Home::cmd` gives
/// /dev/null), so Enter reaches it.
fn watch(home: &Home) -> rexpect::session::PtySession {
    let mut cmd = home.cmd();
    cmd.env("TERM", "xterm")
        .stdin(std::process::Stdio::inherit())
        .args(["--lab", "wt", "watch"]);
    rexpect::session::spawn_command(cmd, Some(30_000)).unwrap()
}

#[test]
fn watch_passes_a_step_the_moment_it_holds_and_leaves_on_ctrl_c() {
    let Some(t) = Opening::netns("watch_passes_a_step_the_moment_it_holds_and_leaves_on_ctrl_c")
        .map(Opening::tiny)
    else {
        return;
    };
    let home = &t.home;
    let lab = t.lab("wt");
    lab.start("tiny", &[]);
    let mut p = watch(home);
    p.exp_string("there is no /root/mark on box").unwrap();
    // The trainee does the step in another terminal.
    home.ok(&["--lab", "wt", "exec", "box", "touch", "/root/mark"]);
    p.exp_string("step `mark` passed").unwrap();
    // The next step: its quiet check fails, so the one that stops peer's web server waits.
    let mut seen = p.exp_string("there is no /root/note on peer").unwrap();
    seen += &p
        .exp_string("1 check(s) that break something on purpose run once these pass")
        .unwrap();
    // A few rounds with the quiet check failing: the disruptive one never starts.
    std::thread::sleep(Duration::from_secs(7));
    home.ok(&["--lab", "wt", "exec", "peer", "touch", "/root/note"]);
    seen += &p
        .exp_string("running step `note`'s 1 check(s) that break something on purpose")
        .unwrap();
    let early = seen.matches("running step").count();
    assert_eq!(early, 0, "watch ran the disruptive check early:\n{seen}");
    // The empty note fails the disruptive check: its report stays, and it is not run again on
    // its own while the quiet check keeps passing.
    p.exp_string("the note does not say `kept`").unwrap();
    p.exp_string("They run again when the step's other checks fail and pass again, or on Enter")
        .unwrap();
    home.ok(&[
        "--lab",
        "wt",
        "exec",
        "peer",
        "sh",
        "-c",
        "echo kept > /root/note",
    ]);
    let web_up = || {
        home.ok(&[
            "--lab",
            "wt",
            "exec",
            "peer",
            "systemctl",
            "is-active",
            "halab-tiny-web",
        ]) == "active\n"
    };
    let runs = || {
        home.ok(&["--lab", "wt", "exec", "peer", "cat", "/var/tmp/kept-runs"])
            .lines()
            .count()
    };
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(
        runs(),
        1,
        "the failed disruptive check ran again on its own"
    );
    assert!(
        web_up(),
        "the failed disruptive check did not put peer back"
    );
    // Enter runs it again.
    p.send_line("").unwrap();
    p.exp_string("running step `note`'s 1 check(s) that break something on purpose")
        .unwrap();
    p.exp_string("step `note` passed").unwrap();
    assert_eq!(runs(), 2);
    p.exp_string("every step of `tiny` has passed").unwrap();
    p.exp_eof().unwrap();
    // The passes are recorded as `check` records them; the disruptive check put peer back.
    let labs: serde_json::Value =
        serde_json::from_str(&home.ok(&["labs", "--format", "json"])).unwrap();
    assert_eq!(labs[0]["steps_passed"], 2, "{labs}");
    assert!(web_up());

    // Ctrl-C between rounds: a message, exit 130, nothing left running.
    home.ok(&["--lab", "wt", "reset"]);
    let mut p = watch(home);
    p.exp_string("there is no /root/mark on box").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    p.send_control('c').unwrap();
    p.exp_string("stopped watching; progress so far is saved")
        .unwrap();
    match p.process().wait().unwrap() {
        rexpect::process::WaitStatus::Exited(_, code) => assert_eq!(code, 130),
        other => panic!("watch ended as {other:?}"),
    }
    let o = home.run(&["--lab", "wt", "check", "--step", "mark"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    destroy_and_check(home, "wt");
}
