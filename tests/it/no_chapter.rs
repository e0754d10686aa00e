//! No chapter in Rust: reads the ch32 lab and lesson for the names a chapter brings (node names,
//! every IPv4 address, the services and packages of its roles, the lesson's own services, step
//! ids, drill ids and drill run ids), then scans every `src/**/*.rs` (comments and strings
//! included, `#[cfg(test)]` modules excluded) and fails naming `file:line` of each hit. What
//! moved out of Rust into the content is tested here too: the lesson's own VRRP figure (its awk)
//! still follows RFC 3768.
//!
//! Must not: compile or load the crate (it reads text only), or hard-code the names it looks for
//! (they come from the content, so a renamed node is still found).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Words of the content that are also generic tools or English, each with why Rust may say it.
const ALLOWED: &[(&str, &str)] = &[
    (
        "uptime",
        "halab's own availability calculator (`halab uptime`), not the step",
    ),
    (
        "python3",
        "the interpreter of halab's drill probe (assets/drill/requests.py)",
    ),
    ("review", "English; the lesson's review step is content"),
    (
        "nftables",
        "LXD's own host dependency (its firewall); the lab's nodes get it from labs/",
    ),
    (
        "crash",
        "a drill run's fault kind (`crash = NODE`), not the run id",
    ),
    (
        "client",
        "the LXD and multipass command-line clients, not the node",
    ),
    ("127.0.0.1", "loopback, in every node's /etc/hosts"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn toml_file(rel: &str) -> toml::Table {
    let text = std::fs::read_to_string(root().join(rel)).expect(rel);
    text.parse::<toml::Table>().expect(rel)
}

fn strings_at<'a>(v: &'a toml::Value, field: &str) -> Vec<&'a str> {
    v.get(field)
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
        .unwrap_or_default()
}

fn ids(tables: Option<&toml::Value>) -> Vec<String> {
    tables
        .and_then(|t| t.as_array())
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .collect()
}

/// Every name a chapter brings, from labs/ch32.toml and lessons/ch32.toml.
fn chapter_words() -> BTreeSet<String> {
    let mut words = BTreeSet::new();
    let lab = toml_file("labs/ch32.toml");
    for n in lab["nodes"].as_array().expect("nodes") {
        words.insert(n["name"].as_str().expect("name").to_string());
    }
    if let Some(roles) = lab.get("roles").and_then(|r| r.as_table()) {
        for role in roles.values() {
            for field in ["services", "packages"] {
                words.extend(strings_at(role, field).into_iter().map(str::to_string));
            }
        }
    }
    let ipv4 = regex::Regex::new(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b").unwrap();
    for file in ["labs/ch32.toml", "lessons/ch32.toml"] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        words.extend(ipv4.find_iter(&text).map(|m| m.as_str().to_string()));
    }
    let lesson = toml_file("lessons/ch32.toml");
    words.extend(ids(lesson.get("steps")));
    let drills = lesson.get("drills");
    words.extend(ids(drills));
    for d in drills.and_then(|d| d.as_array()).into_iter().flatten() {
        words.extend(ids(d.get("runs")));
    }
    // The services the lesson has the trainee set up (`[[services]]`), beyond the roles'.
    let services = lesson.get("services").and_then(|s| s.as_array());
    for s in services.into_iter().flatten() {
        words.extend(strings_at(s, "names").into_iter().map(str::to_string));
    }
    for (w, _) in ALLOWED {
        words.remove(*w);
    }
    words
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The lines of `src` outside `#[cfg(test)]` items, with their 1-based numbers: an item starts at
/// the attribute and ends where the braces it opens close.
fn lines_outside_tests(src: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut in_test: Option<i64> = None;
    let mut armed = false;
    for (i, line) in src.lines().enumerate() {
        if in_test.is_none() && !armed && line.trim_start().starts_with("#[cfg(test)]") {
            armed = true;
            continue;
        }
        if armed || in_test.is_some() {
            let depth = in_test.get_or_insert(0);
            *depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
            if line.contains('{') {
                armed = false;
            }
            if !armed && *depth <= 0 {
                in_test = None;
            }
            continue;
        }
        out.push((i + 1, line));
    }
    out
}

/// Whether `word` occurs in `line` as a whole name: not inside a longer name, word or address.
fn names(line: &str, word: &str) -> bool {
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    line.match_indices(word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let mut after = line[at + word.len()..].chars();
        let next = after.next();
        let digit_after_dot = next == Some('.') && after.next().is_some_and(|c| c.is_ascii_digit());
        let dot_digit_before =
            before == Some('.') && word.starts_with(|c: char| c.is_ascii_digit());
        !before.is_some_and(name_char)
            && !next.is_some_and(name_char)
            && !digit_after_dot
            && !dot_digit_before
    })
}

#[test]
fn src_names_nothing_of_the_chapter() {
    let words = chapter_words();
    assert!(
        words.contains("pg-primary") && words.iter().any(|w| w.starts_with("10.")),
        "the scan found no node names or addresses in the content: {words:?}"
    );
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.sort();
    let mut hits = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let rel = f.strip_prefix(root()).unwrap().display().to_string();
        for (n, line) in lines_outside_tests(&src) {
            for w in &words {
                if names(line, w) {
                    hits.push(format!("{rel}:{n}: `{w}` in: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "src/ names the chapter's nodes, addresses, services or ids ({} hits); move the knowledge \
         into labs/ or lessons/ (or say why a word is generic in ALLOWED):\n{}",
        hits.len(),
        hits.join("\n")
    );
}

#[test]
fn the_scan_sees_whole_names_only() {
    assert!(names("ssh lb-01 now", "lb-01"));
    assert!(names("\"10.0.0.2\"", "10.0.0.2"));
    assert!(!names("10.0.0.20", "10.0.0.2"));
    assert!(!names("10.10.0.0.2", "10.0.0.2"));
    assert!(!names("nginx-lb-01", "lb-01"));
    assert!(!names("cronjob", "cron"));
    assert!(names("`nginx -t`", "nginx"));
}

#[test]
fn test_modules_are_left_out() {
    let src = "a\n#[cfg(test)]\nmod tests {\n    fn f() {\n    }\n}\nb\n";
    let kept: Vec<&str> = lines_outside_tests(src)
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(kept, ["a", "b"]);
}

/// The lesson's `vrrp_s` figure command, run on a configuration written to a temporary file.
fn lesson_vrrp_figure(conf: &str) -> Option<f64> {
    let lesson = toml_file("lessons/ch32.toml");
    let run = lesson["drills"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            d.get("figures")
                .and_then(|f| f.as_array())
                .cloned()
                .unwrap_or_default()
        })
        .find(|f| f["id"].as_str() == Some("vrrp_s"))
        .expect("a drill figure `vrrp_s` in lessons/ch32.toml")["run"]
        .as_str()
        .unwrap()
        .to_string();
    let path = "/etc/keepalived/keepalived.conf";
    assert!(run.contains(path), "{run}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keepalived.conf");
    std::fs::write(&file, conf).unwrap();
    let run = run.replace(path, file.to_str().unwrap());
    let out = std::process::Command::new("sh")
        .args(["-c", &run])
        .output()
        .unwrap();
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).unwrap().trim().parse().ok()
}

#[test]
fn the_lessons_vrrp_figure_follows_rfc_3768() {
    // 3 x advert_int + (256 - priority) / 256 x advert_int; comments (`#`, `!`) do not count.
    let conf = "vrrp_instance VI_1 {\n    state BACKUP\n    priority 90\n    advert_int 1\n}\n";
    let v = lesson_vrrp_figure(conf).unwrap();
    assert!((v - (3.0 + 166.0 / 256.0)).abs() < 1e-6, "{v}");
    let conf = "vrrp_instance X {\n  priority 200 # high\n  ! priority 10\n  advert_int 2\n}";
    let v = lesson_vrrp_figure(conf).unwrap();
    assert!((v - (6.0 + 2.0 * 56.0 / 256.0)).abs() < 1e-6, "{v}");
    let v = lesson_vrrp_figure("vrrp_instance Y {\n  priority 250\n}\n").unwrap();
    assert!(
        (v - (3.0 + 6.0 / 256.0)).abs() < 1e-6,
        "advert_int defaults to 1: {v}"
    );
    assert_eq!(lesson_vrrp_figure("no priority here"), None);
}
