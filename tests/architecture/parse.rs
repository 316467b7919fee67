//! What one file says about modules: its `use` declarations, the paths in its code, the
//! items it defines, its inline and test-only modules.

use std::collections::BTreeSet;

use crate::lexer::{Tok, Token, tokenize};

/// One name a `use` brings in: `use a::b::{c as d, e::*}` gives `a::b::c` bound to `d` and
/// the glob `a::b::e::*`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct UseItem {
    pub(crate) path: Vec<String>,
    /// The name it binds; `None` for a glob.
    pub(crate) binds: Option<String>,
    /// `pub use` / `pub(crate) use`: it may be there only to re-export.
    pub(crate) public: bool,
    /// The module (inline ones included) the `use` sits in, relative to the file's module.
    pub(crate) scope: Vec<String>,
    pub(crate) line: usize,
}

/// A path in code with at least one `::`, e.g. `crate::error::AppError::internal`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PathUse {
    pub(crate) path: Vec<String>,
    pub(crate) scope: Vec<String>,
    pub(crate) line: usize,
}

/// What one file says about modules.
#[derive(Debug, Default)]
pub(crate) struct FileFacts {
    pub(crate) uses: Vec<UseItem>,
    pub(crate) paths: Vec<PathUse>,
    /// Names of items defined here (types, functions, macros...).
    pub(crate) defines: BTreeSet<String>,
    /// Every identifier outside `use` declarations: a `pub use` counts as a dependency only
    /// when the name it binds appears here.
    pub(crate) names: BTreeSet<String>,
    /// `mod x { … }` blocks, relative to the file's module.
    pub(crate) inline_modules: BTreeSet<Vec<String>>,
    /// `#[cfg(test)] mod x;`: files that are not part of the library.
    pub(crate) test_children: BTreeSet<String>,
}

fn ident(token: Option<&Token>) -> Option<&str> {
    match token.map(|token| &token.tok) {
        Some(Tok::Ident(name)) => Some(name),
        _ => None,
    }
}

fn is_punct(token: Option<&Token>, c: char) -> bool {
    token.is_some_and(|token| token.tok == Tok::Punct(c))
}

/// The index after the bracket that closes the one at `open`.
fn skip_group(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < tokens.len() {
        match tokens[i].tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// The index after the item starting at `start`: its `;` or its closing `}` at depth 0.
fn skip_item(tokens: &[Token], start: usize) -> usize {
    let mut i = start;
    while i < tokens.len() {
        match tokens[i].tok {
            Tok::Punct(';') => return i + 1,
            Tok::Punct('{') => return skip_group(tokens, i),
            Tok::Punct('(' | '[') => i = skip_group(tokens, i),
            _ => i += 1,
        }
    }
    i
}

/// Parse a use tree at `i`, pushing what it binds. Returns the index after the tree.
fn parse_use_tree(
    tokens: &[Token],
    mut i: usize,
    prefix: &[String],
    template: &UseItem,
    out: &mut Vec<UseItem>,
) -> usize {
    let mut path = prefix.to_vec();
    loop {
        match tokens.get(i).map(|token| &token.tok) {
            Some(Tok::PathSep) => i += 1,
            Some(Tok::Punct('*')) => {
                out.push(UseItem {
                    path,
                    binds: None,
                    ..template.clone()
                });
                return i + 1;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                while !is_punct(tokens.get(i), '}') && i < tokens.len() {
                    // Step over anything unexpected rather than loop on it.
                    i = parse_use_tree(tokens, i, &path, template, out).max(i + 1);
                    if is_punct(tokens.get(i), ',') {
                        i += 1;
                    }
                }
                return i + 1;
            }
            Some(Tok::Ident(name)) => {
                path.push(name.clone());
                i += 1;
                if tokens.get(i).map(|token| &token.tok) == Some(&Tok::PathSep) {
                    continue;
                }
                let mut binds = name.clone();
                if ident(tokens.get(i)) == Some("as") {
                    binds = ident(tokens.get(i + 1)).unwrap_or("_").to_owned();
                    i += 2;
                }
                if binds == "self" {
                    // `use a::b::{self}` binds `b`.
                    path.pop();
                    binds = path.last().cloned().unwrap_or_default();
                }
                if binds != "_" {
                    out.push(UseItem {
                        path,
                        binds: Some(binds),
                        ..template.clone()
                    });
                }
                return i;
            }
            _ => return i,
        }
    }
}

pub(crate) fn parse_file(source: &str) -> FileFacts {
    let tokens = tokenize(source);
    let mut facts = FileFacts::default();
    // Open inline modules: (name, the brace depth inside them).
    let mut scope: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut in_use = vec![false; tokens.len()];
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        match &token.tok {
            Tok::Punct('#') => {
                let inner = is_punct(tokens.get(i + 1), '!');
                let open = if inner { i + 2 } else { i + 1 };
                if !is_punct(tokens.get(open), '[') {
                    i += 1;
                    continue;
                }
                let end = skip_group(&tokens, open);
                let body: Vec<&Tok> = tokens
                    .get(open + 1..end.saturating_sub(1))
                    .unwrap_or_default()
                    .iter()
                    .map(|t| &t.tok)
                    .collect();
                let cfg_test = body
                    == [
                        &Tok::Ident("cfg".into()),
                        &Tok::Punct('('),
                        &Tok::Ident("test".into()),
                        &Tok::Punct(')'),
                    ];
                i = end;
                if cfg_test && !inner {
                    // Skip the attributes that follow, then the whole item.
                    while is_punct(tokens.get(i), '#') && is_punct(tokens.get(i + 1), '[') {
                        i = skip_group(&tokens, i + 1);
                    }
                    let item_end = skip_item(&tokens, i);
                    let words: Vec<&str> =
                        (i..item_end).filter_map(|k| ident(tokens.get(k))).collect();
                    if let Some(position) = words.iter().position(|word| *word == "mod")
                        && is_punct(tokens.get(item_end - 1), ';')
                        && let Some(name) = words.get(position + 1)
                    {
                        facts.test_children.insert((*name).to_owned());
                    }
                    i = item_end;
                }
                continue;
            }
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if scope.last().is_some_and(|(_, inside)| *inside > depth) {
                    scope.pop();
                }
            }
            Tok::Ident(word) if word == "mod" => {
                if let Some(name) = ident(tokens.get(i + 1))
                    && is_punct(tokens.get(i + 2), '{')
                {
                    scope.push((name.to_owned(), depth + 1));
                    let path: Vec<String> = scope.iter().map(|(name, _)| name.clone()).collect();
                    facts.inline_modules.insert(path);
                }
            }
            Tok::Ident(word) if word == "use" => {
                // `pub use` or `pub(crate) use` / `pub(super) use`.
                let public = (i >= 1 && ident(tokens.get(i - 1)) == Some("pub"))
                    || (i >= 4
                        && is_punct(tokens.get(i - 1), ')')
                        && is_punct(tokens.get(i - 3), '(')
                        && ident(tokens.get(i - 4)) == Some("pub"));
                let template = UseItem {
                    path: Vec::new(),
                    binds: None,
                    public,
                    scope: scope.iter().map(|(name, _)| name.clone()).collect(),
                    line: token.line,
                };
                let mut end = parse_use_tree(&tokens, i + 1, &[], &template, &mut facts.uses);
                if is_punct(tokens.get(end), ';') {
                    end += 1;
                }
                for flag in &mut in_use[i..end.min(tokens.len())] {
                    *flag = true;
                }
                i = end;
                continue;
            }
            Tok::Ident(word)
                if matches!(
                    word.as_str(),
                    "struct" | "enum" | "union" | "trait" | "fn" | "type" | "const" | "static"
                ) =>
            {
                if let Some(name) = ident(tokens.get(i + 1)) {
                    facts.defines.insert(name.to_owned());
                }
            }
            Tok::Ident(word) if word == "macro_rules" => {
                if let Some(name) = ident(tokens.get(i + 2)) {
                    facts.defines.insert(name.to_owned());
                }
            }
            Tok::Ident(first)
                if tokens.get(i + 1).map(|t| &t.tok) == Some(&Tok::PathSep)
                    && !(i > 0 && tokens[i - 1].tok == Tok::PathSep) =>
            {
                let mut path = vec![first.clone()];
                let mut j = i + 1;
                while tokens.get(j).map(|t| &t.tok) == Some(&Tok::PathSep)
                    && let Some(name) = ident(tokens.get(j + 1))
                {
                    path.push(name.to_owned());
                    j += 2;
                }
                // `Vec::<u8>::new` and the like: a single segment before a turbofish.
                if path.len() < 2 {
                    i += 1;
                    continue;
                }
                facts.paths.push(PathUse {
                    path,
                    scope: scope.iter().map(|(name, _)| name.clone()).collect(),
                    line: token.line,
                });
            }
            _ => {}
        }
        i += 1;
    }
    // `mod create;` beside `pub use create::create;` does not use the function.
    let declared_module = |k: usize| k > 0 && ident(tokens.get(k - 1)) == Some("mod");
    for (k, (token, in_use)) in tokens.iter().zip(in_use).enumerate() {
        if let (Tok::Ident(name), false) = (&token.tok, in_use)
            && !declared_module(k)
        {
            facts.names.insert(name.clone());
        }
    }
    facts
}

#[test]
fn parser_skips_comments_strings_and_test_items() {
    let facts = parse_file(
        r##"
        // use crate::graphql_context::Hidden;
        /* crate::payload::Hidden /* nested */ crate::schema::Hidden */
        /// [`crate::http::Hidden`]
        const TEXT: &str = "crate::cost::Hidden";
        const RAW: &str = r#"crate::cli::Hidden"#;
        const C: char = '"';
        fn f<'a>(x: &'a str) -> char { 'x' }
        #[cfg(test)]
        mod tests { use crate::app::Hidden; }
        #[cfg(test)]
        use crate::seed::Hidden;
        use crate::error::Seen;
        "##,
    );
    let paths: Vec<String> = facts.uses.iter().map(|item| item.path.join("::")).collect();
    assert_eq!(paths, ["crate::error::Seen"]);
    assert!(facts.paths.is_empty(), "{:?}", facts.paths);
}

#[test]
fn parser_expands_use_trees_and_qualified_paths() {
    let facts = parse_file(
        "pub use crate::a::{b::{self, C as D}, e::*};\n\
         use super::super::f;\n\
         mod inner { fn g() { let _ = self::h::I::new(); } }\n\
         fn k() { crate::error::AppError::internal(\"x\"); }",
    );
    let uses: Vec<(String, Option<String>, bool)> = facts
        .uses
        .iter()
        .map(|item| (item.path.join("::"), item.binds.clone(), item.public))
        .collect();
    assert_eq!(
        uses,
        [
            ("crate::a::b".to_owned(), Some("b".to_owned()), true),
            ("crate::a::b::C".to_owned(), Some("D".to_owned()), true),
            ("crate::a::e".to_owned(), None, true),
            ("super::super::f".to_owned(), Some("f".to_owned()), false),
        ]
    );
    let paths: Vec<(String, Vec<String>)> = facts
        .paths
        .iter()
        .map(|path| (path.path.join("::"), path.scope.clone()))
        .collect();
    assert_eq!(
        paths,
        [
            ("self::h::I::new".to_owned(), vec!["inner".to_owned()]),
            ("crate::error::AppError::internal".to_owned(), vec![]),
        ]
    );
}
