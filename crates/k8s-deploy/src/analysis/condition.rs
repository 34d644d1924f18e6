//! `success-condition`: a small comparison language over one measured `result`, parsed once when
//! the input is read (so a typo is exit 2 before any change) and evaluated per measurement. No
//! expression evaluator of a general language: only what a gate needs.
//!
//! ```text
//! condition  := and ( "||" and )*
//! and        := term ( "&&" term )*
//! term       := "(" condition ")" | "result" op literal
//! op         := "<" | "<=" | ">" | ">=" | "==" | "!="
//! literal    := number | "double-quoted string" | true | false
//! ```
//!
//! A number compares with a number, a string or a boolean only with `==`/`!=` of its own kind;
//! any other pairing is false (`result < 0.01` of a string result does not pass).

use std::fmt;

/// A measured value as the condition sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
    Bool(bool),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(s) => write!(f, "{s:?}"),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Compare(Op, Value),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed `success-condition`; displays as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    text: String,
    expr: Expr,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Condition {
    /// Parses `text`; the error says where and what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, pos: 0 };
        let expr = parser.or()?;
        if let Some(token) = parser.tokens.get(parser.pos) {
            return Err(format!("unexpected {token} after a complete condition"));
        }
        Ok(Self {
            text: text.trim().to_owned(),
            expr,
        })
    }

    /// Whether `result` satisfies the condition.
    pub fn holds(&self, result: &Value) -> bool {
        eval(&self.expr, result)
    }
}

fn eval(expr: &Expr, result: &Value) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, result) && eval(b, result),
        Expr::Or(a, b) => eval(a, result) || eval(b, result),
        Expr::Compare(op, literal) => match (result, literal) {
            (Value::Number(x), Value::Number(y)) => match op {
                Op::Lt => x < y,
                Op::Le => x <= y,
                Op::Gt => x > y,
                Op::Ge => x >= y,
                Op::Eq => (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs()),
                Op::Ne => (x - y).abs() > f64::EPSILON * x.abs().max(y.abs()),
            },
            (Value::Text(x), Value::Text(y)) => match op {
                Op::Eq => x == y,
                Op::Ne => x != y,
                _ => false,
            },
            (Value::Bool(x), Value::Bool(y)) => match op {
                Op::Eq => x == y,
                Op::Ne => x != y,
                _ => false,
            },
            _ => false,
        },
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Result,
    Op(Op),
    Literal(Value),
    And,
    Or,
    Open,
    Close,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Result => f.write_str("`result`"),
            Self::Op(op) => write!(f, "`{}`", op_text(*op)),
            Self::Literal(v) => write!(f, "`{v}`"),
            Self::And => f.write_str("`&&`"),
            Self::Or => f.write_str("`||`"),
            Self::Open => f.write_str("`(`"),
            Self::Close => f.write_str("`)`"),
        }
    }
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Eq => "==",
        Op::Ne => "!=",
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let two = |t: Token| (t, 2);
        let (token, len) = match (c, next) {
            (c, _) if c.is_whitespace() => {
                i += 1;
                continue;
            }
            ('<', Some('=')) => two(Token::Op(Op::Le)),
            ('>', Some('=')) => two(Token::Op(Op::Ge)),
            ('=', Some('=')) => two(Token::Op(Op::Eq)),
            ('!', Some('=')) => two(Token::Op(Op::Ne)),
            ('&', Some('&')) => two(Token::And),
            ('|', Some('|')) => two(Token::Or),
            ('<', _) => (Token::Op(Op::Lt), 1),
            ('>', _) => (Token::Op(Op::Gt), 1),
            ('(', _) => (Token::Open, 1),
            (')', _) => (Token::Close, 1),
            ('"', _) => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '"')
                    .ok_or("unterminated string: close it with `\"`")?;
                let s: String = chars[i + 1..i + 1 + end].iter().collect();
                (Token::Literal(Value::Text(s)), end + 2)
            }
            (c, _) if c.is_ascii_digit() || c == '-' || c == '.' => {
                let len = chars[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')))
                    .unwrap_or(chars.len() - i);
                let word: String = chars[i..i + len].iter().collect();
                let n: f64 = word
                    .parse()
                    .map_err(|_| format!("`{word}` is not a number"))?;
                (Token::Literal(Value::Number(n)), len)
            }
            (c, _) if c.is_ascii_alphabetic() => {
                let len = chars[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
                    .unwrap_or(chars.len() - i);
                let word: String = chars[i..i + len].iter().collect();
                let token = match word.as_str() {
                    "result" => Token::Result,
                    "true" => Token::Literal(Value::Bool(true)),
                    "false" => Token::Literal(Value::Bool(false)),
                    _ => {
                        return Err(format!(
                            "unknown word `{word}`: a condition compares `result` with a number, a \"string\", true or false"
                        ));
                    }
                };
                (token, len)
            }
            (c, _) => return Err(format!("unexpected character `{c}`")),
        };
        tokens.push(token);
        i += len;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let found = |t: Option<Token>| t.map_or_else(|| "the end".to_owned(), |t| t.to_string());
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    other => Err(format!("expected `)`, found {}", found(other))),
                }
            }
            Some(Token::Result) => {
                let op = match self.next() {
                    Some(Token::Op(op)) => op,
                    other => {
                        return Err(format!(
                            "expected a comparison (<, <=, >, >=, ==, !=) after `result`, found {}",
                            found(other)
                        ));
                    }
                };
                match self.next() {
                    Some(Token::Literal(v)) => {
                        if !matches!(v, Value::Number(_)) && !matches!(op, Op::Eq | Op::Ne) {
                            return Err(format!(
                                "`{}` compares numbers; compare {v} with == or !=",
                                op_text(op)
                            ));
                        }
                        Ok(Expr::Compare(op, v))
                    }
                    other => Err(format!(
                        "expected a number, a \"string\", true or false after `{}`, found {}",
                        op_text(op),
                        found(other)
                    )),
                }
            }
            other => Err(format!("expected `result` or `(`, found {}", found(other))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(condition: &str, result: &Value) -> bool {
        Condition::parse(condition)
            .unwrap_or_else(|e| panic!("{condition}: {e}"))
            .holds(result)
    }

    #[test]
    fn numbers_compare_as_numbers() {
        assert!(holds("result < 0.01", &Value::Number(0.005)));
        assert!(!holds("result < 0.01", &Value::Number(0.2)));
        assert!(!holds("result < 0.01", &Value::Number(0.01)));
        assert!(holds("result <= 0.01", &Value::Number(0.01)));
        assert!(holds("result >= 0.99", &Value::Number(0.99)));
        assert!(!holds("result > 0.99", &Value::Number(0.99)));
        assert!(holds("result == 3", &Value::Number(3.0)));
        assert!(holds("result != 3", &Value::Number(4.0)));
        assert!(holds("result > -1e-3", &Value::Number(0.0)));
    }

    #[test]
    fn strings_and_booleans_compare_for_equality() {
        assert!(holds("result == \"ok\"", &Value::Text("ok".into())));
        assert!(!holds("result == \"ok\"", &Value::Text("degraded".into())));
        assert!(holds("result != \"ok\"", &Value::Text("degraded".into())));
        assert!(holds("result == true", &Value::Bool(true)));
        assert!(!holds("result == true", &Value::Bool(false)));
        // Mismatched kinds never pass.
        assert!(!holds("result < 0.01", &Value::Text("0".into())));
        assert!(!holds("result == \"1\"", &Value::Number(1.0)));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let c = "result < 1 || result > 5 && result < 7";
        assert!(holds(c, &Value::Number(0.5)));
        assert!(holds(c, &Value::Number(6.0)));
        assert!(!holds(c, &Value::Number(3.0)));
        assert!(!holds(c, &Value::Number(8.0)));
        let c = "(result < 1 || result > 5) && result < 7";
        assert!(!holds(c, &Value::Number(8.0)));
        assert!(holds(c, &Value::Number(0.0)));
        assert_eq!(
            Condition::parse("  result < 1  ").unwrap().to_string(),
            "result < 1"
        );
    }

    #[test]
    fn mistakes_are_named() {
        for (text, says) in [
            ("", "expected `result` or `(`, found the end"),
            ("result", "expected a comparison"),
            ("result =< 1", "unexpected character `=`"),
            ("result < ", "expected a number"),
            ("result < \"a\"", "compares numbers"),
            ("result < 0.01 &&", "found the end"),
            (
                "result < 0.01 result",
                "unexpected `result` after a complete condition",
            ),
            ("value < 1", "unknown word `value`"),
            ("result < 1x", "`1x` is not a number"),
            ("result == \"ok", "unterminated string"),
            ("(result < 1", "expected `)`"),
            ("result < 1; rm -rf /", "unexpected character `;`"),
        ] {
            let error = Condition::parse(text).expect_err(text);
            assert!(error.contains(says), "{text}: {error}");
        }
    }
}
