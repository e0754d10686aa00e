//! The check engine. This file is the pure core: does one command's result meet a check's
//! expectation, and if not, why. `engine` runs checks on a lab (concurrently, with retries and
//! before/after commands); `outcome` holds what grading gives; `report` renders it as text,
//! JSON or JUnit; `picture` draws a command's output short for the text.
//!
//! Must not (this file): run anything or read state.

pub(crate) mod engine;
pub(crate) mod outcome;
pub(crate) mod picture;
pub(crate) mod report;

use regex::Regex;

use crate::content::lesson::Expect;
use crate::exec::Output;

/// Whether `out` meets `expect`; the error says what did not hold.
pub(crate) fn evaluate(expect: &Expect, out: &Output) -> Result<(), String> {
    let mut why = Vec::new();
    if !expect.any_exit {
        let want = expect.exit.unwrap_or(0);
        if out.code != Some(want) {
            why.push(format!(
                "exit status {want} expected, got {}",
                out.status_text().trim_start_matches("exit status ")
            ));
        }
    }
    let both = format!("{}\n{}", out.stdout, out.stderr);
    let must = |why: &mut Vec<String>, re: &Option<String>, text: &str, what: &str| {
        if let Some(re) = re
            && !matches(re, text)
        {
            why.push(format!("{what} does not match /{re}/"));
        }
    };
    must(&mut why, &expect.stdout, &out.stdout, "stdout");
    must(&mut why, &expect.stderr, &out.stderr, "stderr");
    must(&mut why, &expect.output, &both, "output");
    if let Some(re) = &expect.not_output
        && matches(re, &both)
    {
        why.push(format!("output matches /{re}/, which it must not"));
    }
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(re) = &expect.every_line
        && let Some(bad) = lines.iter().find(|l| !matches(&format!("^(?:{re})$"), l))
    {
        let quoted = picture::cut(bad, picture::QUOTE_CHARS);
        why.push(format!("line {quoted:?} does not match /{re}/"));
    }
    if let Some(n) = expect.distinct_lines {
        let distinct: std::collections::BTreeSet<&str> = lines.iter().copied().collect();
        if distinct.len() != n {
            why.push(format!(
                "{n} distinct lines expected, got {}",
                distinct.len()
            ));
        }
    }
    if let Some(n) = expect.min_lines
        && lines.len() < n
    {
        why.push(format!("at least {n} lines expected, got {}", lines.len()));
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("; "))
    }
}

fn matches(re: &str, text: &str) -> bool {
    // Regexes are checked when content loads; a bad one here matches nothing.
    Regex::new(&format!("(?m){re}")).is_ok_and(|r| r.is_match(text))
}

/// The expectation in words, for reports.
pub(crate) fn describe(expect: &Expect) -> String {
    let mut parts = Vec::new();
    if !expect.any_exit {
        parts.push(format!("exit status {}", expect.exit.unwrap_or(0)));
    }
    for (what, re) in [
        ("stdout", &expect.stdout),
        ("stderr", &expect.stderr),
        ("output", &expect.output),
    ] {
        if let Some(re) = re {
            parts.push(format!("{what} matching /{re}/"));
        }
    }
    if let Some(re) = &expect.not_output {
        parts.push(format!("output not matching /{re}/"));
    }
    if let Some(re) = &expect.every_line {
        parts.push(format!("every line matching /{re}/"));
    }
    if let Some(n) = expect.distinct_lines {
        parts.push(format!("{n} distinct lines"));
    }
    if let Some(n) = expect.min_lines {
        parts.push(format!("at least {n} lines"));
    }
    if let Some(s) = expect.within {
        parts.push(format!("within {s} s"));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(code: i32, stdout: &str, stderr: &str) -> Output {
        Output {
            code: Some(code),
            stdout: stdout.into(),
            stderr: stderr.into(),
            ..Default::default()
        }
    }

    fn expect(toml_text: &str) -> Expect {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn exit_status_defaults_to_zero() {
        assert!(evaluate(&Expect::default(), &out(0, "", "")).is_ok());
        let e = evaluate(&Expect::default(), &out(1, "", "")).unwrap_err();
        assert_eq!(e, "exit status 0 expected, got 1");
        assert!(evaluate(&expect("exit = 1"), &out(1, "", "")).is_ok());
        assert!(evaluate(&expect("any_exit = true"), &out(7, "", "")).is_ok());
    }

    #[test]
    fn regexes_on_streams() {
        let nginx = out(
            0,
            "",
            "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n",
        );
        assert!(evaluate(&expect(r#"stderr = "syntax is ok""#), &nginx).is_ok());
        assert!(evaluate(&expect(r#"stdout = "syntax is ok""#), &nginx).is_err());
        assert!(evaluate(&expect(r#"output = "test is successful""#), &nginx).is_ok());
        let e = evaluate(&expect(r#"not_output = "syntax""#), &nginx).unwrap_err();
        assert!(e.contains("must not"), "{e}");
        // Multi-line mode: ^ and $ work per line.
        assert!(evaluate(&expect(r#"stderr = "^nginx: configuration file""#), &nginx).is_ok());
    }

    #[test]
    fn line_expectations() {
        let spread = out(0, "app-01\napp-02\napp-03\napp-01\n", "");
        assert!(
            evaluate(
                &expect(
                    r#"every_line = "app-0[1-3]"
distinct_lines = 3"#
                ),
                &spread
            )
            .is_ok()
        );
        let default_page = out(0, "<html>\n<title>Welcome to nginx!</title>\n</html>\n", "");
        let e = evaluate(&expect(r#"every_line = "app-0[1-3]""#), &default_page).unwrap_err();
        assert!(e.contains(r#"line "<html>" does not match"#), "{e}");
        // Only the first offending line is quoted, and only its start.
        let one_line_page = out(
            0,
            &format!("<html>{}</html>\nalso bad\n", "x".repeat(500)),
            "",
        );
        let e = evaluate(&expect(r#"every_line = "app-0[1-3]""#), &one_line_page).unwrap_err();
        assert!(
            e.starts_with("line \"<html>xxx") && e.contains("x…\" does not match"),
            "{e}"
        );
        assert!(e.chars().count() < 100 && !e.contains("also bad"), "{e}");
        let e = evaluate(
            &expect("distinct_lines = 3"),
            &out(0, "app-01\napp-01\n", ""),
        )
        .unwrap_err();
        assert_eq!(e, "3 distinct lines expected, got 1");
        assert!(evaluate(&expect("min_lines = 2"), &out(0, "a\n\nb\n", "")).is_ok());
        assert!(evaluate(&expect("min_lines = 2"), &out(0, "a\n\n", "")).is_err());
    }

    #[test]
    fn every_failed_part_is_named() {
        let e = evaluate(
            &expect(r#"stdout = "streaming""#),
            &out(2, "", "psql: error"),
        )
        .unwrap_err();
        assert!(
            e.contains("exit status 0 expected, got 2")
                && e.contains("stdout does not match /streaming/"),
            "{e}"
        );
    }

    #[test]
    fn descriptions_read_well() {
        let d = describe(&expect(
            r#"stderr = "syntax is ok"
within = 5.0"#,
        ));
        assert_eq!(
            d,
            "exit status 0; stderr matching /syntax is ok/; within 5 s"
        );
    }
}
