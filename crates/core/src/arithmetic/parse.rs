//! Reading expressions: problem texts, and the two sides of a step, which come from a
//! model and may be anything. A recursive-descent parser over the grammar
//!
//! ```text
//! expr   := term (('+' | '-') term)*       left to right
//! term   := factor ('*' factor)*           left to right
//! factor := number | '-' number | '(' expr ')'
//! ```
//!
//! Spaces are ignored and numbers may have leading zeros (a person typing `3 + 04` means
//! `3+4`). A minus sign before a number makes it negative (`6*-7`, `5-(-7)`); a minus
//! before a parenthesis is not part of the task and is refused. Every input is bounded
//! (length, operations, nesting) before the tree it builds could be deep enough to
//! matter, so arbitrary text never panics and never recurses far.

use super::expr::{Expr, Operator};

/// The longest text read as an expression, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 1000;
/// The most operations in one expression.
pub const MAX_OPERATIONS: usize = 64;
/// The deepest nesting of parentheses.
pub const MAX_NESTING: usize = 16;

/// Why a text is not an expression. Positions count characters from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the expression is empty")]
    Empty,
    #[error("the text is longer than {max} characters; an expression is at most that long")]
    TooLong { max: usize },
    #[error("unexpected {found:?} at character {at}: expected {expected}")]
    Unexpected {
        found: char,
        at: usize,
        expected: &'static str,
    },
    #[error("the expression ends early: expected {expected}")]
    UnexpectedEnd { expected: &'static str },
    #[error("the number at character {at} does not fit in a 64-bit integer")]
    NumberTooLarge { at: usize },
    #[error("the expression has more than {max} operations")]
    TooManyOperations { max: usize },
    #[error("parentheses are nested more than {max} deep")]
    TooDeep { max: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Number(i64),
    Operator(Operator),
    Open,
    Close,
}

/// A token, where it starts (in characters, from 1) and its first character (for
/// messages).
#[derive(Clone, Copy, Debug)]
struct Lexeme {
    token: Token,
    at: usize,
    first: char,
}

/// Parses an expression.
pub fn parse_expression(text: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        nesting: 0,
        operations: 0,
    };
    let expr = parser.expr()?;
    match parser.peek() {
        None => Ok(expr),
        Some(lexeme) => Err(ParseError::Unexpected {
            found: lexeme.first,
            at: lexeme.at,
            expected: "an operator or the end",
        }),
    }
}

/// Parses a whole integer, `-12` or `0481` (spaces around it allowed, nothing else).
pub fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i64 = 0;
    for b in digits.bytes() {
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if negative { -value } else { value })
}

fn tokenize(text: &str) -> Result<Vec<Lexeme>, ParseError> {
    if text.len() > MAX_EXPRESSION_CHARS && text.chars().nth(MAX_EXPRESSION_CHARS).is_some() {
        return Err(ParseError::TooLong {
            max: MAX_EXPRESSION_CHARS,
        });
    }
    let mut tokens = Vec::new();
    let mut chars = text.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        let at = i + 1;
        let token = match c {
            c if c.is_whitespace() => continue,
            '0'..='9' => {
                let mut value = i64::from(c as u8 - b'0');
                while let Some(&(_, d)) = chars.peek() {
                    let Some(digit) = d.to_digit(10) else {
                        break;
                    };
                    chars.next();
                    value = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(i64::from(digit)))
                        .ok_or(ParseError::NumberTooLarge { at })?;
                }
                Token::Number(value)
            }
            '(' => Token::Open,
            ')' => Token::Close,
            c => match Operator::from_symbol(c) {
                Some(op) => Token::Operator(op),
                None => {
                    return Err(ParseError::Unexpected {
                        found: c,
                        at,
                        expected: "a digit, an operator (+ - *) or a parenthesis",
                    })
                }
            },
        };
        tokens.push(Lexeme {
            token,
            at,
            first: c,
        });
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Lexeme>,
    pos: usize,
    nesting: usize,
    operations: usize,
}

impl Parser {
    fn peek(&self) -> Option<Lexeme> {
        self.tokens.get(self.pos).copied()
    }

    fn peek_token(&self) -> Option<Token> {
        self.peek().map(|l| l.token)
    }

    fn operation(&mut self, op: Operator, left: Expr, right: Expr) -> Result<Expr, ParseError> {
        self.operations += 1;
        if self.operations > MAX_OPERATIONS {
            return Err(ParseError::TooManyOperations {
                max: MAX_OPERATIONS,
            });
        }
        Ok(Expr::operation(op, left, right))
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.term()?;
        while let Some(Token::Operator(op @ (Operator::Add | Operator::Subtract))) =
            self.peek_token()
        {
            self.pos += 1;
            let right = self.term()?;
            left = self.operation(op, left, right)?;
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.factor()?;
        while let Some(Token::Operator(Operator::Multiply)) = self.peek_token() {
            self.pos += 1;
            let right = self.factor()?;
            left = self.operation(Operator::Multiply, left, right)?;
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, ParseError> {
        const EXPECTED: &str = "a number or '('";
        let Some(lexeme) = self.peek() else {
            return Err(ParseError::UnexpectedEnd { expected: EXPECTED });
        };
        self.pos += 1;
        match lexeme.token {
            Token::Number(n) => Ok(Expr::Number(n)),
            Token::Operator(Operator::Subtract) => match self.peek() {
                Some(Lexeme {
                    token: Token::Number(n),
                    ..
                }) => {
                    self.pos += 1;
                    Ok(Expr::Number(-n))
                }
                Some(other) => Err(ParseError::Unexpected {
                    found: other.first,
                    at: other.at,
                    expected: "a number after the minus sign",
                }),
                None => Err(ParseError::UnexpectedEnd {
                    expected: "a number after the minus sign",
                }),
            },
            Token::Open => {
                self.nesting += 1;
                if self.nesting > MAX_NESTING {
                    return Err(ParseError::TooDeep { max: MAX_NESTING });
                }
                let inner = self.expr()?;
                match self.peek() {
                    Some(Lexeme {
                        token: Token::Close,
                        ..
                    }) => {
                        self.pos += 1;
                        self.nesting -= 1;
                        Ok(inner)
                    }
                    Some(other) => Err(ParseError::Unexpected {
                        found: other.first,
                        at: other.at,
                        expected: "an operator or ')'",
                    }),
                    None => Err(ParseError::UnexpectedEnd { expected: "')'" }),
                }
            }
            _ => Err(ParseError::Unexpected {
                found: lexeme.first,
                at: lexeme.at,
                expected: EXPECTED,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_precedence_associativity_and_negatives() {
        for (text, canonical, value) in [
            ("(37+48)*6-29", "(37+48)*6-29", 481),
            (" ( 2*3 ) + 04 ", "2*3+4", 10),
            ("10-3+2", "10-3+2", 9),
            ("10-(3+2)", "10-(3+2)", 5),
            ("2*3*4", "2*3*4", 24),
            ("6*-7", "6*(-7)", -42),
            ("5--7", "5-(-7)", 12),
            ("-7*6", "-7*6", -42),
            ("(-7)", "-7", -7),
            ("((5))", "5", 5),
        ] {
            let e = parse_expression(text).expect(text);
            assert_eq!(e.to_string(), canonical, "{text}");
            assert_eq!(e.value(), Some(value), "{text}");
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        use ParseError::*;
        let err = |t: &str| parse_expression(t).expect_err(t);
        assert_eq!(err(""), Empty);
        assert_eq!(err("   "), Empty);
        assert!(matches!(
            err("3+x"),
            Unexpected {
                found: 'x',
                at: 3,
                ..
            }
        ));
        assert!(matches!(err("3+"), UnexpectedEnd { .. }));
        assert!(matches!(err("(3+4"), UnexpectedEnd { .. }));
        assert!(matches!(
            err("3+4)"),
            Unexpected {
                found: ')',
                at: 4,
                ..
            }
        ));
        assert!(matches!(
            err("3 4"),
            Unexpected {
                found: '4',
                at: 3,
                ..
            }
        ));
        assert!(matches!(
            err("3*(2 17)"),
            Unexpected {
                found: '1',
                at: 6,
                ..
            }
        ));
        assert!(matches!(err("-(3)"), Unexpected { found: '(', .. }));
        assert!(matches!(err("--3"), Unexpected { .. }));
        assert_eq!(err("99999999999999999999"), NumberTooLarge { at: 1 });
        assert_eq!(err(&"(".repeat(40)), TooDeep { max: MAX_NESTING });
        assert_eq!(
            err(&format!("{}1", "1+".repeat(100))),
            TooManyOperations {
                max: MAX_OPERATIONS
            }
        );
        assert_eq!(
            err(&"1".repeat(5000)),
            TooLong {
                max: MAX_EXPRESSION_CHARS
            }
        );
        assert!(err("3=4").to_string().contains("'='"));
    }

    #[test]
    fn integers_are_whole_and_fit() {
        assert_eq!(parse_integer(" 0481 "), Some(481));
        assert_eq!(parse_integer("-12"), Some(-12));
        assert_eq!(parse_integer("-0"), Some(0));
        for bad in [
            "",
            "-",
            "+3",
            "3.0",
            "1 2",
            "12a",
            "99999999999999999999",
            "٣",
        ] {
            assert_eq!(parse_integer(bad), None, "{bad:?}");
        }
    }
}
