//! Tokens of a rule expression, each with its byte span in the expression, so that every
//! later error can point at a line and column. The lexing is winnow's; the grammar (in
//! [`super::parser`]) is Fraud Detector's rule language.

use std::ops::Range;

use winnow::ascii::{float, multispace0};
use winnow::combinator::{alt, delimited, preceded, repeat};
use winnow::error::{ContextError, ErrMode};
use winnow::prelude::*;
use winnow::stream::LocatingSlice;
use winnow::token::{any, one_of, take_while};

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Number(f64),
    Text(String),
    /// `$name`: a variable.
    Variable(String),
    /// `@name`: a list.
    List(String),
    /// A bare word: a function name or a keyword (`and`, `or`, `not`, `in`, `true`, `false`).
    Word(String),
    /// An operator or punctuation: `== != >= <= > < + - * / % ! ( ) [ ] ,`.
    Symbol(&'static str),
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Number(n) => write!(f, "{n}"),
            Token::Text(_) => f.write_str("a text"),
            Token::Variable(name) => write!(f, "${name}"),
            Token::List(name) => write!(f, "@{name}"),
            Token::Word(word) => f.write_str(word),
            Token::Symbol(symbol) => f.write_str(symbol),
        }
    }
}

pub type Spanned = (Token, Range<usize>);

type Input<'i> = LocatingSlice<&'i str>;

/// Two-character symbols first, so that `>=` is not read as `>` then `=`.
const SYMBOLS: [&str; 17] = [
    "==", "!=", ">=", "<=", ">", "<", "+", "-", "*", "/", "%", "!", "(", ")", "[", "]", ",",
];

fn name<'i>(input: &mut Input<'i>) -> ModalResult<&'i str> {
    (
        one_of(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(0.., |c: char| c.is_ascii_alphanumeric() || c == '_'),
    )
        .take()
        .parse_next(input)
}

/// A text in double or single quotes. `\"` (or `\'`) and `\\` are the quote and the
/// backslash; any other backslash is kept, so that a regular expression's `\.` reads as
/// written.
fn text(input: &mut Input<'_>) -> ModalResult<String> {
    let quote = one_of(['"', '\'']).parse_next(input)?;
    let mut out = String::new();
    loop {
        match any.parse_next(input)? {
            c if c == quote => return Ok(out),
            '\\' => {
                let next = any.parse_next(input)?;
                if next != quote && next != '\\' {
                    out.push('\\');
                }
                out.push(next);
            }
            c => out.push(c),
        }
    }
}

fn symbol(input: &mut Input<'_>) -> ModalResult<&'static str> {
    for s in SYMBOLS {
        if input.starts_with(s) {
            return s.void().map(move |()| s).parse_next(input);
        }
    }
    Err(ErrMode::Backtrack(ContextError::new()))
}

fn token(input: &mut Input<'_>) -> ModalResult<Token> {
    alt((
        // A number starts with a digit (or `.5`); a leading minus is the operator's.
        preceded(
            winnow::combinator::peek(one_of(|c: char| c.is_ascii_digit() || c == '.')),
            float,
        )
        .map(Token::Number),
        text.map(Token::Text),
        preceded('$', name).map(|n| Token::Variable(n.to_owned())),
        preceded('@', name).map(|n| Token::List(n.to_owned())),
        name.map(|n| Token::Word(n.to_owned())),
        symbol.map(Token::Symbol),
    ))
    .parse_next(input)
}

/// An expression's tokens, or the byte offset where no token could be read.
pub fn tokens(expression: &str) -> Result<Vec<Spanned>, usize> {
    let mut input = LocatingSlice::new(expression);
    let result: ModalResult<Vec<Spanned>> =
        repeat(0.., delimited(multispace0, token.with_span(), multispace0)).parse_next(&mut input);
    let tokens = result.map_err(|_| expression.len() - input.len())?;
    let _ = multispace0::<_, ContextError>.parse_next(&mut input);
    if input.is_empty() {
        Ok(tokens)
    } else {
        Err(expression.len() - input.len())
    }
}

/// Characters a token cannot start with, for the message when lexing stops.
pub fn unexpected_at(expression: &str, offset: usize) -> String {
    let rest = &expression[offset..];
    match rest.chars().next() {
        Some('"' | '\'') => "a text that is never closed".into(),
        Some('$') => "`$` must be followed by a variable's name".into(),
        Some('@') => "`@` must be followed by a list's name".into(),
        Some('=') => "`=` alone; compare with `==`".into(),
        Some('&' | '|') => "use `and` and `or`".into(),
        Some(c) => format!("unexpected character `{c}`"),
        None => "unexpected end".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(expression: &str) -> Vec<Token> {
        tokens(expression)
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect()
    }

    #[test]
    fn reads_fraud_detector_expressions() {
        assert_eq!(
            kinds("$amount >= 5.5 and $email in @deny_emails"),
            vec![
                Token::Variable("amount".into()),
                Token::Symbol(">="),
                Token::Number(5.5),
                Token::Word("and".into()),
                Token::Variable("email".into()),
                Token::Word("in".into()),
                Token::List("deny_emails".into()),
            ]
        );
        assert_eq!(
            kinds(r#"regex_match(".*@gmail\.com", 'it\'s')"#),
            vec![
                Token::Word("regex_match".into()),
                Token::Symbol("("),
                Token::Text(r".*@gmail\.com".into()),
                Token::Symbol(","),
                Token::Text("it's".into()),
                Token::Symbol(")"),
            ]
        );
        assert_eq!(
            kinds("-3!=x"),
            vec![
                Token::Symbol("-"),
                Token::Number(3.0),
                Token::Symbol("!="),
                Token::Word("x".into()),
            ]
        );
    }

    #[test]
    fn spans_are_byte_offsets() {
        let t = tokens("  $a <  12").unwrap();
        assert_eq!(
            t.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
            vec![2..4, 5..6, 8..10]
        );
    }

    #[test]
    fn stops_where_no_token_starts() {
        assert_eq!(tokens("$a = 1"), Err(3));
        assert_eq!(tokens("$a == \"open"), Err(6));
        assert_eq!(
            unexpected_at("$a == \"open", 6),
            "a text that is never closed"
        );
        assert_eq!(tokens("$a && $b"), Err(3));
    }
}
