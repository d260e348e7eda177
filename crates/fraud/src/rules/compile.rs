//! Type-checks a parsed expression and turns it into a tree that evaluates without
//! lookups: variables are resolved to a field or a feature's index, lists to their slot,
//! regular expressions compiled once. Every error keeps the span of what it is about.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use regex::Regex;

use super::parser::{BinOp, Kind, Node, Set};
use crate::features::{FEATURE_NAMES, Features};
use crate::input::Event;

/// A variable that holds a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumVar {
    /// The model's score, 0–1000.
    Score,
    Amount,
    Feature(usize),
}

/// A variable that holds a text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TextVar {
    Category,
    Email,
    EmailDomain,
    CardBin,
    Ip,
    BillingState,
    UserAgent,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Var {
    Num(NumVar),
    Text(TextVar),
}

/// The event's fields by name, with the original producer's names as aliases.
const TEXT_VARIABLES: [(&str, TextVar); 12] = [
    ("category", TextVar::Category),
    ("product_category", TextVar::Category),
    ("email", TextVar::Email),
    ("email_address", TextVar::Email),
    ("email_domain", TextVar::EmailDomain),
    ("card_bin", TextVar::CardBin),
    ("ip", TextVar::Ip),
    ("ip_address", TextVar::Ip),
    ("billing_state", TextVar::BillingState),
    ("user_agent", TextVar::UserAgent),
    ("useragent", TextVar::UserAgent),
    ("merchant_category", TextVar::Category),
];

/// Features that are codes for the model rather than values a person compares: the text
/// variables of the same names stand for them.
const CODED_FEATURES: [&str; 3] = ["category", "card_bin", "state"];

/// Every variable name a rule may use, for the documentation and "did you mean".
pub fn variable_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "score",
        "insightscore",
        "amount",
        "transaction_amt",
        "order_price",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    names.extend(TEXT_VARIABLES.iter().map(|(n, _)| (*n).to_owned()));
    names.extend(
        FEATURE_NAMES
            .iter()
            .filter(|n| !CODED_FEATURES.contains(n) && **n != "amount")
            .map(|n| (*n).to_owned()),
    );
    names
}

fn variable(name: &str) -> Option<Var> {
    match name {
        // Fraud Detector names a model's score `$<model>_insightscore`.
        "score" | "insightscore" => return Some(Var::Num(NumVar::Score)),
        n if n.ends_with("_insightscore") => return Some(Var::Num(NumVar::Score)),
        "amount" | "transaction_amt" | "order_price" => return Some(Var::Num(NumVar::Amount)),
        _ => {}
    }
    if let Some((_, v)) = TEXT_VARIABLES.iter().find(|(n, _)| *n == name) {
        return Some(Var::Text(*v));
    }
    FEATURE_NAMES
        .iter()
        .position(|n| *n == name && !CODED_FEATURES.contains(n))
        .map(|i| Var::Num(NumVar::Feature(i)))
}

/// What an expression is about when evaluated: the model's score, the event's features,
/// the event itself, and the lists' current entries (trimmed, lower case).
pub struct Facts<'a> {
    pub score: f64,
    pub features: &'a Features,
    pub event: &'a Event,
    pub lists: &'a [HashSet<String>],
}

#[derive(Debug)]
pub enum Num {
    Const(f64),
    Var(NumVar),
    Neg(Box<Num>),
    Bin(Arithmetic, Box<Num>, Box<Num>),
}

/// `+ - * / %` on two numbers.
pub type Arithmetic = fn(f64, f64) -> f64;

/// `== != < <= > >=` on two numbers.
pub type Comparison = fn(&f64, &f64) -> bool;

#[derive(Debug)]
pub enum Text {
    Const(String),
    Var(TextVar),
    Lower(Box<Text>),
    Upper(Box<Text>),
}

#[derive(Debug)]
pub enum TextSet {
    /// Entries written in the rule, trimmed and in lower case.
    Items(HashSet<String>),
    /// A list's slot in [`Facts::lists`].
    List(usize),
}

/// A compiled condition.
#[derive(Debug)]
pub enum Cond {
    Const(bool),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    Same(bool, Box<Cond>, Box<Cond>),
    Num(Comparison, Num, Num),
    Text(bool, Text, Text),
    NumIn(Num, Vec<f64>, bool),
    TextIn(Text, TextSet, bool),
    Matches(Regex, Text),
}

impl Num {
    fn eval(&self, f: &Facts<'_>) -> f64 {
        match self {
            Num::Const(v) => *v,
            Num::Var(NumVar::Score) => f.score,
            Num::Var(NumVar::Amount) => f.event.amount,
            Num::Var(NumVar::Feature(i)) => f64::from(f.features[*i]),
            Num::Neg(n) => -n.eval(f),
            Num::Bin(op, a, b) => op(a.eval(f), b.eval(f)),
        }
    }
}

impl Text {
    fn eval<'a>(&'a self, f: &Facts<'a>) -> Cow<'a, str> {
        let e = f.event;
        match self {
            Text::Const(t) => Cow::Borrowed(t),
            Text::Var(v) => Cow::Borrowed(match v {
                TextVar::Category => &e.category,
                TextVar::Email => &e.email,
                TextVar::EmailDomain => e.email.rsplit_once('@').map_or("", |(_, d)| d),
                TextVar::CardBin => &e.card_bin,
                TextVar::Ip => &e.ip_address,
                TextVar::BillingState => &e.billing_state,
                TextVar::UserAgent => &e.user_agent,
            }),
            Text::Lower(t) => Cow::Owned(t.eval(f).to_lowercase()),
            Text::Upper(t) => Cow::Owned(t.eval(f).to_uppercase()),
        }
    }
}

impl Cond {
    pub fn eval(&self, f: &Facts<'_>) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::And(a, b) => a.eval(f) && b.eval(f),
            Cond::Or(a, b) => a.eval(f) || b.eval(f),
            Cond::Not(a) => !a.eval(f),
            Cond::Same(equal, a, b) => (a.eval(f) == b.eval(f)) == *equal,
            Cond::Num(op, a, b) => op(&a.eval(f), &b.eval(f)),
            Cond::Text(equal, a, b) => (a.eval(f) == b.eval(f)) == *equal,
            Cond::NumIn(value, set, negated) => {
                let v = value.eval(f);
                set.contains(&v) != *negated
            }
            Cond::TextIn(value, set, negated) => {
                let values = match set {
                    TextSet::Items(items) => items,
                    TextSet::List(slot) => &f.lists[*slot],
                };
                super::listed(values, &value.eval(f)) != *negated
            }
            Cond::Matches(regex, value) => regex.is_match(&value.eval(f)),
        }
    }
}

/// A compile error: what, and where in the expression.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub span: Range<usize>,
    pub message: String,
}

fn error<T>(span: &Range<usize>, message: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError {
        span: span.clone(),
        message: message.into(),
    })
}

enum Typed {
    Cond(Cond),
    Num(Num),
    Text(Text),
}

impl Typed {
    fn kind(&self) -> &'static str {
        match self {
            Typed::Cond(_) => "true or false",
            Typed::Num(_) => "a number",
            Typed::Text(_) => "a text",
        }
    }
}

/// Compiles a condition; `lists` are the names of the lists a rule may use, in slot order.
pub fn compile(node: &Node, lists: &[String]) -> Result<Cond, CompileError> {
    match typed(node, lists)? {
        Typed::Cond(c) => Ok(c),
        other => error(
            &node.span,
            format!(
                "a rule's condition must be true or false, this is {}",
                other.kind()
            ),
        ),
    }
}

fn number(node: &Node, lists: &[String]) -> Result<Num, CompileError> {
    match typed(node, lists)? {
        Typed::Num(n) => Ok(n),
        other => error(
            &node.span,
            format!("expected a number, this is {}", other.kind()),
        ),
    }
}

fn text(node: &Node, lists: &[String]) -> Result<Text, CompileError> {
    match typed(node, lists)? {
        Typed::Text(t) => Ok(t),
        other => error(
            &node.span,
            format!("expected a text, this is {}", other.kind()),
        ),
    }
}

fn condition(node: &Node, lists: &[String]) -> Result<Cond, CompileError> {
    match typed(node, lists)? {
        Typed::Cond(c) => Ok(c),
        other => error(
            &node.span,
            format!("expected true or false, this is {}", other.kind()),
        ),
    }
}

fn unknown_variable(name: &str, span: &Range<usize>) -> CompileError {
    let names = variable_names();
    let closest = names
        .iter()
        .map(|n| (strsim::damerau_levenshtein(name, n), n))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, n)| *d <= 2.max(n.len() / 4));
    let hint = match closest {
        Some((_, n)) => format!("; did you mean `${n}`?"),
        None if CODED_FEATURES.contains(&name) => String::new(),
        None => "; see the README's \"Rules\" section for the variables".into(),
    };
    CompileError {
        span: span.clone(),
        message: format!("unknown variable `${name}`{hint}"),
    }
}

fn typed(node: &Node, lists: &[String]) -> Result<Typed, CompileError> {
    let span = &node.span;
    Ok(match &node.kind {
        Kind::Number(v) => Typed::Num(Num::Const(*v)),
        Kind::Text(t) => Typed::Text(Text::Const(t.clone())),
        Kind::Bool(b) => Typed::Cond(Cond::Const(*b)),
        Kind::Variable(name) => match variable(name) {
            Some(Var::Num(v)) => Typed::Num(Num::Var(v)),
            Some(Var::Text(v)) => Typed::Text(Text::Var(v)),
            None => return Err(unknown_variable(name, span)),
        },
        Kind::Neg(inner) => Typed::Num(Num::Neg(Box::new(number(inner, lists)?))),
        Kind::Not(inner) => Typed::Cond(Cond::Not(Box::new(condition(inner, lists)?))),
        Kind::Call { name, args } => call(name, args, span, lists)?,
        Kind::In {
            value,
            set,
            negated,
        } => membership(value, set, *negated, span, lists)?,
        Kind::Binary { op, left, right } => binary(*op, left, right, lists)?,
    })
}

fn binary(op: BinOp, left: &Node, right: &Node, lists: &[String]) -> Result<Typed, CompileError> {
    Ok(match op {
        BinOp::And | BinOp::Or => {
            let (a, b) = (
                Box::new(condition(left, lists)?),
                Box::new(condition(right, lists)?),
            );
            Typed::Cond(if op == BinOp::And {
                Cond::And(a, b)
            } else {
                Cond::Or(a, b)
            })
        }
        BinOp::Add => arithmetic(|a, b| a + b, left, right, lists)?,
        BinOp::Sub => arithmetic(|a, b| a - b, left, right, lists)?,
        BinOp::Mul => arithmetic(|a, b| a * b, left, right, lists)?,
        BinOp::Div => arithmetic(|a, b| a / b, left, right, lists)?,
        BinOp::Rem => arithmetic(|a, b| a % b, left, right, lists)?,
        BinOp::Eq => comparison(op, f64::eq, left, right, lists)?,
        BinOp::Ne => comparison(op, f64::ne, left, right, lists)?,
        BinOp::Lt => comparison(op, f64::lt, left, right, lists)?,
        BinOp::Le => comparison(op, f64::le, left, right, lists)?,
        BinOp::Gt => comparison(op, f64::gt, left, right, lists)?,
        BinOp::Ge => comparison(op, f64::ge, left, right, lists)?,
    })
}

fn arithmetic(
    op: Arithmetic,
    left: &Node,
    right: &Node,
    lists: &[String],
) -> Result<Typed, CompileError> {
    Ok(Typed::Num(Num::Bin(
        op,
        Box::new(number(left, lists)?),
        Box::new(number(right, lists)?),
    )))
}

/// `op` is the comparison's symbol (for errors and the kinds it accepts), `numbers` how it
/// compares two numbers.
fn comparison(
    op: BinOp,
    numbers: Comparison,
    left: &Node,
    right: &Node,
    lists: &[String],
) -> Result<Typed, CompileError> {
    let equal = op == BinOp::Eq;
    let ordering = !matches!(op, BinOp::Eq | BinOp::Ne);
    let whole = left.span.start..right.span.end;
    match (typed(left, lists)?, typed(right, lists)?) {
        (Typed::Num(a), Typed::Num(b)) => Ok(Typed::Cond(Cond::Num(numbers, a, b))),
        (Typed::Text(_), Typed::Text(_)) if ordering => error(
            &whole,
            format!(
                "`{}` compares numbers; texts compare with `==` or `!=`",
                op.symbol()
            ),
        ),
        (Typed::Text(a), Typed::Text(b)) => Ok(Typed::Cond(Cond::Text(equal, a, b))),
        (Typed::Cond(a), Typed::Cond(b)) if !ordering => {
            Ok(Typed::Cond(Cond::Same(equal, Box::new(a), Box::new(b))))
        }
        (a, b) => error(
            &whole,
            format!("`{}` between {} and {}", op.symbol(), a.kind(), b.kind()),
        ),
    }
}

fn membership(
    value: &Node,
    set: &Set,
    negated: bool,
    span: &Range<usize>,
    lists: &[String],
) -> Result<Typed, CompileError> {
    let cond = match (typed(value, lists)?, set) {
        (Typed::Text(v), Set::List(name)) => match lists.iter().position(|l| l == name) {
            Some(slot) => Cond::TextIn(v, TextSet::List(slot), negated),
            None => {
                let known = if lists.is_empty() {
                    "there are none".to_owned()
                } else {
                    format!(
                        "known: {}",
                        lists
                            .iter()
                            .map(|l| format!("@{l}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return error(
                    span,
                    format!(
                        "unknown list `@{name}` ({known}); declare it under [lists] in the rules file or add lists/{name}.txt"
                    ),
                );
            }
        },
        (Typed::Text(v), Set::Items(items)) => {
            let mut entries = HashSet::new();
            for item in items {
                match &item.kind {
                    Kind::Text(t) => entries.insert(t.trim().to_ascii_lowercase()),
                    _ => return error(&item.span, "a list of texts holds quoted texts only"),
                };
            }
            Cond::TextIn(v, TextSet::Items(entries), negated)
        }
        (Typed::Num(v), Set::Items(items)) => {
            let mut entries = Vec::new();
            for item in items {
                match &item.kind {
                    Kind::Number(n) => entries.push(*n),
                    Kind::Neg(inner) if matches!(inner.kind, Kind::Number(_)) => {
                        if let Kind::Number(n) = inner.kind {
                            entries.push(-n);
                        }
                    }
                    _ => return error(&item.span, "a list of numbers holds numbers only"),
                }
            }
            Cond::NumIn(v, entries, negated)
        }
        (Typed::Num(_), Set::List(name)) => {
            return error(
                span,
                format!("lists hold texts; `@{name}` cannot hold a number"),
            );
        }
        (Typed::Cond(_), _) => {
            return error(&value.span, "`in` needs a number or a text before it");
        }
    };
    Ok(Typed::Cond(cond))
}

fn call(
    name: &str,
    args: &[Node],
    span: &Range<usize>,
    lists: &[String],
) -> Result<Typed, CompileError> {
    let arity = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            error(
                span,
                format!(
                    "`{name}` takes {n} argument{}",
                    if n == 1 { "" } else { "s" }
                ),
            )
        }
    };
    Ok(match name {
        "lowercase" | "uppercase" => {
            arity(1)?;
            let t = Box::new(text(&args[0], lists)?);
            Typed::Text(if name == "lowercase" {
                Text::Lower(t)
            } else {
                Text::Upper(t)
            })
        }
        "regex_match" => {
            arity(2)?;
            let Kind::Text(pattern) = &args[0].kind else {
                return error(
                    &args[0].span,
                    "`regex_match` takes the pattern first, as a quoted text",
                );
            };
            // Fraud Detector matches the whole value, as Java's `matches()`.
            let regex = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                .size_limit(1 << 20)
                .build()
                .or_else(|e| {
                    let why = e.to_string();
                    let last = why.lines().last().unwrap_or("invalid").trim().to_owned();
                    error(&args[0].span, format!("not a regular expression: {last}"))
                })?;
            Typed::Cond(Cond::Matches(regex, text(&args[1], lists)?))
        }
        other => {
            return error(
                span,
                format!("unknown function `{other}` (there are regex_match, lowercase, uppercase)"),
            );
        }
    })
}
