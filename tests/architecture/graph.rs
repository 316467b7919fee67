//! The module graph: files to modules, paths to the modules that define what they name,
//! edges, and the cycles among them (Tarjan's strongly connected components).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::parse::{FileFacts, parse_file};
use crate::{
    ALLOWED_CYCLE, GRAPHQL_CRATES, PENDING_CYCLES, Report, is_core, is_graphql_layer,
    is_read_or_write,
};

pub(crate) struct Graph {
    /// Module path (`crate::contact::write`) to what its file says.
    files: BTreeMap<String, FileFacts>,
    /// Every module, inline ones included (they resolve paths but are not nodes).
    known: BTreeSet<String>,
}

impl Graph {
    pub(crate) fn load(root: &Path) -> Graph {
        let mut paths = Vec::new();
        collect_rs_files(root, &mut paths);
        let sources = paths.into_iter().filter_map(|file| {
            let relative = file.strip_prefix(root).expect("a file under src");
            let module = module_of(relative)?;
            let source = std::fs::read_to_string(&file).expect("a readable source file");
            Some((module, source))
        });
        Graph::from_sources(sources)
    }

    /// A graph of `(module path, source)` pairs.
    pub(crate) fn from_sources(sources: impl IntoIterator<Item = (String, String)>) -> Graph {
        let mut files: BTreeMap<String, FileFacts> = sources
            .into_iter()
            .map(|(module, source)| (module, parse_file(&source)))
            .collect();
        // Drop the files `#[cfg(test)] mod x;` declares (and everything under them).
        let test_only: Vec<String> = files
            .iter()
            .flat_map(|(module, facts)| {
                facts
                    .test_children
                    .iter()
                    .map(move |child| format!("{module}::{child}"))
            })
            .collect();
        files.retain(|module, _| {
            !test_only
                .iter()
                .any(|test| module == test || module.starts_with(&format!("{test}::")))
        });
        let mut known: BTreeSet<String> = files.keys().cloned().collect();
        for (module, facts) in &files {
            for inline in &facts.inline_modules {
                known.insert(format!("{module}::{}", inline.join("::")));
            }
        }
        Graph { files, known }
    }

    pub(crate) fn modules(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// The file module a (possibly inline) module belongs to.
    fn node_of(&self, module: &str) -> String {
        let mut node = module;
        while !self.files.contains_key(node) {
            match node.rsplit_once("::") {
                Some((parent, _)) => node = parent,
                None => break,
            }
        }
        node.to_owned()
    }

    /// Turn a path as written in `scope` into a path from `crate`, or `extern <crate>` for a
    /// GraphQL crate. `None` for anything else (std, other crates, local names).
    fn absolute(&self, file: &str, scope: &[String], path: &[String]) -> Option<Vec<String>> {
        let mut here: Vec<String> = file.split("::").map(str::to_owned).collect();
        here.extend(scope.iter().cloned());
        let first = path.first()?;
        let joined = |base: &[String], rest: &[String]| -> Vec<String> {
            base.iter().chain(rest).cloned().collect()
        };
        match first.as_str() {
            "crate" => Some(path.to_vec()),
            "self" => Some(joined(&here, &path[1..])),
            "super" => {
                let mut base = here;
                let mut rest = path;
                while rest.first().is_some_and(|segment| segment == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                Some(joined(&base, rest))
            }
            name if GRAPHQL_CRATES.contains(&name) => Some(vec![format!("extern {name}")]),
            name => {
                let child = format!("{}::{name}", here.join("::"));
                if self.known.contains(&child) {
                    return Some(joined(&here, path));
                }
                // A name a `use` of this file binds to something in the crate.
                let facts = &self.files[file];
                let bound = facts.uses.iter().find(|item| {
                    item.binds.as_deref() == Some(name) && item.path.first() != Some(first)
                })?;
                let base = self.absolute(file, &bound.scope, &bound.path)?;
                Some(joined(&base, &path[1..]))
            }
        }
    }

    /// The module that defines what an absolute path names, following re-exports.
    fn defining_module(&self, path: &[String], hops: usize) -> String {
        if path[0].starts_with("extern ") {
            return path[0].clone();
        }
        let mut module = path[0].clone();
        for (i, name) in path.iter().enumerate().skip(1) {
            let child = format!("{module}::{name}");
            if self.known.contains(&child) {
                module = child;
                continue;
            }
            let node = self.node_of(&module);
            let Some(facts) = self.files.get(&node) else {
                return module;
            };
            if facts.defines.contains(name) || hops > 16 {
                return module;
            }
            let scope: Vec<String> = module
                .strip_prefix(&node)
                .unwrap_or_default()
                .split("::")
                .filter(|segment| !segment.is_empty())
                .map(str::to_owned)
                .collect();
            let local_uses = facts.uses.iter().filter(|item| item.scope == scope);
            for item in local_uses.clone() {
                if item.binds.as_deref() == Some(name.as_str())
                    && let Some(target) = self.absolute(&node, &item.scope, &item.path)
                {
                    let mut rest = target;
                    rest.extend(path[i + 1..].iter().cloned());
                    return self.defining_module(&rest, hops + 1);
                }
            }
            for item in local_uses.filter(|item| item.binds.is_none()) {
                if let Some(mut target) = self.absolute(&node, &item.scope, &item.path) {
                    let source = self.defining_module(&target, hops + 1);
                    if self.provides(&source, name) {
                        target.extend(path[i..].iter().cloned());
                        return self.defining_module(&target, hops + 1);
                    }
                }
            }
            return module;
        }
        module
    }

    /// Whether `module` defines `name`, has a child of that name, or re-exports it by name.
    fn provides(&self, module: &str, name: &str) -> bool {
        self.known.contains(&format!("{module}::{name}"))
            || self.files.get(module).is_some_and(|facts| {
                facts.defines.contains(name)
                    || facts
                        .uses
                        .iter()
                        .any(|item| item.binds.as_deref() == Some(name))
            })
    }

    /// Every edge between file modules (and to GraphQL crates), with the first line it
    /// appears on.
    pub(crate) fn edges(&self) -> BTreeMap<(String, String), usize> {
        let mut edges = BTreeMap::new();
        let mut add = |from: &str, to: String, line: usize| {
            if from != to {
                edges.entry((from.to_owned(), to)).or_insert(line);
            }
        };
        for (file, facts) in &self.files {
            for item in &facts.uses {
                let Some(path) = self.absolute(file, &item.scope, &item.path) else {
                    continue;
                };
                let joined = path.join("::");
                // Naming a module only binds it; the paths through it are what count.
                if self.known.contains(&joined) && item.binds.is_some() {
                    continue;
                }
                let forwarding_only = item.public
                    && match &item.binds {
                        Some(name) => !facts.names.contains(name),
                        None => true,
                    };
                if forwarding_only {
                    continue;
                }
                let target = if item.binds.is_none() {
                    joined
                } else {
                    self.defining_module(&path, 0)
                };
                add(file, self.node_of(&target), item.line);
            }
            for path_use in &facts.paths {
                let Some(path) = self.absolute(file, &path_use.scope, &path_use.path) else {
                    continue;
                };
                let target = self.defining_module(&path, 0);
                add(file, self.node_of(&target), path_use.line);
            }
        }
        edges
    }

    pub(crate) fn summary(&self, report: &Report) -> String {
        let edges = &report.edges;
        let external = edges
            .keys()
            .filter(|(_, to)| to.starts_with("extern "))
            .count();
        let count = |predicate: fn(&str) -> bool| {
            self.files.keys().filter(|module| predicate(module)).count()
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "module graph of src/: {} modules, {} edges between them, {} to async_graphql crates",
            self.files.len(),
            edges.len() - external,
            external
        );
        let _ = writeln!(
            out,
            "  layers: {} read/write modules, {} GraphQL-layer modules, {} core modules",
            count(is_read_or_write),
            count(is_graphql_layer),
            count(is_core)
        );
        let allowed: Vec<String> = ALLOWED_CYCLE.map(str::to_owned).to_vec();
        for cycle in &report.cycles {
            let verdict = if *cycle == allowed {
                "allowed: the GraphQL object types"
            } else if PENDING_CYCLES.iter().any(|listed| listed == cycle) {
                "pending, listed in PENDING_CYCLES"
            } else {
                "FORBIDDEN"
            };
            let _ = writeln!(out, "  cycle ({verdict}): {}", cycle.join(" <-> "));
        }
        if report.cycles.is_empty() {
            let _ = writeln!(out, "  cycles: none");
        }
        let _ = writeln!(
            out,
            "  rules: no other cycle; reads/writes import no GraphQL layer; the core imports \
             only the core: {}",
            if report.problems.is_empty() {
                "all hold".to_owned()
            } else {
                format!("{} broken", report.problems.len())
            }
        );
        if std::env::var("KITH_MODULE_GRAPH").as_deref() == Ok("full") {
            let mut by_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for (from, to) in edges.keys() {
                by_source
                    .entry(from)
                    .or_default()
                    .push(to.trim_start_matches("crate::"));
            }
            for module in self.files.keys() {
                let targets = by_source.get(module.as_str()).cloned().unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {} -> {}",
                    module.trim_start_matches("crate::"),
                    targets.join(", ")
                );
            }
        }
        out
    }
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a readable directory")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `lib.rs` -> `crate`, `a/mod.rs` and `a.rs` -> `crate::a`, `a/b.rs` -> `crate::a::b`;
/// `None` for `main.rs` and `bin/`, which are other crates.
fn module_of(relative: &Path) -> Option<String> {
    let parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [only] if only == "lib" => Some("crate".to_owned()),
        [only] if only == "main" => None,
        [first, ..] if first == "bin" => None,
        [parents @ .., last] => {
            let mut module = vec!["crate".to_owned()];
            module.extend(parents.iter().cloned());
            if last != "mod" {
                module.push(last.clone());
            }
            Some(module.join("::"))
        }
        [] => None,
    }
}

/// Strongly connected components with more than one module (Tarjan's algorithm), each sorted.
pub(crate) fn cycles(
    modules: &[String],
    edges: &BTreeMap<(String, String), usize>,
) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        next: BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, module: &'a str) {
            let index = self.index.len();
            self.index.insert(module, index);
            self.low.insert(module, index);
            self.stack.push(module);
            self.on_stack.insert(module);
            for target in self.next.get(module).cloned().unwrap_or_default() {
                if !self.index.contains_key(target) {
                    self.visit(target);
                    let low = self.low[module].min(self.low[target]);
                    self.low.insert(module, low);
                } else if self.on_stack.contains(target) {
                    let low = self.low[module].min(self.index[target]);
                    self.low.insert(module, low);
                }
            }
            if self.low[module] == self.index[module] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.to_owned());
                    if member == module {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }

    let mut tarjan = Tarjan {
        next: BTreeMap::new(),
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for (from, to) in edges.keys() {
        tarjan.next.entry(from).or_default().push(to);
    }
    for module in modules {
        if !tarjan.index.contains_key(module.as_str()) {
            tarjan.visit(module);
        }
    }
    tarjan.found.sort();
    tarjan.found
}

#[test]
fn tarjan_finds_only_real_cycles() {
    let edge = |from: &str, to: &str| ((from.to_owned(), to.to_owned()), 1);
    let edges: BTreeMap<(String, String), usize> = [
        edge("a", "b"),
        edge("b", "c"),
        edge("c", "a"),
        edge("c", "d"),
        edge("d", "e"),
    ]
    .into_iter()
    .collect();
    let modules: Vec<String> = ["a", "b", "c", "d", "e"].map(str::to_owned).to_vec();
    assert_eq!(cycles(&modules, &edges), [["a", "b", "c"]]);
}
