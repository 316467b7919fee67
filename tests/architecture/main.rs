//! The module-graph check: arrows point down (`docs/ARCHITECTURE.md`, issue 10).
//!
//! It reads `src/**/*.rs` (not `main.rs`, which is its own crate), finds every path into the
//! crate — `use crate::…`, `use super::…`, `use self::…`, a child module's name, and fully
//! qualified paths such as `crate::error::AppError::internal(..)` in code — and turns them into
//! edges between modules (one module per file). Comments, doc comments, string literals and
//! `#[cfg(test)]` items are left out: they are not part of the library's shape. A path through
//! a re-export (`pub use`, or a private `use` a child reaches through `super::`) counts against
//! the module that defines the item, and a `pub use` only counts against the module that
//! re-exports when that module uses the name itself.
//!
//! The rules (the test fails with the list of everything that breaks them):
//! 1. No import cycle, except among the GraphQL object types that name each other:
//!    `customer::graphql`, `account::graphql`, `contact::graphql`.
//! 2. Reads and writes (`*::service`, `*::write`, `contact::write::*`, the crate's `write`)
//!    never import the GraphQL layer: no `graphql`, `mutation` or `loader` module, no
//!    `payload`, `graphql_context`, `schema`, `loaders`, `batch`, `cost`, `read`, `http`, `app`,
//!    `cli`, `seed`, and no `async_graphql*` crate.
//! 3. The core (`error` and its children, `db`, `config`, `metrics`) imports nothing from the
//!    crate but the core: no resource, no `input`, no `auth`.
//!
//! Run `cargo test --test architecture -- --nocapture` to see the graph's summary, with
//! `KITH_MODULE_GRAPH=full` for every edge.

mod graph;
mod lexer;
mod parse;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use graph::{Graph, cycles};

/// The cycle the schema needs: `Customer.accounts`, `Account.customer`, `Contact.customer`...
const ALLOWED_CYCLE: [&str; 3] = [
    "crate::account::graphql",
    "crate::contact::graphql",
    "crate::customer::graphql",
];

/// Crates whose types belong to the GraphQL layer.
const GRAPHQL_CRATES: [&str; 3] = ["async_graphql", "async_graphql_axum", "async_graphql_value"];

/// Cycles that break rule 1 but are tolerated for now, like an `#[expect]`: the test fails
/// when a listed cycle disappears (so the entry goes with it) and when one appears that is not
/// listed. Empty: the three that were here (a `mod.rs` defining a type its children use while
/// using theirs) were fixed by moving the shared type into a child of its own.
const PENDING_CYCLES: [&[&str]; 0] = [];

#[test]
fn architecture_module_graph() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = Graph::load(&root);
    let report = check(&graph, &PENDING_CYCLES);
    print!("{}", graph.summary(&report));
    assert!(
        report.problems.is_empty(),
        "the module graph breaks {} rule(s):\n  {}",
        report.problems.len(),
        report.problems.join("\n  ")
    );
}

/// The graph's edges, its cycles, and every broken rule.
struct Report {
    edges: BTreeMap<(String, String), usize>,
    cycles: Vec<Vec<String>>,
    problems: Vec<String>,
}

fn check(graph: &Graph, pending: &[&[&str]]) -> Report {
    let edges = graph.edges();
    let cycles = cycles(&graph.modules(), &edges);
    let mut problems = Vec::new();
    let allowed: BTreeSet<&str> = ALLOWED_CYCLE.into_iter().collect();
    for cycle in &cycles {
        let is_pending = pending.iter().any(|listed| listed == cycle);
        if !is_pending && !cycle.iter().all(|module| allowed.contains(module.as_str())) {
            problems.push(format!(
                "import cycle outside the allowed one: {}\n{}",
                cycle.join(" <-> "),
                describe_edges_within(cycle, &edges)
            ));
        }
    }
    for listed in pending {
        if !cycles.iter().any(|cycle| cycle == listed) {
            problems.push(format!(
                "the pending cycle {} is gone (or changed): update PENDING_CYCLES",
                listed.join(" <-> ")
            ));
        }
    }
    for ((from, to), line) in &edges {
        if let Some(rule) = forbidden(from, to) {
            problems.push(format!("{from} -> {to} (line {line} of {from}): {rule}"));
        }
    }
    Report {
        edges,
        cycles,
        problems,
    }
}

/// Why an edge `from -> to` is forbidden, if it is. `to` is a module path or an external crate.
fn forbidden(from: &str, to: &str) -> Option<&'static str> {
    if is_read_or_write(from) && is_graphql_layer(to) {
        return Some("reads and writes never import the GraphQL layer");
    }
    if is_core(from) && !to.starts_with("extern ") && !is_core(to) {
        return Some("the core (error, db, config, metrics) imports only the core");
    }
    None
}

fn is_read_or_write(module: &str) -> bool {
    module == "crate::write"
        || module.ends_with("::service")
        || module.ends_with("::write")
        || module.contains("::write::")
}

fn is_graphql_layer(module: &str) -> bool {
    if let Some(krate) = module.strip_prefix("extern ") {
        return GRAPHQL_CRATES.contains(&krate);
    }
    let top = module.split("::").nth(1).unwrap_or_default();
    module
        .split("::")
        .any(|segment| matches!(segment, "graphql" | "mutation" | "loader"))
        || matches!(
            top,
            "payload"
                | "graphql_context"
                | "schema"
                | "loaders"
                | "batch"
                | "cost"
                | "read"
                | "http"
                | "app"
                | "cli"
                | "seed"
        )
}

fn is_core(module: &str) -> bool {
    matches!(
        module,
        "crate::error" | "crate::db" | "crate::config" | "crate::metrics"
    ) || module.starts_with("crate::error::")
}

fn describe_edges_within(cycle: &[String], edges: &BTreeMap<(String, String), usize>) -> String {
    let members: BTreeSet<&str> = cycle.iter().map(String::as_str).collect();
    edges
        .iter()
        .filter(|((from, to), _)| members.contains(from.as_str()) && members.contains(to.as_str()))
        .map(|((from, to), line)| format!("      {from} -> {to} (line {line})"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn check_reports_each_broken_rule() {
    let source = |module: &str, text: &str| (module.to_owned(), text.to_owned());
    let graph = Graph::from_sources([
        source(
            "crate",
            "pub mod customer; pub mod error; pub mod input; pub mod write;",
        ),
        source("crate::customer", "pub mod graphql; pub mod service;"),
        source(
            "crate::customer::graphql",
            "pub struct Customer; fn f() { super::service::find(); }",
        ),
        source(
            "crate::customer::service",
            "use super::graphql::Customer;\npub fn find() {}",
        ),
        source("crate::write", "use async_graphql::Context;"),
        source("crate::error", "fn f() { crate::input::Email::parse(); }"),
        source("crate::input", "pub struct Email;"),
    ]);
    let report = check(&graph, &[&["crate::auth", "crate::auth::jwt"]]);
    assert_eq!(
        report.problems,
        [
            "import cycle outside the allowed one: crate::customer::graphql <-> \
             crate::customer::service\n      crate::customer::graphql -> \
             crate::customer::service (line 1)\n      crate::customer::service -> \
             crate::customer::graphql (line 1)",
            "the pending cycle crate::auth <-> crate::auth::jwt is gone (or changed): update \
             PENDING_CYCLES",
            "crate::customer::service -> crate::customer::graphql (line 1 of \
             crate::customer::service): reads and writes never import the GraphQL layer",
            "crate::error -> crate::input (line 1 of crate::error): the core (error, db, config, \
             metrics) imports only the core",
            "crate::write -> extern async_graphql (line 1 of crate::write): reads and writes \
             never import the GraphQL layer",
        ]
    );
}
