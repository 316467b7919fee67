//! The cost pass against documents shaped like the attacks it exists for.

use std::time::Instant;

use async_graphql::Variables;

use super::*;

const LIMITS: Limits = Limits {
    max_depth: 12,
    max_complexity: 20_000,
    max_fields: 1000,
    max_page_size: 100,
};

fn cost(query: &str) -> Result<Cost, CostError> {
    cost_with(query, &Variables::default())
}

fn cost_with(query: &str, variables: &Variables) -> Result<Cost, CostError> {
    let model = CostModel::from_sdl(&crate::schema::sdl());
    let document = async_graphql::parser::parse_query(query).expect("query parses");
    Budget::new(LIMITS).charge(&model, &document, variables)
}

/// `{ me { ...F<levels> } }` where each fragment spreads the one below `width` times.
fn fan_out(levels: usize, width: usize) -> String {
    let mut query = format!("{{ me {{ ...F{levels} }} }} fragment F0 on Me {{ subject }}");
    for level in 1..=levels {
        let spreads = format!("...F{} ", level - 1).repeat(width);
        query.push_str(&format!(" fragment F{level} on Me {{ {spreads}}}"));
    }
    query
}

#[test]
fn every_unpaged_object_list_is_costed_deliberately() {
    let sdl = crate::schema::sdl();
    let model = CostModel::from_sdl(&sdl);
    assert_eq!(model.unsized_object_lists(&sdl), Vec::<String>::new());
}

#[test]
fn fragment_fan_out_is_refused_at_once() {
    for (levels, width) in [(30, 4), (13, 4), (10, 50), (200, 2)] {
        let started = Instant::now();
        let outcome = cost(&fan_out(levels, width));
        assert!(
            matches!(outcome, Err(CostError::TooComplex(ref message)) if message.contains("fields")),
            "{levels}x{width}: {outcome:?}"
        );
        // A guard against exponential work (22.5 s before), not a timing: the release
        // figure (2 ms) is in BENCHMARKS.md.
        assert!(
            started.elapsed().as_secs() < 1,
            "{levels}x{width} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn fragments_are_costed_once_each() {
    // 4^4 = 256 expanded `subject` fields, plus `me`: under the limit, and exactly counted.
    let allowed = cost(&fan_out(4, 4)).expect("allowed");
    assert_eq!(allowed.fields, 257);
    assert_eq!(allowed.depth, 2);
}

#[test]
fn cycles_are_reported() {
    let outcome = cost("{ me { ...A } } fragment A on Me { ...B } fragment B on Me { ...A }");
    assert!(
        matches!(outcome, Err(CostError::FragmentCycle(_))),
        "{outcome:?}"
    );
}

#[test]
fn introspection_does_not_count_toward_depth() {
    let query = include_str!("../../tests/fixtures/introspection.graphql");
    let standard = cost(query).expect("the standard introspection query passes at the defaults");
    assert_eq!(standard.depth, 0);
    assert!(
        standard.fields > 150 && standard.fields < 1000,
        "{standard:?}"
    );
    // ...but introspection still counts fields, so a fan-out inside it stays closed.
    let mut fan = fan_out(30, 4).replace(" on Me ", " on __Type ");
    fan = fan.replace("{ me { ...F30 } }", "{ __schema { types { ...F30 } } }");
    fan = fan.replace("{ subject }", "{ name }");
    assert!(matches!(cost(&fan), Err(CostError::TooComplex(_))));
}

#[test]
fn depth_counts_the_schema_s_own_fields() {
    let deep = format!(
        "{{ customers {{ items {{ {} id {} }} }} }}",
        "accounts { customer { ".repeat(6),
        "} } ".repeat(6)
    );
    let model = CostModel::from_sdl(&crate::schema::sdl());
    let document = async_graphql::parser::parse_query(&deep).expect("parses");
    let limits = Limits {
        max_complexity: usize::MAX,
        ..LIMITS
    };
    let outcome = Budget::new(limits).charge(&model, &document, &Variables::default());
    assert!(
        matches!(outcome, Err(CostError::TooComplex(ref m)) if m.contains("depth")),
        "{outcome:?}"
    );
}

#[test]
fn lists_multiply_their_children() {
    // contact(1) + contactPoints(1 + 50 × 2 fields).
    let point = cost("{ contact(id: \"x\") { contactPoints { id kind } } }").expect("ok");
    assert_eq!(point.complexity, 1 + 1 + 50 * 2);
    // A page multiplies its whole selection: items(1 + id) + totalCount, times pageSize.
    let page =
        cost("{ customers(page: { pageSize: 30 }) { totalCount items { id } } }").expect("ok");
    assert_eq!(page.complexity, 1 + 30 * (1 + 1 + 1));
    let default = cost("{ customers { items { id } } }").expect("ok");
    assert_eq!(default.complexity, 1 + 20 * 2);
    let variables = Variables::from_json(serde_json::json!({ "size": 7 }));
    let variable = cost_with(
        "query($size: Int) { customers(page: { pageSize: $size }) { items { id } } }",
        &variables,
    )
    .expect("ok");
    assert_eq!(variable.complexity, 1 + 7 * 2);
    let variables = Variables::from_json(serde_json::json!({ "page": { "pageSize": 9 } }));
    let whole = cost_with(
        "query($page: PageInput) { customers(page: $page) { items { id } } }",
        &variables,
    )
    .expect("ok");
    assert_eq!(whole.complexity, 1 + 9 * 2);
}

#[test]
fn connections_are_costed_like_pages_by_first_or_last() {
    // edges(1 + cursor + node(1 + id)) + totalCount, times `first`.
    let first =
        cost("{ contactsConnection(first: 30) { totalCount edges { cursor node { id } } } }")
            .expect("ok");
    assert_eq!(first.complexity, 1 + 30 * (1 + (1 + 1 + (1 + 1))));
    let default = cost("{ customersConnection { edges { node { id } } } }").expect("ok");
    assert_eq!(default.complexity, 1 + 20 * (1 + 1 + 1));
    let variables = Variables::from_json(serde_json::json!({ "n": 7 }));
    let last = cost_with(
        "query($n: Int) { accountsConnection(last: $n) { edges { node { id } } } }",
        &variables,
    )
    .expect("ok");
    assert_eq!(last.complexity, 1 + 7 * 3);
    // Nested lists under a node multiply too: 100 edges of 50 contact points each.
    let nested =
        cost("{ contactsConnection(first: 100) { edges { node { contactPoints { id } } } } }")
            .expect("ok");
    assert_eq!(nested.complexity, 1 + 100 * (1 + 1 + (1 + 50)));
}

#[test]
fn aliases_of_a_capped_list_add_up() {
    let alias = "a: contact(id: \"x\") { contactPoints { id value kind } } ";
    let many: String = (0..200)
        .map(|i| alias.replace("a:", &format!("a{i}:")))
        .collect();
    let outcome = cost(&format!("{{ {many} }}"));
    assert!(
        matches!(outcome, Err(CostError::TooComplex(_))),
        "{outcome:?}"
    );
}

#[test]
fn a_batch_is_held_to_the_sum() {
    let model = CostModel::from_sdl(&crate::schema::sdl());
    let aliases: String = (0..40)
        .map(|i| format!("a{i}: me {{ subject }} "))
        .collect();
    let document = async_graphql::parser::parse_query(format!("{{ {aliases} }}")).expect("parses");
    let mut budget = Budget::new(LIMITS);
    let mut accepted = 0;
    while budget
        .charge(&model, &document, &Variables::default())
        .is_ok()
    {
        accepted += 1;
    }
    // 80 fields each: the 13th document crosses 1000.
    assert_eq!(accepted, 12);
}

#[test]
fn deep_text_is_refused_before_parsing() {
    let deep = "{ me ".repeat(10_000);
    assert_eq!(check_text(&deep, 10_000), Err(CostError::TooDeeplyNested));
    let query = include_str!("../../tests/fixtures/introspection.graphql");
    assert_eq!(check_text(query, 1000), Ok(()));
    assert_eq!(check_text("{ a(s: \"{{{{{{{{{{\") } # {{{{{{{", 5), Ok(()));
}

#[test]
fn tokens_are_counted_before_parsing() {
    // `{ me ( x : "a b" , y : -1.5e3 ) { ...F @skip ( if : true ) } }`: 22 tokens, and
    // one field allows 20.
    let text = "{ me(x: \"a b\", y: -1.5e3) { ...F @skip(if: true) } } # a comment";
    assert!(
        matches!(check_text(text, 1), Err(CostError::TooComplex(ref m)) if m.contains("tokens"))
    );
    assert_eq!(check_text(text, 2), Ok(()));
    let directives = format!(
        "{{ me {{ subject {} }} }}",
        "@skip(if: false) ".repeat(4_000)
    );
    assert!(matches!(
        check_text(&directives, 1000),
        Err(CostError::TooComplex(_))
    ));
    let long = format!("{{ me(x: \"{}\") {{ subject }} }}", "a".repeat(300_000));
    assert!(
        matches!(check_text(&long, 1000), Err(CostError::TooComplex(ref m)) if m.contains("bytes"))
    );
}

#[test]
fn many_fragments_spreading_a_large_one_are_refused() {
    let big: String = (0..900).map(|i| format!("a{i}: subject ")).collect();
    let mut query = format!("{{ me {{ subject }} }} fragment B on Me {{ {big}}}");
    for i in 0..100 {
        query.push_str(&format!(" fragment F{i} on Me {{ ...B }}"));
    }
    let outcome = cost(&query);
    assert!(
        matches!(outcome, Err(CostError::TooComplex(ref m)) if m.contains("fragments")),
        "{outcome:?}"
    );
    // A handful is fine.
    let few = query
        .split(" fragment F5 ")
        .next()
        .expect("prefix")
        .to_owned();
    assert!(cost(&few).is_ok());
}

#[test]
fn only_root_fields_beyond_me_need_the_database() {
    let parse = |q: &str| async_graphql::parser::parse_query(q).expect("parses");
    assert!(!needs_database(&parse("{ me { subject } __typename }")));
    assert!(!needs_database(&parse("{ __schema { types { name } } }")));
    assert!(needs_database(&parse(
        "{ me { subject } customers { totalCount } }"
    )));
    assert!(needs_database(&parse(
        "query { ...Q } fragment Q on Query { contact(id: \"x\") { id } }"
    )));
    assert!(is_mutation(
        &parse("mutation { deleteContact(id: \"x\") { deletedId } }"),
        None
    ));
}
