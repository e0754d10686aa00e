//! Which node plays which part of a drill (its `roles`, e.g. the primary and the standby
//! database), asked of the lab's nodes once, when the drill starts: each part is the one node of
//! its candidates on which the part's command succeeds and prints what the part's regex matches.
//! The drill then runs bound to those nodes (`Drill::bind`), so the same drill works after the
//! parts swapped (a failover, then the old primary rebuilt as a standby). A run's repair must leave every part where it found
//! it: the parts are not asked again between runs.
//!
//! Must not: name a node or a part (the lesson does), or change the lab.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;

use crate::content::drill::{Drill, Role};
use crate::content::template::Context;
use crate::exec::Output;
use crate::session::OpenLab;
use crate::ui::Problem;

/// How long asking one node whether it plays a part may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

/// A drill with its parts found: the drill bound to the nodes, and which node plays which part.
pub(crate) struct Cast {
    /// The drill with every `@ROLE` replaced by its node.
    pub drill: Drill,
    /// Role id -> the node that plays it (empty for a drill without roles).
    pub roles: BTreeMap<String, String>,
}

impl Cast {
    /// The template values of the drill's parts added to `ctx` (`{{ role.ID.ip }}`).
    pub(crate) fn context(&self, ctx: &Context) -> Context {
        ctx.with_roles(&self.roles)
    }
}

/// What one candidate answered when asked whether it plays a part.
#[derive(Debug, PartialEq)]
pub(crate) enum Answer {
    /// The command succeeded and printed what the part's regex matches.
    Plays,
    /// It did not: what it printed or why it failed, in one line.
    Not(String),
}

/// Find which node plays each of the drill's parts; an error says which part has no node (or
/// more than one), what each candidate answered, and the part's hint.
pub(crate) fn cast(open: &OpenLab, drill: &Drill) -> Result<Cast> {
    if drill.roles.is_empty() {
        return Ok(Cast {
            drill: drill.clone(),
            roles: BTreeMap::new(),
        });
    }
    let ctx = open.template_context()?;
    let mut answers = Vec::new();
    for role in &drill.roles {
        let cmd = ctx.render(&role.run)?;
        // Multi-line, as a check's regexes: `^f$` matches the line `f`.
        let re = regex::Regex::new(&format!("(?m){}", role.stdout))?;
        let of_role: Vec<(String, Answer)> = role
            .among
            .iter()
            .map(|n| {
                let a = answer(open.backend.node(n).run(&cmd, ASK_TIMEOUT), &re);
                (n.clone(), a)
            })
            .collect();
        answers.push((role, of_role));
    }
    let roles = decide(&drill.id, &answers).map_err(|(message, role)| {
        let hint = role
            .hint
            .as_ref()
            .and_then(|h| ctx.render(h).ok())
            .unwrap_or_else(|| {
                "`halab status` shows the nodes; the drill's `roles` say how each part is found"
                    .into()
            });
        anyhow::Error::from(Problem::new(message, hint))
    })?;
    Ok(Cast {
        drill: drill.bind(&roles),
        roles,
    })
}

/// What a candidate's command came back with, as an answer to "do you play it?".
fn answer(ran: Result<Output>, re: &regex::Regex) -> Answer {
    match ran {
        Ok(o) if o.success() && re.is_match(&o.stdout) => Answer::Plays,
        Ok(o) if o.success() => Answer::Not(format!("printed `{}`", one_line(&o.stdout))),
        Ok(o) => Answer::Not(format!(
            "failed: {}",
            one_line(if o.stderr.trim().is_empty() {
                &o.stdout
            } else {
                &o.stderr
            })
        )),
        Err(e) => Answer::Not(format!("does not answer: {}", one_line(&format!("{e:#}")))),
    }
}

/// Each part's node from what the candidates answered; else the message and the part at fault:
/// no node plays it, several do, or one node would play two parts.
pub(crate) fn decide<'r>(
    drill: &str,
    answers: &[(&'r Role, Vec<(String, Answer)>)],
) -> std::result::Result<BTreeMap<String, String>, (String, &'r Role)> {
    let mut roles: BTreeMap<String, String> = BTreeMap::new();
    for (role, of_role) in answers {
        let playing: Vec<&str> = of_role
            .iter()
            .filter(|(_, a)| *a == Answer::Plays)
            .map(|(n, _)| n.as_str())
            .collect();
        let said: Vec<String> = of_role
            .iter()
            .map(|(n, a)| match a {
                Answer::Plays => format!("{n} plays it"),
                Answer::Not(why) => format!("{n} {why}"),
            })
            .collect();
        let among = role.among.join(", ");
        match playing.as_slice() {
            [one] => {
                if let Some((other, _)) = roles.iter().find(|(_, n)| n.as_str() == *one) {
                    return Err((
                        format!(
                            "drill `{drill}` cannot run: {one} would play both its `{other}` and its `{}`",
                            role.id
                        ),
                        role,
                    ));
                }
                roles.insert(role.id.clone(), one.to_string());
            }
            [] => {
                return Err((
                    format!(
                        "drill `{drill}` cannot run: no node among {among} plays its `{}` ({})",
                        role.id,
                        said.join("; ")
                    ),
                    role,
                ));
            }
            many => {
                return Err((
                    format!(
                        "drill `{drill}` cannot run: {} nodes play its `{}`: {}",
                        many.len(),
                        role.id,
                        many.join(", ")
                    ),
                    role,
                ));
            }
        }
    }
    Ok(roles)
}

/// `s` on one line, shortened.
fn one_line(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, among: &[&str]) -> Role {
        Role {
            id: id.into(),
            among: among.iter().map(|s| s.to_string()).collect(),
            run: "true".into(),
            stdout: ".".into(),
            hint: Some("h".into()),
        }
    }

    #[test]
    fn each_part_is_the_one_node_that_plays_it() {
        let (p, s) = (role("p", &["a", "b"]), role("s", &["a", "b"]));
        let answers = vec![
            (
                &p,
                vec![
                    ("a".into(), Answer::Not("printed `t`".into())),
                    ("b".into(), Answer::Plays),
                ],
            ),
            (
                &s,
                vec![
                    ("a".into(), Answer::Plays),
                    ("b".into(), Answer::Not("printed `f`".into())),
                ],
            ),
        ];
        let roles = decide("d", &answers).unwrap();
        assert_eq!(roles["p"], "b");
        assert_eq!(roles["s"], "a");
    }

    #[test]
    fn no_node_several_nodes_or_one_node_for_two_parts_are_refused_with_what_each_said() {
        let (p, s) = (role("p", &["a", "b"]), role("s", &["a", "b"]));
        let none = vec![(
            &p,
            vec![
                ("a".into(), Answer::Not("does not answer: down".into())),
                ("b".into(), Answer::Not("printed `t`".into())),
            ],
        )];
        let (m, r) = decide("d", &none).unwrap_err();
        assert_eq!(
            m,
            "drill `d` cannot run: no node among a, b plays its `p` (a does not answer: down; b printed `t`)"
        );
        assert_eq!(r.id, "p");
        let two = vec![(
            &p,
            vec![("a".into(), Answer::Plays), ("b".into(), Answer::Plays)],
        )];
        assert_eq!(
            decide("d", &two).unwrap_err().0,
            "drill `d` cannot run: 2 nodes play its `p`: a, b"
        );
        let same = vec![
            (
                &p,
                vec![
                    ("a".into(), Answer::Plays),
                    ("b".into(), Answer::Not("x".into())),
                ],
            ),
            (
                &s,
                vec![
                    ("a".into(), Answer::Plays),
                    ("b".into(), Answer::Not("x".into())),
                ],
            ),
        ];
        let (m, r) = decide("d", &same).unwrap_err();
        assert_eq!(
            m,
            "drill `d` cannot run: a would play both its `p` and its `s`"
        );
        assert_eq!(r.id, "s");
    }

    #[test]
    fn a_candidate_plays_a_part_when_its_command_succeeds_with_a_matching_line() {
        let out = |code: i32, stdout: &str, stderr: &str| {
            Ok(Output {
                code: Some(code),
                signal: None,
                stdout: stdout.into(),
                stderr: stderr.into(),
                raw_stdout: stdout.as_bytes().to_vec(),
            })
        };
        let re = regex::Regex::new("(?m)^f$").unwrap();
        assert_eq!(answer(out(0, "f\n", ""), &re), Answer::Plays);
        assert_eq!(
            answer(out(0, "t\n", ""), &re),
            Answer::Not("printed `t`".into())
        );
        assert_eq!(
            answer(out(2, "", "psql: error: connection refused\n"), &re),
            Answer::Not("failed: psql: error: connection refused".into())
        );
        assert_eq!(
            answer(Err(anyhow::anyhow!("node down")), &re),
            Answer::Not("does not answer: node down".into())
        );
    }

    #[test]
    fn long_answers_are_one_short_line() {
        assert_eq!(one_line(" a\n b  c\n"), "a b c");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), 161);
    }
}
