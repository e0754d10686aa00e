//! `halab join TOKEN`: a trainee's machine joins their lab of a class (the class server as an
//! LXD remote, the lab remembered under the lesson's name).

use std::io::Read as _;

use anyhow::Result;

use crate::class::{run, token::JoinToken};
use crate::cli::{Global, JoinArgs};
use crate::ui;

pub(crate) fn run(g: &Global, a: JoinArgs) -> Result<i32> {
    let text = if a.token == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        a.token
    };
    let token = JoinToken::decode(&text)?;
    if let Some(when) = token.expires() {
        ui::say(format!("the token is good until {when}, once"));
    }
    let j = run::join(&token, g.lab.clone())?;
    if j.remote_existed {
        ui::say(format!("the class server is remote `{}` already", j.remote));
    }
    let lab_flag = if g.lab.is_some() {
        format!(" --lab {}", j.lab)
    } else {
        String::new()
    };
    eprintln!(
        "{} joined class `{}` as `{}`: your lab is `{}` on the class server (remote `{}`)",
        ui::green("✔"),
        j.class,
        j.trainee,
        j.lab,
        j.remote
    );
    eprintln!(
        "  next: `halab{lab_flag} start {}` shows your lab and the step you are on; `halab{lab_flag} check` grades it",
        j.lesson
    );
    Ok(0)
}
