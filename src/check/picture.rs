//! A short, faithful picture of what a command printed, for a person at a terminal: runs of
//! identical lines (or of an identical block of lines, such as the same HTML page nine times)
//! collapsed with a count, long lines cut to the width, at most a few lines and then how many
//! more there were. JSON and JUnit reports keep the whole output; this is only how text shows it.
//!
//! Must not: run anything, read state, or judge a result (it draws what came back).

/// Lines of a failing check's output shown before "N more lines".
pub(crate) const MAX_LINES: usize = 6;
/// The width when the report does not go to a terminal.
pub(crate) const PLAIN_WIDTH: usize = 100;
/// How much of an offending line a `why` quotes.
pub(crate) const QUOTE_CHARS: usize = 60;
/// The longest block of lines looked for as a repeat (a page of HTML is about 25).
const MAX_BLOCK: usize = 64;
/// Lines looked at for repeats; past them the output is only counted.
const MAX_SCANNED: usize = 4000;

/// `lines[start..start + len]`, seen `times` in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    pub start: usize,
    pub len: usize,
    pub times: usize,
}

/// The output's lines as runs: each place takes the repeated block that covers the most lines
/// (the shorter block on a tie), so nine copies of a page become one group of nine.
pub(crate) fn collapse(lines: &[&str]) -> Vec<Group> {
    let n = lines.len().min(MAX_SCANNED);
    let mut groups = Vec::new();
    let mut i = 0;
    while i < n {
        let mut best = Group {
            start: i,
            len: 1,
            times: 1,
        };
        for len in 1..=MAX_BLOCK.min((n - i) / 2) {
            let block = &lines[i..i + len];
            let mut times = 1;
            while i + (times + 1) * len <= n
                && &lines[i + times * len..i + (times + 1) * len] == block
            {
                times += 1;
            }
            if times > 1 && len * times > best.len * best.times {
                best = Group {
                    start: i,
                    len,
                    times,
                };
            }
        }
        i += best.len * best.times;
        groups.push(best);
    }
    if lines.len() > n {
        groups.extend((n..lines.len()).map(|start| Group {
            start,
            len: 1,
            times: 1,
        }));
    }
    groups
}

/// `s` in at most `width` characters: cut with `…`, control characters made visible.
pub(crate) fn cut(s: &str, width: usize) -> String {
    let clean: String = s
        .trim_end_matches('\r')
        .chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() => '·',
            c => c,
        })
        .collect();
    if clean.chars().count() <= width {
        return clean;
    }
    let mut out: String = clean.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The lines to print for `output` (each at most `width` wide), and how many of the output's
/// lines they leave out. `max_lines` counts printed lines; a repeated block takes one more, its
/// "N lines, K times" line.
pub(crate) fn picture(output: &str, width: usize, max_lines: usize) -> (Vec<String>, usize) {
    let lines: Vec<&str> = output.trim_end().lines().collect();
    if output.trim().is_empty() {
        return (Vec::new(), 0);
    }
    let mut shown: Vec<String> = Vec::new();
    let mut covered = 0;
    for g in collapse(&lines) {
        if shown.len() >= max_lines {
            break;
        }
        if g.len == 1 {
            let count = if g.times > 1 {
                format!("  × {}", g.times)
            } else {
                String::new()
            };
            let room = width.saturating_sub(count.chars().count()).max(8);
            shown.push(format!("{}{count}", cut(lines[g.start], room)));
            covered += g.times;
            continue;
        }
        shown.push(format!(
            "[the next {} lines, {} times in a row:]",
            g.len, g.times
        ));
        let room = max_lines.saturating_sub(shown.len());
        let take = g.len.min(room);
        shown.extend(lines[g.start..g.start + take].iter().map(|l| cut(l, width)));
        covered += if take == g.len { g.len * g.times } else { take };
    }
    (shown, lines.len() - covered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_lines_collapse_with_a_count() {
        let page =
            "<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head></html> 200\n";
        let out = page.repeat(30);
        let (shown, more) = picture(&out, 60, MAX_LINES);
        assert_eq!(
            shown,
            vec!["<!DOCTYPE html><html><head><title>Welcome to nginx!</…  × 30"]
        );
        assert_eq!(more, 0);
        assert_eq!(shown[0].chars().count(), 60);
    }

    #[test]
    fn a_repeated_block_is_shown_once() {
        let page = "<html>\n<h1>Welcome</h1>\n</html>\n";
        let (shown, more) = picture(&page.repeat(9), 100, MAX_LINES);
        assert_eq!(
            shown,
            vec![
                "[the next 3 lines, 9 times in a row:]",
                "<html>",
                "<h1>Welcome</h1>",
                "</html>"
            ]
        );
        assert_eq!(more, 0);
        // Cut inside the block: what is left is counted in the output's own lines.
        let long: String = (0..25).map(|i| format!("line {i}\n")).collect();
        let (shown, more) = picture(&long.repeat(9), 100, MAX_LINES);
        assert_eq!(shown.len(), MAX_LINES);
        assert_eq!(shown[0], "[the next 25 lines, 9 times in a row:]");
        assert_eq!(more, 25 * 9 - 5);
    }

    #[test]
    fn distinct_lines_stop_at_the_limit_and_say_how_many_more() {
        let out: String = (1..=20).map(|i| format!("app-0{i}\n")).collect();
        let (shown, more) = picture(&out, 100, 6);
        assert_eq!(shown.len(), 6);
        assert_eq!(shown[5], "app-06");
        assert_eq!(more, 14);
        let (shown, more) = picture("", 100, 6);
        assert!(shown.is_empty() && more == 0);
    }

    #[test]
    fn runs_mix_with_single_lines() {
        let out = "a\nb\nb\nb\nc\nd\nd\n";
        let (shown, more) = picture(out, 100, 6);
        assert_eq!(shown, vec!["a", "b  × 3", "c", "d  × 2"]);
        assert_eq!(more, 0);
    }

    #[test]
    fn cut_keeps_short_lines_and_shows_control_characters() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("abcdefghij", 5), "abcd…");
        assert_eq!(cut("a\u{1b}[31mred\r", 20), "a·[31mred");
    }
}
