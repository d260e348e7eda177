//! The grammar of a rule expression, Fraud Detector's rule language, by recursive descent
//! over [`super::lexer`]'s tokens, into a tree whose every node keeps its span.
//!
//! From loosest to tightest: `or`; `and`; `not` (or `!`); a comparison (`== != > >= < <=`)
//! or a membership (`in`, `not in`, against `@list` or `[…]`); `+ -`; `* / %`; a unary
//! minus; an operand (a number, a text, `true`, `false`, a `$variable`, a `function(…)`, a
//! parenthesised expression).

use std::ops::Range;

use super::lexer::{Spanned, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Set {
    /// `@name`
    List(String),
    /// `[a, b, …]`
    Items(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Number(f64),
    Text(String),
    Bool(bool),
    Variable(String),
    Call {
        name: String,
        args: Vec<Node>,
    },
    Not(Box<Node>),
    Neg(Box<Node>),
    Binary {
        op: BinOp,
        left: Box<Node>,
        right: Box<Node>,
    },
    In {
        value: Box<Node>,
        set: Set,
        negated: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub span: Range<usize>,
}

/// Where the expression stops making sense, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// Parses a whole expression.
pub fn parse(tokens: &[Spanned], length: usize) -> Result<Node, SyntaxError> {
    let mut parser = Parser {
        tokens,
        at: 0,
        length,
    };
    if tokens.is_empty() {
        return Err(parser.error("the expression is empty"));
    }
    let node = parser.or()?;
    match parser.peek() {
        None => Ok(node),
        Some(Token::Symbol(")")) => Err(parser.error("`)` without a matching `(`")),
        Some(t) => Err(parser.error(format!("expected `and`, `or` or the end, found `{t}`"))),
    }
}

struct Parser<'t> {
    tokens: &'t [Spanned],
    at: usize,
    length: usize,
}

fn node(kind: Kind, span: Range<usize>) -> Node {
    Node { kind, span }
}

fn binary(op: BinOp, left: Node, right: Node) -> Node {
    let span = left.span.start..right.span.end;
    node(
        Kind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    )
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn peek_second(&self) -> Option<&Token> {
        self.tokens.get(self.at + 1).map(|(t, _)| t)
    }

    /// Where the next token starts (the end of the expression after the last).
    fn offset(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.length, |(_, s)| s.start)
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            offset: self.offset(),
            message: message.into(),
        }
    }

    fn next(&mut self) -> Option<Spanned> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn is_symbol(&self, symbol: &str) -> bool {
        matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol)
    }

    fn expect_symbol(&mut self, symbol: &'static str, after: &str) -> Result<usize, SyntaxError> {
        if self.is_symbol(symbol) {
            Ok(self.next().map_or(self.length, |(_, s)| s.end))
        } else {
            Err(self.error(format!("expected `{symbol}` {after}")))
        }
    }

    fn or(&mut self) -> Result<Node, SyntaxError> {
        let mut left = self.and()?;
        while self.is_word("or") {
            self.next();
            let right = self.and()?;
            left = binary(BinOp::Or, left, right);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, SyntaxError> {
        let mut left = self.not()?;
        while self.is_word("and") {
            self.next();
            let right = self.not()?;
            left = binary(BinOp::And, left, right);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node, SyntaxError> {
        if self.is_word("not") || self.is_symbol("!") {
            let start = self.offset();
            self.next();
            let inner = self.not()?;
            let span = start..inner.span.end;
            return Ok(node(Kind::Not(Box::new(inner)), span));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, SyntaxError> {
        let left = self.sum()?;
        let op = match self.peek() {
            Some(Token::Symbol("==")) => BinOp::Eq,
            Some(Token::Symbol("!=")) => BinOp::Ne,
            Some(Token::Symbol("<")) => BinOp::Lt,
            Some(Token::Symbol("<=")) => BinOp::Le,
            Some(Token::Symbol(">")) => BinOp::Gt,
            Some(Token::Symbol(">=")) => BinOp::Ge,
            Some(Token::Word(w)) if w == "in" => return self.membership(left, false),
            Some(Token::Word(w))
                if w == "not"
                    && matches!(self.peek_second(), Some(Token::Word(i)) if i == "in") =>
            {
                self.next();
                return self.membership(left, true);
            }
            _ => return Ok(left),
        };
        self.next();
        let right = self.sum()?;
        if matches!(
            self.peek(),
            Some(Token::Symbol("==" | "!=" | "<" | "<=" | ">" | ">="))
        ) {
            return Err(self.error("comparisons cannot be chained; join them with `and`"));
        }
        Ok(binary(op, left, right))
    }

    /// After the value, at `in`.
    fn membership(&mut self, value: Node, negated: bool) -> Result<Node, SyntaxError> {
        self.next(); // `in`
        let start = value.span.start;
        let (set, end) = match self.next() {
            Some((Token::List(name), span)) => (Set::List(name), span.end),
            Some((Token::Symbol("["), _)) => {
                let mut items = Vec::new();
                if !self.is_symbol("]") {
                    loop {
                        items.push(self.sum()?);
                        if !self.is_symbol(",") {
                            break;
                        }
                        self.next();
                    }
                }
                let end = self.expect_symbol("]", "to close the list")?;
                (Set::Items(items), end)
            }
            _ => {
                self.at -= 1;
                return Err(self.error("expected `@list` or `[…]` after `in`"));
            }
        };
        Ok(node(
            Kind::In {
                value: Box::new(value),
                set,
                negated,
            },
            start..end,
        ))
    }

    fn sum(&mut self) -> Result<Node, SyntaxError> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Some(Token::Symbol("+")) => BinOp::Add,
                Some(Token::Symbol("-")) => BinOp::Sub,
                _ => return Ok(left),
            };
            self.next();
            let right = self.product()?;
            left = binary(op, left, right);
        }
    }

    fn product(&mut self) -> Result<Node, SyntaxError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Token::Symbol("*")) => BinOp::Mul,
                Some(Token::Symbol("/")) => BinOp::Div,
                Some(Token::Symbol("%")) => BinOp::Rem,
                _ => return Ok(left),
            };
            self.next();
            let right = self.unary()?;
            left = binary(op, left, right);
        }
    }

    fn unary(&mut self) -> Result<Node, SyntaxError> {
        if self.is_symbol("-") {
            let start = self.offset();
            self.next();
            let inner = self.unary()?;
            let span = start..inner.span.end;
            return Ok(node(Kind::Neg(Box::new(inner)), span));
        }
        self.operand()
    }

    fn operand(&mut self) -> Result<Node, SyntaxError> {
        let Some((token, span)) = self.next() else {
            self.at -= 1;
            return Err(self.error("the expression ends where a value was expected"));
        };
        let kind = match token {
            Token::Number(n) => Kind::Number(n),
            Token::Text(t) => Kind::Text(t),
            Token::Variable(name) => Kind::Variable(name),
            Token::Word(w) if w == "true" || w == "false" => Kind::Bool(w == "true"),
            Token::Word(w) if self.is_symbol("(") => {
                self.next();
                let mut args = Vec::new();
                if !self.is_symbol(")") {
                    loop {
                        args.push(self.or()?);
                        if !self.is_symbol(",") {
                            break;
                        }
                        self.next();
                    }
                }
                let end = self.expect_symbol(")", &format!("to close `{w}(`"))?;
                return Ok(node(Kind::Call { name: w, args }, span.start..end));
            }
            Token::Symbol("(") => {
                let inner = self.or()?;
                let end = self.expect_symbol(")", "to close `(`")?;
                return Ok(Node {
                    kind: inner.kind,
                    span: span.start..end,
                });
            }
            Token::List(name) => {
                self.at -= 1;
                return Err(self.error(format!(
                    "a list is used after `in`, as in `$email in @{name}`"
                )));
            }
            Token::Word(w) if ["and", "or", "in", "not"].contains(&w.as_str()) => {
                self.at -= 1;
                return Err(self.error(format!("expected a value before `{w}`")));
            }
            Token::Word(w) => {
                self.at -= 1;
                return Err(self.error(format!(
                    "`{w}` is not a value: variables start with `$` (`${w}`), texts are quoted"
                )));
            }
            Token::Symbol(s) => {
                self.at -= 1;
                return Err(self.error(format!("expected a value, found `{s}`")));
            }
        };
        Ok(node(kind, span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::lexer::tokens;

    fn tree(expression: &str) -> Result<Node, SyntaxError> {
        parse(&tokens(expression).unwrap(), expression.len())
    }

    /// The tree as a parenthesised string, to compare shapes.
    fn shape(n: &Node) -> String {
        match &n.kind {
            Kind::Number(v) => v.to_string(),
            Kind::Text(t) => format!("{t:?}"),
            Kind::Bool(b) => b.to_string(),
            Kind::Variable(v) => format!("${v}"),
            Kind::Call { name, args } => format!(
                "{name}({})",
                args.iter().map(shape).collect::<Vec<_>>().join(", ")
            ),
            Kind::Not(i) => format!("(not {})", shape(i)),
            Kind::Neg(i) => format!("(-{})", shape(i)),
            Kind::Binary { op, left, right } => {
                format!("({} {} {})", shape(left), op.symbol(), shape(right))
            }
            Kind::In {
                value,
                set,
                negated,
            } => {
                let set = match set {
                    Set::List(l) => format!("@{l}"),
                    Set::Items(items) => format!(
                        "[{}]",
                        items.iter().map(shape).collect::<Vec<_>>().join(", ")
                    ),
                };
                let op = if *negated { "not in" } else { "in" };
                format!("({} {op} {set})", shape(value))
            }
        }
    }

    #[test]
    fn precedence_follows_the_usual_rules() {
        for (expression, expected) in [
            ("$a > 1 and $b < 2 or $c", "((($a > 1) and ($b < 2)) or $c)"),
            ("not $a == 1 and $b", "((not ($a == 1)) and $b)"),
            ("$a + $b * 2 >= -3 % 2", "(($a + ($b * 2)) >= ((-3) % 2))"),
            ("($a or $b) and !$c", "(($a or $b) and (not $c))"),
            (
                "$e not in @deny and $s in ['NY', \"CA\"]",
                "(($e not in @deny) and ($s in [\"NY\", \"CA\"]))",
            ),
            (
                "regex_match('^x', lowercase($email))",
                "regex_match(\"^x\", lowercase($email))",
            ),
            ("$x in []", "($x in [])"),
        ] {
            assert_eq!(shape(&tree(expression).unwrap()), expected, "{expression}");
        }
    }

    #[test]
    fn spans_cover_the_source() {
        let e = "$amount > 5 and ($ip in @deny)";
        let n = tree(e).unwrap();
        assert_eq!(n.span, 0..e.len());
        let Kind::Binary { right, .. } = n.kind else {
            panic!()
        };
        assert_eq!(&e[right.span], "($ip in @deny)");
    }

    #[test]
    fn errors_point_at_the_token() {
        for (expression, offset, message) in [
            ("", 0, "empty"),
            ("$a >", 4, "ends where a value"),
            ("$a > 1 and", 10, "ends where a value"),
            (
                "$a > 1 $b",
                7,
                "expected `and`, `or` or the end, found `$b`",
            ),
            ("$a in deny", 6, "`@list` or `[…]`"),
            ("($a > 1", 7, "expected `)`"),
            ("$a > 1)", 6, "without a matching `(`"),
            ("1 < $a < 3", 7, "cannot be chained"),
            ("amount > 3", 0, "`$amount`"),
            ("@deny", 0, "after `in`"),
            ("$a == and", 6, "before `and`"),
            ("$x in [1, 2", 11, "to close the list"),
        ] {
            let err = tree(expression).unwrap_err();
            assert_eq!(err.offset, offset, "{expression}: {err:?}");
            assert!(err.message.contains(message), "{expression}: {err:?}");
        }
    }
}
