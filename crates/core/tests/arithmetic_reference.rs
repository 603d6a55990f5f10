//! The evaluator, the parser and the canonical order against an independent reference:
//! a token-list "school order" evaluator written here from the rule as a teacher states it
//! (innermost parentheses first, leftmost first; inside them `*` first, then `+` and `-`,
//! left to right), in 128-bit arithmetic, sharing no code with the crate. Tolerance: exact
//! (integers); every step and every answer must match.

use ponder_core::arithmetic::{
    Generator, Level, Operator, Problem, ProblemError, Step, StepChecker, StepVerdict,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Num(i128),
    Op(char),
    Open,
    Close,
}

/// Tokens of a text; a '-' at the start, after '(' or after an operator is a number's sign.
fn tokens(text: &str) -> Vec<Tok> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let sign = c == '-' && matches!(out.last(), None | Some(Tok::Open) | Some(Tok::Op(_)));
        if c.is_ascii_digit() || sign {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            out.push(Tok::Num(digits.parse().expect("reference tokens")));
            continue;
        }
        out.push(match c {
            '(' => Tok::Open,
            ')' => Tok::Close,
            op => Tok::Op(op),
        });
        i += 1;
    }
    out
}

type RefStep = (i128, char, i128, i128);

/// The steps in school order and the value.
fn school(text: &str) -> (Vec<RefStep>, i128) {
    let mut t = tokens(text);
    let mut steps = Vec::new();
    loop {
        // A parenthesised lone number is just the number.
        while let Some(i) = (0..t.len().saturating_sub(2)).find(|&i| {
            t[i] == Tok::Open && matches!(t[i + 1], Tok::Num(_)) && t[i + 2] == Tok::Close
        }) {
            let n = t[i + 1];
            t.splice(i..i + 3, [n]);
        }
        // The first ')' closes the leftmost innermost group.
        let (lo, hi) = match t.iter().position(|&x| x == Tok::Close) {
            Some(close) => {
                let open = t[..close]
                    .iter()
                    .rposition(|&x| x == Tok::Open)
                    .expect("balanced");
                (open + 1, close)
            }
            None => (0, t.len()),
        };
        if hi - lo == 1 {
            let Tok::Num(v) = t[lo] else {
                panic!("a lone token is a number")
            };
            return (steps, v);
        }
        let seg = &t[lo..hi];
        let k = seg
            .iter()
            .position(|&x| x == Tok::Op('*'))
            .or_else(|| seg.iter().position(|&x| matches!(x, Tok::Op(_))))
            .expect("an operation");
        let (Tok::Num(a), Tok::Op(op), Tok::Num(b)) = (seg[k - 1], seg[k], seg[k + 1]) else {
            panic!("number op number")
        };
        let v = match op {
            '+' => a + b,
            '-' => a - b,
            '*' => a * b,
            other => panic!("operator {other}"),
        };
        steps.push((a, op, b, v));
        t.splice(lo + k - 1..lo + k + 2, [Tok::Num(v)]);
    }
}

fn as_ref_steps(problem: &Problem) -> Vec<RefStep> {
    problem
        .solution()
        .iter()
        .map(|s| {
            (
                i128::from(s.left),
                s.op.symbol(),
                i128::from(s.right),
                i128::from(s.result),
            )
        })
        .collect()
}

/// A tiny LCG for this file's own random texts (independent of the crate's draws).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// A random well-formed text: spaces, leading zeros, redundant parentheses, negative
/// numbers written `(-7)` or `-7` after an operator.
fn random_text(rng: &mut Lcg, depth: u32) -> String {
    let terms = 1 + rng.next(4);
    let mut s = String::new();
    for i in 0..terms {
        if i > 0 {
            s.push(['+', '-', '*'][rng.next(3) as usize]);
            if rng.next(4) == 0 {
                s.push(' ');
            }
        }
        match rng.next(10) {
            0..=1 if depth < 3 => {
                s.push('(');
                s.push_str(&random_text(rng, depth + 1));
                s.push(')');
            }
            2 => s.push_str(&format!("(-{})", rng.next(1000))),
            3 => s.push_str(&format!("-{}", rng.next(100))),
            4 => s.push_str(&format!("0{}", rng.next(100))),
            _ => s.push_str(&rng.next(1000).to_string()),
        }
    }
    s
}

#[test]
fn generated_problems_match_the_school_order_reference_step_for_step() {
    let mut checked = 0;
    for seed in [1, 2, 3] {
        let g = Generator::new(seed);
        for level in Level::ALL {
            for index in 0..300 {
                let p = g.problem(level, index).expect("generates");
                let (steps, value) = school(p.text());
                assert_eq!(as_ref_steps(&p), steps, "{}", p.text());
                assert_eq!(i128::from(p.answer()), value, "{}", p.text());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4500);
}

#[test]
fn any_text_evaluates_as_the_reference_does() {
    let mut rng = Lcg(42);
    let (mut compared, mut overflowed) = (0, 0);
    for _ in 0..5000 {
        let text = random_text(&mut rng, 0);
        let (_, value) = school(&text);
        match Problem::parse(&text) {
            Ok(p) => {
                assert_eq!(i128::from(p.answer()), value, "{text}");
                // Redundant parentheses may reorder the school steps of the original text;
                // the canonical text has none, so there the steps must agree exactly.
                let (steps, canonical_value) = school(p.text());
                assert_eq!(as_ref_steps(&p), steps, "{text} -> {}", p.text());
                assert_eq!(canonical_value, value);
                compared += 1;
            }
            Err(ProblemError::NoOperation { .. }) => {
                assert!(
                    school(&text).0.is_empty(),
                    "{text}: the reference found operations"
                );
            }
            Err(ProblemError::Overflow { .. }) => {
                // Some intermediate value (the same in any order) leaves 64 bits.
                let (steps, _) = school(&text);
                assert!(
                    steps.iter().any(|s| i64::try_from(s.3).is_err()),
                    "{text}: no step of the reference overflows 64 bits"
                );
                overflowed += 1;
            }
            Err(e) => panic!("{text}: {e}"),
        }
    }
    assert!(compared > 3500, "only {compared} texts compared");
    assert!(
        overflowed > 0,
        "no text reached an overflow; the case is untested"
    );
}

#[test]
fn every_generated_problem_and_step_round_trips_through_its_text() {
    let g = Generator::new(7);
    for level in Level::ALL {
        for index in 0..500 {
            let p = g.problem(level, index).expect("generates");
            let again = Problem::parse(p.text()).expect("its own text parses");
            assert_eq!(again, p);
            // Spaces between tokens (not inside numbers) are ignored.
            let spaced: String = p
                .text()
                .chars()
                .flat_map(|c| {
                    if c.is_ascii_digit() {
                        vec![c]
                    } else {
                        vec![' ', c, ' ']
                    }
                })
                .collect();
            assert_eq!(Problem::parse(&spaced).expect("spaced").key(), p.key());
            for step in p.solution() {
                assert_eq!(Step::parse(&step.to_string()), Ok(*step));
            }
        }
    }
}

#[test]
fn the_reference_solution_is_correct_under_the_step_checker() {
    let g = Generator::new(8);
    for level in Level::ALL {
        for index in 0..200 {
            let p = g.problem(level, index).expect("generates");
            let mut checker = StepChecker::new(&p);
            for step in p.solution() {
                assert_eq!(checker.check(&step.to_string()), StepVerdict::Correct);
            }
            assert_eq!(checker.remaining().as_number(), Some(p.answer()));
        }
    }
}

#[test]
fn operators_agree_with_rust_integer_arithmetic() {
    let mut rng = Lcg(5);
    for _ in 0..10_000 {
        let a = rng.next(2_000_001) as i64 - 1_000_000;
        let b = rng.next(2_000_001) as i64 - 1_000_000;
        assert_eq!(Operator::Add.apply(a, b), Some(a + b));
        assert_eq!(Operator::Subtract.apply(a, b), Some(a - b));
        assert_eq!(Operator::Multiply.apply(a, b), Some(a * b));
    }
}
