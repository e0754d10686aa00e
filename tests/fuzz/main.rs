//! A fuzz test of content loading (issue 10, point 7): seeded mutations of the real lab, lesson
//! and solution files (random bytes, truncations, swapped types, huge numbers, duplicated tables,
//! deleted lines, broken templates) through the lab/lesson/solution loaders, `validate` and the
//! catalog. Any panic fails, and so does a case that takes over 2 s (a hang).
//!
//! Content that loads must also be safe to run: every number that becomes a `Duration` must
//! convert (the drill and check engines call `Duration::from_secs_f64`, which panics otherwise).
//!
//! Runs for `HALAB_FUZZ_SECS` seconds (default 60) from seed `HALAB_FUZZ_SEED` (default fixed,
//! so a run is repeatable). The corpus, `tests/fuzz/corpus/{labs,lessons,solutions/ch32}/`, is
//! replayed first and seeds the mutations with the real files; a failing input is written, made
//! as small as it stays failing, to the test's temporary directory, to be copied into the corpus.
//! Failures listed in `tests/fuzz/known.txt` are reported, not failed (see that file).
//! It is its own test binary, not a group of `tests/it`: it sets `HALAB_CONTENT` and a panic
//! hook for the whole process, which would leak into every other test of a shared binary.
//! Must not: touch anything outside its temporary directories.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use halab::content::{self, Kind, Lab, Lesson, lab, lesson, solution};

const CASE_DEADLINE: Duration = Duration::from_secs(2);
const DEFAULT_SEED: u64 = 0x4841_4c41_4232_3031;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// One input: what it is checked as, the step (for a solution) and its bytes.
#[derive(Clone)]
struct Case {
    kind: Kind,
    /// The file name under its kind's directory (`ch32.toml`, `ch32/uptime.toml`).
    name: String,
    bytes: Vec<u8>,
}

impl Case {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
    fn dir(&self) -> &'static str {
        match self.kind {
            Kind::Lab => "labs",
            Kind::Lesson => "lessons",
            Kind::Solution => "solutions",
        }
    }
}

/// Values of every TOML type, and numbers that break naive conversions.
const VALUES: &[&str] = &[
    "1e309",
    "-1e309",
    "inf",
    "-inf",
    "nan",
    "-nan",
    "-1",
    "-1.0",
    "0",
    "-0.0",
    "1e20",
    "1e-320",
    "18446744073709551616",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "65536",
    "300",
    "\"\"",
    "\"x\"",
    "\"{{ node.nope.ip }}\"",
    "\"{% for a in range(99999) %}{% endfor %}\"",
    "\"{{\"",
    "\"((((\"",
    "[]",
    "[1, \"a\"]",
    "[[]]",
    "{}",
    "{ a = 1 }",
    "true",
    "1979-05-27T07:32:00Z",
    "'''\nmulti\n'''",
];

/// Pieces of template and TOML syntax to drop into text.
const SNIPPETS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "{#",
    "{{ node.nope.ip }}",
    "{{ node[\"",
    "{{ vip | upper }}",
    "{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}",
    "\"",
    "'''",
    "\"\"\"",
    "[",
    "]]",
    "=",
    "\n[[nodes]]\n",
    "\n[[steps]]\n",
    "\n[[drills]]\n",
    "\n[roles.x]\n",
    "\\u{0}",
    "\\",
    "\u{0}",
    "\u{feff}",
    "é",
];

fn mutate(rng: &mut Rng, case: &Case, seeds: &[Case]) -> Case {
    let mut out = case.clone();
    for _ in 0..1 + rng.below(3) {
        out.bytes = mutate_once(rng, &out.bytes, seeds);
    }
    out
}

fn mutate_once(rng: &mut Rng, bytes: &[u8], seeds: &[Case]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
    let n = lines.len().max(1);
    match rng.below(14) {
        // Random bytes, overwritten or inserted.
        0 => {
            let mut b = bytes.to_vec();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(b.len() + 1);
                let byte = (rng.next() & 0xff) as u8;
                if rng.below(2) == 0 && at < b.len() {
                    b[at] = byte;
                } else {
                    b.insert(at, byte);
                }
            }
            return b;
        }
        // Truncation, anywhere (mid-character too).
        1 => return bytes[..rng.below(bytes.len() + 1)].to_vec(),
        // A value replaced by one of another type, or by a huge number.
        2..=4 => {
            let with_value: Vec<usize> = (0..lines.len())
                .filter(|i| lines[*i].contains(" = ") && !lines[*i].trim_start().starts_with('#'))
                .collect();
            if !with_value.is_empty() {
                let i = *rng.pick(&with_value);
                let key = lines[i].split(" = ").next().unwrap_or_default().to_string();
                lines[i] = format!("{key} = {}", *rng.pick(VALUES));
            }
        }
        // A number anywhere replaced by a huge or broken one.
        5 => {
            let nums: Vec<(usize, usize, usize)> = lines
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    let b = l.as_bytes();
                    let mut v = Vec::new();
                    let mut j = 0;
                    while j < b.len() {
                        if b[j].is_ascii_digit() && (j == 0 || !b[j - 1].is_ascii_alphanumeric()) {
                            let s = j;
                            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                                j += 1;
                            }
                            v.push((i, s, j));
                        }
                        j += 1;
                    }
                    v
                })
                .collect();
            if !nums.is_empty() {
                let (i, s, e) = *rng.pick(&nums);
                let v = *rng.pick(VALUES);
                lines[i].replace_range(s..e, v);
            }
        }
        // A number given to a key (`within = 12.0`, inline tables too) made huge or broken.
        11..=13 => {
            let keyed: Vec<(usize, usize, usize)> = lines
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    l.match_indices(" = ")
                        .filter_map(|(at, _)| {
                            let s = at + 3;
                            let rest = &l[s..];
                            let len = rest
                                .find(|c: char| !(c.is_ascii_digit() || "-+._e".contains(c)))
                                .unwrap_or(rest.len());
                            rest.starts_with(|c: char| c.is_ascii_digit() || c == '-')
                                .then_some((i, s, s + len))
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            if !keyed.is_empty() {
                let (i, s, e) = *rng.pick(&keyed);
                let v = *rng.pick(VALUES);
                lines[i].replace_range(s..e, v);
            }
        }
        // A table (from its header to the next) duplicated.
        6 => {
            let headers: Vec<usize> = (0..lines.len())
                .filter(|i| lines[*i].starts_with('['))
                .collect();
            if !headers.is_empty() {
                let h = *rng.pick(&headers);
                let end = headers
                    .iter()
                    .copied()
                    .find(|x| *x > h)
                    .unwrap_or(lines.len());
                let block: Vec<String> = lines[h..end].to_vec();
                let at = rng.below(lines.len() + 1);
                lines.splice(at..at, block);
            }
        }
        // Lines deleted.
        7 => {
            let at = rng.below(n);
            let len = (1 + rng.below(4)).min(lines.len().saturating_sub(at));
            lines.drain(at..at + len);
        }
        // A line duplicated (duplicate keys), or moved.
        8 => {
            if !lines.is_empty() {
                let l = lines[rng.below(lines.len())].clone();
                let at = rng.below(lines.len() + 1);
                lines.insert(at, l);
            }
        }
        // A line from another file spliced in.
        9 => {
            let other = rng.pick(seeds).text();
            let other: Vec<&str> = other.split('\n').collect();
            let l = rng.pick(&other).to_string();
            let at = rng.below(lines.len() + 1);
            lines.insert(at, l);
        }
        // Template or TOML syntax dropped into the text; sometimes nested very deep.
        _ => {
            let mut t = lines.join("\n");
            let mut at = rng.below(t.len() + 1);
            while !t.is_char_boundary(at) {
                at -= 1;
            }
            if rng.below(8) == 0 {
                let depth = 1 + rng.below(5000);
                t.insert_str(
                    at,
                    &format!("\nx = {}{}\n", "[".repeat(depth), "]".repeat(depth)),
                );
            } else {
                let snippet = rng.pick::<&str>(SNIPPETS);
                t.insert_str(at, snippet);
            }
            return t.into_bytes();
        }
    }
    lines.join("\n").into_bytes()
}

/// The real lab and lesson, for checking lessons and solutions against them.
struct Refs {
    lab: Lab,
    lesson: Lesson,
    solved: std::collections::BTreeSet<String>,
}

/// Everything that is run on one input. Errors are fine; a panic is a failure, and so is an
/// invariant broken by content that loaded.
fn exercise(case: &Case, refs: &Refs) -> Result<(), String> {
    let text = case.text();
    let path = Path::new(case.dir()).join(&case.name);
    match case.kind {
        Kind::Lab => {
            if let Ok(l) = lab::load(&path, text) {
                // What the rest of halab does with a valid lab must not panic either.
                let _ = (l.network(), l.prefix(), l.all_packages());
                for n in &l.nodes {
                    let _ = (l.role_of(n), l.node_packages(n));
                }
                let ctx = halab::content::template::Context::new(
                    &l,
                    &l.id,
                    &halab::content::template::Facts::example(&l),
                    &BTreeMap::new(),
                );
                let _ = ctx.render("{{ vip }} {{ node.nope }}");
            }
        }
        Kind::Lesson => {
            let with_lab = lesson::LessonRefs {
                lab: Some(&refs.lab),
                solved_steps: Some(refs.solved.clone()),
            };
            if let Ok(l) = lesson::load(&path, text.clone(), &with_lab) {
                durations_convert(&l)?;
            }
            let alone = lesson::LessonRefs {
                lab: None,
                solved_steps: None,
            };
            if let Ok(l) = lesson::load(&path, text, &alone) {
                durations_convert(&l)?;
            }
        }
        Kind::Solution => {
            let step = Path::new(&case.name)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let _ = solution::load(
                &path,
                text.clone(),
                Some(&refs.lab),
                Some(&refs.lesson),
                &step,
            );
            let _ = solution::load(&path, text, None, None, &step);
        }
    }
    Ok(())
}

/// Every number of a loaded lesson that the engines turn into a `Duration`.
fn durations_convert(l: &Lesson) -> Result<(), String> {
    let ok = |what: &str, s: f64| {
        Duration::try_from_secs_f64(s)
            .map(|_| ())
            .map_err(|e| format!("duration: {what} = {s} loads but cannot become a Duration ({e})"))
    };
    for step in &l.steps {
        for q in &step.questions {
            let _ = q.answer();
        }
        for c in &step.checks {
            if let Some(w) = c.expect.within {
                ok("checks.expect.within", w)?;
            }
        }
    }
    for d in &l.drills {
        for r in &d.runs {
            ok("drills.runs.hold_s", r.hold_s)?;
            ok("drills.runs.settle_s", r.settle_s)?;
            for m in &r.measure {
                ok("drills.runs.measure.limit_s", m.limit_s)?;
                ok("drills.runs.measure.limit_s + 60", m.limit_s + 60.0)?;
            }
        }
    }
    Ok(())
}

/// Write `case` into a copy of the content and run `validate` and the catalog over it.
fn exercise_on_disk(case: &Case, content: &Path) -> Result<(), String> {
    let file = content.join(case.dir()).join(&case.name);
    let original = std::fs::read(&file).ok();
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(&file, &case.bytes).map_err(|e| e.to_string())?;
    let _ = content::validate_paths(std::slice::from_ref(&file));
    // `HALAB_CONTENT` points here (set once, before any thread).
    let _ = content::Catalog::load();
    match original {
        Some(b) => std::fs::write(&file, b),
        None => std::fs::remove_file(&file),
    }
    .map_err(|e| e.to_string())
}

/// The last panic's message and place, caught by the hook instead of printed.
static PANIC: Mutex<Option<String>> = Mutex::new(None);

enum Outcome {
    Fine,
    Failed(String),
    Hung,
}

/// Run `work` on its own thread (8 MiB of stack, as halab's main thread has) with a deadline.
fn guarded(work: impl FnOnce() -> Result<(), String> + Send + 'static) -> Outcome {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = tx.send(r);
        })
        .expect("thread");
    match rx.recv_timeout(CASE_DEADLINE) {
        Ok(Ok(Ok(()))) => Outcome::Fine,
        Ok(Ok(Err(broken))) => Outcome::Failed(broken),
        Ok(Err(_)) => Outcome::Failed(
            PANIC
                .lock()
                .unwrap()
                .take()
                .unwrap_or_else(|| "panic".into()),
        ),
        // The thread is left behind: the test fails and its process ends.
        Err(_) => Outcome::Hung,
    }
}

fn run_case(case: &Case, refs: &std::sync::Arc<Refs>, content: Option<&Path>) -> Outcome {
    let (c, r) = (case.clone(), refs.clone());
    let dir = content.map(Path::to_path_buf);
    guarded(move || {
        exercise(&c, &r)?;
        match dir {
            Some(d) => exercise_on_disk(&c, &d),
            None => Ok(()),
        }
    })
}

/// A failure's signature for `known.txt`: the broken invariant, or the panic's file and message.
fn signature(failure: &str) -> String {
    failure
        .split(" = ")
        .next()
        .unwrap_or(failure)
        .chars()
        .take(100)
        .collect()
}

/// Drop lines while the case still fails the same way: the input to put in a report.
fn minimize(case: &Case, refs: &std::sync::Arc<Refs>, failure: &str) -> Case {
    let sig = signature(failure);
    let mut best = case.clone();
    let mut chunk = best.text().split('\n').count() / 2;
    while chunk >= 1 {
        let mut i = 0;
        loop {
            let text = best.text();
            let lines: Vec<&str> = text.split('\n').collect();
            if i >= lines.len() {
                break;
            }
            let end = (i + chunk).min(lines.len());
            let candidate = Case {
                bytes: [&lines[..i], &lines[end..]]
                    .concat()
                    .join("\n")
                    .into_bytes(),
                ..best.clone()
            };
            match run_case(&candidate, refs, None) {
                Outcome::Failed(f) if signature(&f) == sig => best = candidate,
                _ => i += chunk,
            }
        }
        chunk /= 2;
    }
    best
}

fn read_corpus(dir: &Path, kind: Kind, prefix: &str, out: &mut Vec<Case>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if p.is_dir() {
            read_corpus(&p, kind, &format!("{name}/"), out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(Case {
                kind,
                name,
                bytes: std::fs::read(&p).unwrap(),
            });
        }
    }
}

fn known_failures() -> Vec<String> {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/known.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

#[test]
fn content_loading_survives_mutated_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let secs = env_u64("HALAB_FUZZ_SECS").unwrap_or(60);
    let seed = env_u64("HALAB_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let budget = Duration::from_secs(secs);

    // A private content copy for `validate` and the catalog; set before any thread starts.
    let content = tempfile::tempdir().unwrap();
    for kind in ["labs", "lessons", "solutions"] {
        let status = std::process::Command::new("cp")
            .args(["-r"])
            .arg(root.join(kind))
            .arg(content.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    // SAFETY: no other thread runs yet: this test binary holds this one test.
    unsafe { std::env::set_var("HALAB_CONTENT", content.path()) };
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *PANIC.lock().unwrap() = Some(format!("panic at {at}: {msg}"));
    }));

    let mut seeds = Vec::new();
    read_corpus(&root.join("labs"), Kind::Lab, "", &mut seeds);
    read_corpus(&root.join("lessons"), Kind::Lesson, "", &mut seeds);
    read_corpus(&root.join("solutions"), Kind::Solution, "", &mut seeds);
    let mut corpus = Vec::new();
    let corpus_dir = root.join("tests/fuzz/corpus");
    read_corpus(&corpus_dir.join("labs"), Kind::Lab, "", &mut corpus);
    read_corpus(&corpus_dir.join("lessons"), Kind::Lesson, "", &mut corpus);
    read_corpus(
        &corpus_dir.join("solutions"),
        Kind::Solution,
        "",
        &mut corpus,
    );
    let real = |kind: Kind, name: &str| {
        seeds
            .iter()
            .find(|c| c.kind == kind && c.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .text()
    };
    let lab = lab::load(Path::new("labs/ch32.toml"), real(Kind::Lab, "ch32.toml")).unwrap();
    let solved = seeds
        .iter()
        .filter(|c| c.kind == Kind::Solution && c.name.starts_with("ch32/"))
        .map(|c| {
            c.name["ch32/".len()..]
                .trim_end_matches(".toml")
                .to_string()
        })
        .collect();
    let refs = lesson::LessonRefs {
        lab: Some(&lab),
        solved_steps: Some(solved),
    };
    let lesson = lesson::load(
        Path::new("lessons/ch32.toml"),
        real(Kind::Lesson, "ch32.toml"),
        &refs,
    )
    .unwrap();
    let solved = refs.solved_steps.clone().unwrap();
    let refs = std::sync::Arc::new(Refs {
        lab,
        lesson,
        solved,
    });

    let known = known_failures();
    let failures_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let mut failed: Vec<String> = Vec::new();
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    let mut report = |case: &Case, outcome: Outcome, failed: &mut Vec<String>| {
        let failure = match outcome {
            Outcome::Fine => return,
            Outcome::Hung => format!("hang: no answer within {CASE_DEADLINE:?}"),
            Outcome::Failed(f) => f,
        };
        let sig = signature(&failure);
        if let Some(k) = known.iter().find(|k| sig.contains(k.as_str())) {
            *expected.entry(k.clone()).or_default() += 1;
            return;
        }
        let small = if failure.starts_with("hang") {
            case.clone()
        } else {
            minimize(case, &refs, &failure)
        };
        std::fs::create_dir_all(failures_dir.join(small.dir()).join("ch32")).unwrap();
        let saved = failures_dir.join(small.dir()).join(format!(
            "{}-{}",
            failed.len(),
            small.name.replace('/', "-")
        ));
        std::fs::write(&saved, &small.bytes).unwrap();
        failed.push(format!(
            "{failure}\n    input ({} as {}): {}",
            small.name,
            small.kind.name(),
            saved.display()
        ));
    };

    // The corpus first: every regression once found stays fixed.
    for case in seeds.iter().chain(&corpus) {
        let outcome = run_case(case, &refs, Some(content.path()));
        report(case, outcome, &mut failed);
    }
    let pool: Vec<Case> = seeds.iter().chain(&corpus).cloned().collect();
    let mut rng = Rng(seed.max(1));
    let started = Instant::now();
    let mut cases = 0u64;
    let mut spent: BTreeMap<(&str, bool), (u32, Duration)> = BTreeMap::new();
    while started.elapsed() < budget && failed.len() < 10 {
        // Kinds equally often (there are many more solution files than labs).
        let kind = *rng.pick(&[Kind::Lab, Kind::Lesson, Kind::Solution]);
        let of_kind: Vec<&Case> = pool.iter().filter(|c| c.kind == kind).collect();
        let base = (*rng.pick(&of_kind)).clone();
        let case = mutate(&mut rng, &base, &pool);
        // The filesystem path (validate, catalog) is slower: one case in twelve takes it.
        let on_disk = rng.below(12) == 0;
        let t = Instant::now();
        let outcome = run_case(&case, &refs, on_disk.then_some(content.path()));
        let e = spent
            .entry((case.kind.name(), on_disk))
            .or_insert((0, Duration::ZERO));
        e.0 += 1;
        e.1 += t.elapsed();
        let hung = matches!(outcome, Outcome::Hung);
        report(&case, outcome, &mut failed);
        cases += 1;
        if hung {
            break; // a thread is stuck in the content copy: stop here.
        }
    }
    eprintln!(
        "fuzz: {cases} mutated cases from seed {seed:#x} in {:.1?}, {} corpus files",
        started.elapsed(),
        pool.len()
    );
    for ((kind, on_disk), (n, t)) in &spent {
        let how = if *on_disk {
            ", with validate and the catalog"
        } else {
            ""
        };
        eprintln!("fuzz: {n} {kind} cases{how}, {:.1?} each", *t / *n);
    }
    for (k, n) in &expected {
        eprintln!("fuzz: KNOWN failure (tests/fuzz/known.txt), {n} case(s): {k}");
    }
    assert!(
        failed.is_empty(),
        "{} failure(s) (seed {seed:#x}; copy an input into tests/fuzz/corpus/<kind>/ once fixed):\n{}",
        failed.len(),
        failed.join("\n")
    );
}
