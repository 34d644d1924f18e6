//! A job's `if:` evaluated for one event with three values (true, false, unknown), so a check can
//! tell the jobs that can never run for a `pull_request` from those that might. Only what the
//! workflows here use: `&&`, `||`, `!`, `==`, `!=`, parentheses, string/boolean literals, context
//! paths and the functions `startsWith`, `endsWith`, `contains` and the status checks. A context
//! the event does not fix (inputs, needs, vars, most of github) is unknown, so "unreachable"
//! means unreachable whatever those hold.

/// A value the evaluation knows, or does not.
#[derive(Clone, Debug, PartialEq)]
pub enum Tri {
    Str(String),
    Bool(bool),
    Unknown,
}

impl Tri {
    fn truth(&self) -> Option<bool> {
        match self {
            Tri::Bool(b) => Some(*b),
            Tri::Str(s) => Some(!s.is_empty()),
            Tri::Unknown => None,
        }
    }
}

/// What an event fixes of the `github` context.
pub struct Event<'a> {
    pub name: &'a str,
    /// `github.ref` when the event fixes it (a pull request's merge ref), else None.
    pub git_ref: Option<&'a str>,
}

/// Whether `condition` (a job's `if:`, with or without `${{ }}`) can be true for `event`.
pub fn may_run(condition: Option<&str>, event: &Event) -> bool {
    let Some(text) = condition else { return true };
    let text = text.trim();
    let text = text
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .unwrap_or(text);
    let tokens = tokenize(text);
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        event,
    };
    let value = parser.or();
    assert_eq!(parser.at, tokens.len(), "unparsed tail in `if: {text}`");
    value.truth() != Some(false)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Str(String),
    Word(String),
    Op(&'static str),
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut value = String::new();
            i += 1;
            loop {
                assert!(i < chars.len(), "unterminated string in `{text}`");
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        value.push('\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                value.push(chars[i]);
                i += 1;
            }
            tokens.push(Token::Str(value));
        } else if let Some(op) = ["&&", "||", "==", "!=", "!", "(", ")", ","]
            .into_iter()
            .find(|op| chars[i..].starts_with(&op.chars().collect::<Vec<_>>()))
        {
            tokens.push(Token::Op(op));
            i += op.len();
        } else {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "._-*[]".contains(chars[i])) {
                i += 1;
            }
            assert!(i > start, "unexpected {c:?} in `{text}`");
            tokens.push(Token::Word(chars[start..i].iter().collect()));
        }
    }
    tokens
}

struct Parser<'t, 'e> {
    tokens: &'t [Token],
    at: usize,
    event: &'e Event<'e>,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, op: &str) -> bool {
        let found = matches!(self.peek(), Some(Token::Op(o)) if *o == op);
        self.at += usize::from(found);
        found
    }

    fn or(&mut self) -> Tri {
        self.logical("||", true, Self::and)
    }

    fn and(&mut self) -> Tri {
        self.logical("&&", false, Self::comparison)
    }

    /// `a || b` (`decider` true) or `a && b` (false): a known `decider` on either side decides,
    /// a known other value on the left leaves it to the right.
    fn logical(&mut self, op: &str, decider: bool, operand: fn(&mut Self) -> Tri) -> Tri {
        let mut left = operand(self);
        while self.eat(op) {
            let right = operand(self);
            left = match left.truth() {
                Some(value) if value == decider => left,
                Some(_) => right,
                None if right.truth() == Some(decider) => right,
                None => Tri::Unknown,
            };
        }
        left
    }

    fn comparison(&mut self) -> Tri {
        let left = self.unary();
        let negate = if self.eat("==") {
            false
        } else if self.eat("!=") {
            true
        } else {
            return left;
        };
        let right = self.unary();
        match (&left, &right) {
            (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
            // GitHub compares strings ignoring case.
            (Tri::Str(a), Tri::Str(b)) => Tri::Bool(a.eq_ignore_ascii_case(b) != negate),
            (a, b) => Tri::Bool((a == b) != negate),
        }
    }

    fn unary(&mut self) -> Tri {
        if self.eat("!") {
            return match self.unary().truth() {
                Some(b) => Tri::Bool(!b),
                None => Tri::Unknown,
            };
        }
        self.primary()
    }

    fn primary(&mut self) -> Tri {
        if self.eat("(") {
            let value = self.or();
            assert!(self.eat(")"), "missing )");
            return value;
        }
        let token = self.peek().cloned().expect("an operand");
        self.at += 1;
        match token {
            Token::Str(s) => Tri::Str(s),
            Token::Op(op) => panic!("unexpected {op}"),
            Token::Word(word) if self.eat("(") => {
                let mut args = Vec::new();
                if !self.eat(")") {
                    loop {
                        args.push(self.or());
                        if self.eat(")") {
                            break;
                        }
                        assert!(self.eat(","), "expected , in {word}()");
                    }
                }
                call(&word, &args)
            }
            Token::Word(word) => match word.as_str() {
                "true" => Tri::Bool(true),
                "false" => Tri::Bool(false),
                "github.event_name" => Tri::Str(self.event.name.to_owned()),
                "github.ref" => self
                    .event
                    .git_ref
                    .map_or(Tri::Unknown, |r| Tri::Str(r.to_owned())),
                _ => Tri::Unknown,
            },
        }
    }
}

fn call(name: &str, args: &[Tri]) -> Tri {
    let strings = || match args {
        [Tri::Str(a), Tri::Str(b)] => Some((a.to_lowercase(), b.to_lowercase())),
        _ => None,
    };
    match name.to_ascii_lowercase().as_str() {
        "startswith" => strings().map_or(Tri::Unknown, |(a, b)| Tri::Bool(a.starts_with(&b))),
        "endswith" => strings().map_or(Tri::Unknown, |(a, b)| Tri::Bool(a.ends_with(&b))),
        "contains" => strings().map_or(Tri::Unknown, |(a, b)| Tri::Bool(a.contains(&b))),
        _ => Tri::Unknown,
    }
}

#[test]
fn the_evaluator_knows_what_an_event_fixes() {
    let pr = Event {
        name: "pull_request",
        git_ref: Some("refs/pull/1/merge"),
    };
    assert!(!may_run(Some("github.event_name == 'push'"), &pr));
    assert!(!may_run(
        Some("${{ startsWith(github.ref, 'refs/tags/') && inputs.x }}"),
        &pr
    ));
    assert!(may_run(Some("always()"), &pr));
    assert!(may_run(
        Some("inputs.x != '' || github.event_name == 'push'"),
        &pr
    ));
    assert!(!may_run(
        Some("!(github.event_name == 'pull_request' || github.event_name == 'x') && true"),
        &pr
    ));
    assert!(may_run(None, &pr));
}
