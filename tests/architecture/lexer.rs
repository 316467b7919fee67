//! Rust source as tokens, with comments and the contents of literals dropped.

/// A token of Rust source, with comments and the contents of literals dropped.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A string, char or number literal: its content never names a module.
    Literal,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) line: usize,
}

pub(crate) fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let is_ident_start = |c: char| c == '_' || c.is_alphabetic();
    let is_ident_char = |c: char| c == '_' || c.is_alphanumeric();
    // Skip a quoted literal starting at `start` (the opening quote); returns the index after it.
    let skip_quoted = |start: usize, quote: char, line: &mut usize| {
        let mut j = start + 1;
        while j < chars.len() && chars[j] != quote {
            if chars[j] == '\\' {
                j += 1;
            }
            if chars.get(j) == Some(&'\n') {
                *line += 1;
            }
            j += 1;
        }
        j + 1
    };
    // Skip a raw string `r#*"…"#*` whose `r` is at `start`.
    let skip_raw = |start: usize, line: &mut usize| {
        let mut j = start + 1;
        let mut hashes = 0;
        while chars.get(j) == Some(&'#') {
            hashes += 1;
            j += 1;
        }
        j += 1; // the opening quote
        loop {
            match chars.get(j) {
                None => return j,
                Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => {
                    return j + 1 + hashes;
                }
                Some('\n') => *line += 1,
                Some(_) => {}
            }
            j += 1;
        }
    };
    let raw_string_at = |j: usize| {
        let mut k = j + 1;
        while chars.get(k) == Some(&'#') {
            k += 1;
        }
        chars.get(k) == Some(&'"')
    };

    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => {
                let start_line = line;
                i = skip_quoted(i, '"', &mut line);
                tokens.push(Token {
                    tok: Tok::Literal,
                    line: start_line,
                });
            }
            '\'' => {
                // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a, 'static).
                if next == Some('\\') || chars.get(i + 2) == Some(&'\'') {
                    i = skip_quoted(i, '\'', &mut line);
                    tokens.push(Token {
                        tok: Tok::Literal,
                        line,
                    });
                } else {
                    i += 1;
                    while i < chars.len() && is_ident_char(chars[i]) {
                        i += 1;
                    }
                }
            }
            'r' if raw_string_at(i) && next.is_some_and(|n| n == '"' || n == '#') => {
                let start_line = line;
                i = skip_raw(i, &mut line);
                tokens.push(Token {
                    tok: Tok::Literal,
                    line: start_line,
                });
            }
            'b' | 'c' if next == Some('"') => {
                let start_line = line;
                i = skip_quoted(i + 1, '"', &mut line);
                tokens.push(Token {
                    tok: Tok::Literal,
                    line: start_line,
                });
            }
            'b' if next == Some('\'') => {
                i = skip_quoted(i + 1, '\'', &mut line);
                tokens.push(Token {
                    tok: Tok::Literal,
                    line,
                });
            }
            'b' | 'c' if next == Some('r') && raw_string_at(i + 1) => {
                let start_line = line;
                i = skip_raw(i + 1, &mut line);
                tokens.push(Token {
                    tok: Tok::Literal,
                    line: start_line,
                });
            }
            c if is_ident_start(c) => {
                let mut j = i;
                // A raw identifier `r#type` is the identifier `type`.
                if c == 'r'
                    && next == Some('#')
                    && chars.get(i + 2).is_some_and(|&n| is_ident_start(n))
                {
                    j += 2;
                }
                let start = j;
                while j < chars.len() && is_ident_char(chars[j]) {
                    j += 1;
                }
                tokens.push(Token {
                    tok: Tok::Ident(chars[start..j].iter().collect()),
                    line,
                });
                i = j;
            }
            c if c.is_ascii_digit() => {
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                tokens.push(Token {
                    tok: Tok::Literal,
                    line,
                });
            }
            ':' if next == Some(':') => {
                tokens.push(Token {
                    tok: Tok::PathSep,
                    line,
                });
                i += 2;
            }
            c => {
                tokens.push(Token {
                    tok: Tok::Punct(c),
                    line,
                });
                i += 1;
            }
        }
    }
    tokens
}
