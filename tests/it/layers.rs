//! The top-level modules of `src/` form a DAG: this test reads every `src/**/*.rs`, resolves each
//! `crate::`/`super::` path (including `use crate::{a, b::c}` groups) to the top-level module it
//! names, and fails naming the first import cycle it finds.
//!
//! Must not: compile or load the crate (it reads source text only), count comments or string
//! literals as imports, or treat a path inside one top-level module as an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Source text with comments and string/char literals blanked, so `//! crate::drill` in a doc
/// line or `"crate::x"` in a message does not count as an import. Newlines are kept.
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Rust block comments nest.
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !b
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // Raw string r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match b.get(j) {
                    None => break,
                    Some('"') if (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some('\n') => out.push('\n'),
                    _ => {}
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if b.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): only the former is skipped.
            if next == Some('\\') {
                i += 3;
                while i < b.len() && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The module path of a file: `src/a.rs` and `src/a/mod.rs` are `[a]`, `src/a/b.rs` is `[a, b]`.
fn module_path(src_dir: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src_dir).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Top-level modules of the crate that `code` (already through [`code_only`]) refers to, for a
/// file whose module path is `file_module`. Tracks inline `mod x { ... }` blocks so `super::` in a
/// `mod tests` resolves to the file's own module.
fn references(code: &str, file_module: &[String]) -> BTreeSet<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = BTreeSet::new();
    // Inline modules: (name, brace depth at which its body opened).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut pending_mod: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            depth += 1;
            if let Some(name) = pending_mod.take() {
                inline.push((name, depth));
            }
            i += 1;
            continue;
        }
        if c == '}' {
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
            depth = depth.saturating_sub(1);
            i += 1;
            continue;
        }
        if c == ';' {
            pending_mod = None;
        }
        if !is_ident_char(c) || (i > 0 && (is_ident_char(chars[i - 1]) || chars[i - 1] == '$')) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_ident_char(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if word == "mod" {
            let rest: String = chars[i..].iter().take(80).collect();
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| is_ident_char(*c))
                .collect();
            if !name.is_empty() {
                pending_mod = Some(name);
            }
            continue;
        }
        if word != "crate" && word != "super" && word != "self" {
            continue;
        }
        // The module this path starts from.
        let mut base: Vec<String> = file_module.to_vec();
        base.extend(inline.iter().map(|(n, _)| n.clone()));
        let mut word = word;
        let mut j = i;
        loop {
            let at = |k: usize| chars.get(k).copied();
            if !(at(j) == Some(':') && at(j + 1) == Some(':')) {
                break;
            }
            j += 2;
            match word.as_str() {
                "crate" => base.clear(),
                "super" => {
                    base.pop();
                }
                _ => {}
            }
            while at(j).is_some_and(char::is_whitespace) {
                j += 1;
            }
            if at(j) == Some('{') {
                // A group: the first segment of each top-level item.
                let mut k = j + 1;
                let mut level = 1;
                let mut item_start = true;
                while k < chars.len() && level > 0 {
                    let ch = chars[k];
                    match ch {
                        '{' => level += 1,
                        '}' => level -= 1,
                        ',' if level == 1 => item_start = true,
                        _ if item_start && is_ident_char(ch) => {
                            let s = k;
                            while k < chars.len() && is_ident_char(chars[k]) {
                                k += 1;
                            }
                            let seg: String = chars[s..k].iter().collect();
                            if level == 1 {
                                item_start = false;
                                record(&mut found, &base, &seg);
                            }
                            continue;
                        }
                        _ => {}
                    }
                    k += 1;
                }
                j = k;
                break;
            }
            let s = j;
            while at(j).is_some_and(is_ident_char) {
                j += 1;
            }
            let seg: String = chars[s..j].iter().collect();
            if seg == "super" || seg == "self" {
                word = seg;
                continue;
            }
            record(&mut found, &base, &seg);
            break;
        }
        // Past the whole path, so its inner `super`/`self` segments are not read again.
        i = i.max(j);
    }
    found
}

/// Records the top-level module that `base::seg` lies in (nothing for `*` or an empty segment).
fn record(found: &mut BTreeSet<String>, base: &[String], seg: &str) {
    match base.first() {
        Some(top) => {
            found.insert(top.clone());
        }
        None if !seg.is_empty() && seg != "self" && seg != "super" => {
            found.insert(seg.to_string());
        }
        None => {}
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The import graph between top-level modules of `src/` (crate roots `lib.rs`, `main.rs` aside).
fn crate_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in &files {
        let module = module_path(&src, file);
        if module.len() == 1 && (module[0] == "lib" || module[0] == "main") {
            continue;
        }
        let top = module[0].clone();
        let text = std::fs::read_to_string(file).unwrap();
        let deps = graph.entry(top.clone()).or_default();
        for dep in references(&code_only(&text), &module) {
            if dep != top {
                deps.insert(dep);
            }
        }
    }
    // Only edges to real top-level modules (a `crate::SomeReexport` is not a module).
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph
}

/// One cycle in `graph`, as `a -> b -> ... -> a`, if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_string(), Mark::Open);
        stack.push(node.to_string());
        for dep in graph.get(node).into_iter().flatten() {
            match marks.get(dep).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let from = stack.iter().position(|n| n == dep).unwrap();
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(dep.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(dep, graph, marks, stack) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            let mut stack = Vec::new();
            if let Some(c) = visit(node, graph, &mut marks, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

fn show(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(m, deps)| {
            let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
            format!("  {m} -> {}\n", deps.join(", "))
        })
        .collect()
}

#[test]
fn top_level_modules_form_no_import_cycle() {
    let graph = crate_graph();
    // Print the graph (`cargo test --test it layers:: -- --nocapture`) to redraw README's DAG.
    println!("{}", show(&graph));
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import cycle between top-level modules of src/: {}\n\
             help: move the shared type down into the lower module (or one both may use) so \
             imports only point down\ngraph:\n{}",
            cycle.join(" -> "),
            show(&graph)
        );
    }
}

#[test]
fn storage_holds_no_feature_and_grading_needs_no_lifecycle() {
    let graph = crate_graph();
    for module in [
        "content", "exec", "backend", "state", "session", "check", "commands",
    ] {
        assert!(
            graph.contains_key(module),
            "{module} missing:\n{}",
            show(&graph)
        );
    }
    let above_state = [
        "backend",
        "session",
        "lifecycle",
        "provision",
        "check",
        "drill",
        "solve",
        "reset",
        "runner",
        "commands",
        "cli",
        "doctor",
    ];
    let rules: [(&str, &[&str]); 3] = [
        ("state", &above_state),
        (
            "check",
            &["lifecycle", "drill", "solve", "reset", "runner", "commands"],
        ),
        (
            "content",
            &["exec", "host", "backend", "state", "session", "lifecycle"],
        ),
    ];
    for (module, forbidden) in rules {
        if let Some(dep) = forbidden.iter().find(|d| graph[module].contains(**d)) {
            panic!(
                "`{module}` imports `{dep}`, which sits above it\ngraph:\n{}",
                show(&graph)
            );
        }
    }
}

fn refs(src: &str, module: &[&str]) -> Vec<String> {
    let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
    references(&code_only(src), &module).into_iter().collect()
}

#[test]
fn groups_nested_paths_and_super_resolve_to_top_level_modules() {
    let src = "use crate::{a, b::c, d::{e, f}};\nuse crate::g::h;\nfn x() { crate::i::j(); }\n\
               use super::k;\nuse std::io;\n";
    assert_eq!(refs(src, &["z", "y"]), ["a", "b", "d", "g", "i", "z"]);
    // In src/z/mod.rs `super` is the crate root.
    assert_eq!(refs("use super::k::l;", &["z"]), ["k"]);
    assert_eq!(refs("use super::super::k;", &["z", "y"]), ["k"]);
    // Multi-line groups.
    assert_eq!(
        refs("use crate::{\n    a::B,\n    c,\n};", &["z"]),
        ["a", "c"]
    );
}

#[test]
fn comments_and_strings_are_not_imports() {
    let src = "//! See crate::drill.\n// use crate::a;\n/* crate::b /* nested */ crate::c */\n\
               /// Uses [`crate::d`].\nlet s = \"crate::e\"; let r = r#\"crate::f\"#;\n\
               let c = '\"'; fn f<'a>(x: &'a str) { crate::g::h(x) }";
    assert_eq!(refs(src, &["z"]), ["g"]);
}

#[test]
fn super_inside_an_inline_test_module_is_the_file_itself() {
    let src = "mod tests {\n    use super::*;\n    use super::super::other;\n}\nuse super::top;";
    assert_eq!(refs(src, &["z"]), ["other", "top", "z"]);
}

#[test]
fn a_cycle_is_named() {
    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")] {
        graph.entry(from.into()).or_default().insert(to.into());
        graph.entry(to.into()).or_default();
    }
    assert_eq!(find_cycle(&graph).unwrap().join(" -> "), "a -> b -> c -> a");
    graph.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&graph), None);
}
