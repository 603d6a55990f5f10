//! The exact step and answer checkers on hand-written solutions, right and wrong in every
//! way the verdicts name, and on garbage: arbitrary text must never panic.

use ponder_core::arithmetic::{
    check_answer, check_solution, AnswerVerdict, ArithmeticTask, Problem, StepChecker, StepVerdict,
};
use ponder_core::Task;

use StepVerdict::{Correct, InvalidStep};

fn problem(text: &str) -> Problem {
    Problem::parse(text).expect(text)
}

fn arithmetic(expected: i64) -> StepVerdict {
    StepVerdict::ArithmeticError {
        expected: Some(expected),
    }
}

fn unparseable(v: &StepVerdict) -> bool {
    matches!(v, StepVerdict::Unparseable { .. })
}

/// The verdicts of an attempt's steps, and its answer verdict.
fn verdicts(text: &str, attempt: &str) -> (Vec<StepVerdict>, AnswerVerdict) {
    let check = check_solution(&problem(text), attempt);
    (
        check.steps.into_iter().map(|s| s.verdict).collect(),
        check.answer,
    )
}

#[test]
fn a_canonical_solution_is_flawless() {
    let p = problem("(37+48)*6-29");
    let check = check_solution(&p, "37+48=85\n85*6=510\n510-29=481\nAnswer: 481\n");
    assert!(check.is_flawless(), "{check:?}");
    assert_eq!(check.first_error(), None);
    assert_eq!(check.remaining, "481");
}

#[test]
fn any_valid_order_and_swapped_commutative_operands_are_correct() {
    assert_eq!(
        verdicts(
            "(37+48)*6-29",
            "48+37=85\n6*85=510\n510-29=481\nAnswer: 481"
        ),
        (vec![Correct; 3], AnswerVerdict::Correct)
    );
    // The canonical order is 2*3 first; 4*5 first is as valid.
    assert_eq!(
        verdicts("2*3+4*5", "4*5=20\n2*3=6\n6+20=26\nAnswer: 26"),
        (vec![Correct; 3], AnswerVerdict::Correct)
    );
    // 2+3 before 4*5 keeps the value in 2+3-4*5: (2+3)-(4*5).
    assert_eq!(
        verdicts("2+3-4*5", "2+3=5\n4*5=20\n5-20=-15\nAnswer: -15"),
        (vec![Correct; 3], AnswerVerdict::Correct)
    );
    // The same operation twice, in two places.
    assert_eq!(
        verdicts("2*3+2*3", "2*3=6\n2*3=6\n6+6=12\nAnswer: 12"),
        (vec![Correct; 3], AnswerVerdict::Correct)
    );
}

#[test]
fn negative_intermediate_results_in_every_spelling() {
    for attempt in [
        "45*2=90\n12-90=-78\nAnswer: -78",
        " 45 * 2 = 90 \n 12 - 90 = -78 \n Answer: -78 ",
    ] {
        assert_eq!(
            verdicts("12-45*2", attempt),
            (vec![Correct; 2], AnswerVerdict::Correct)
        );
    }
    for second in ["-7*6=-42", "6*(-7)=-42", "6*-7=-42", "(-7)*6=-42"] {
        let attempt = format!("3-10=-7\n{second}\nAnswer: -42\n");
        assert_eq!(
            verdicts("(3-10)*6", &attempt),
            (vec![Correct; 2], AnswerVerdict::Correct),
            "{second}"
        );
    }
    assert_eq!(
        verdicts("5-(3-10)", "3-10=-7\n5-(-7)=12\nAnswer: 12"),
        (vec![Correct; 2], AnswerVerdict::Correct)
    );
}

#[test]
fn wrong_results_are_arithmetic_errors_carried_forward() {
    let (v, a) = verdicts(
        "(37+48)*6-29",
        "37+48=84\n84*6=504\n504-29=475\nAnswer: 475",
    );
    assert_eq!(v, [arithmetic(85), Correct, Correct]);
    assert_eq!(a, AnswerVerdict::Wrong { given: 475 });
    // A wrong result followed by a step that uses the true value: that operand is not there.
    let (v, _) = verdicts("(37+48)*6-29", "37+48=84\n85*6=510\n");
    assert_eq!(v, [arithmetic(85), InvalidStep]);
}

#[test]
fn steps_that_are_not_a_valid_next_operation_are_invalid() {
    for (attempt, want) in [
        // 48*6 is not an operation of (37+48)*6-29: the sum comes first.
        ("48*6=288", vec![InvalidStep]),
        // 85-29 skips the product.
        ("37+48=85\n85-29=56", vec![Correct, InvalidStep]),
        // Subtraction does not commute.
        (
            "37+48=85\n85*6=510\n29-510=-481",
            vec![Correct, Correct, InvalidStep],
        ),
        // A wrong operator.
        ("37*48=1776", vec![InvalidStep]),
        // A step done twice.
        ("37+48=85\n37+48=85", vec![Correct, InvalidStep]),
        // Numbers that are nowhere.
        ("1+1=2", vec![InvalidStep]),
    ] {
        assert_eq!(verdicts("(37+48)*6-29", attempt).0, want, "{attempt}");
    }
    // Left to right: 3+2 is not next in 10-3+2.
    assert_eq!(verdicts("10-3+2", "3+2=5").0, [InvalidStep]);
}

#[test]
fn lines_that_are_not_steps_are_unparseable_and_change_nothing() {
    let (v, a) = verdicts(
        "(37+48)*6-29",
        "First add.\n37+48=85\n85*6\n85*6=510=510\n85*6=510\n510-29=481\nAnswer: 481",
    );
    assert!(
        unparseable(&v[0]) && unparseable(&v[2]) && unparseable(&v[3]),
        "{v:?}"
    );
    assert_eq!(
        (v[1].clone(), v[4].clone(), v[5].clone()),
        (Correct, Correct, Correct)
    );
    assert_eq!(a, AnswerVerdict::Correct);
    let check = check_solution(&problem("1+2"), "1 + two = 3\n");
    let StepVerdict::Unparseable { reason } = &check.steps[0].verdict else {
        panic!("{check:?}")
    };
    assert!(reason.contains("left of '='"), "{reason}");
}

#[test]
fn answers_are_checked_against_the_true_value() {
    let p = problem("(37+48)*6-29");
    assert_eq!(check_answer(&p, "Answer: 481"), AnswerVerdict::Correct);
    assert_eq!(check_answer(&p, "Answer: 0481\n"), AnswerVerdict::Correct);
    assert_eq!(
        check_answer(&p, "Answer: 480"),
        AnswerVerdict::Wrong { given: 480 }
    );
    assert_eq!(check_answer(&p, "510-29=481\n"), AnswerVerdict::Missing);
    assert_eq!(
        check_answer(&p, "Answer: about 481"),
        AnswerVerdict::Missing
    );
    // A right answer without steps is right; the solution is not flawless.
    let check = check_solution(&p, "Answer: 481\n");
    assert!(check.is_correct() && !check.is_flawless() && !check.finished);
    assert_eq!(check.remaining, "(37+48)*6-29");
    // Lines after the answer line are not part of the attempt.
    let check = check_solution(&p, "37+48=85\nAnswer: 85\n85*6=510\n");
    assert_eq!(check.steps.len(), 1);
    assert_eq!(check.remaining, "85*6-29");
}

#[test]
fn incremental_checking_matches_whole_solution_checking() {
    let p = problem("(1+2*3)*(4+5)-6");
    let attempt = "2*3=6\n1+6=8\n4+5=9\n7*9=63\n63-6=57\nAnswer: 57\n";
    let whole = check_solution(&p, attempt);
    let mut checker = StepChecker::new(&p);
    let one_by_one: Vec<StepVerdict> = attempt.lines().take(5).map(|l| checker.check(l)).collect();
    let expected = vec![Correct, arithmetic(7), Correct, InvalidStep, InvalidStep];
    assert_eq!(one_by_one, expected);
    let from_whole: Vec<StepVerdict> = whole.steps.into_iter().map(|s| s.verdict).collect();
    assert_eq!(from_whole, expected);
    assert_eq!(checker.remaining().to_string(), "8*9-6");
}

/// A fixed pseudo-random stream for the garbage tests.
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

#[test]
fn garbage_never_panics() {
    let p = problem("(37+48)*6-29");
    let task = ArithmeticTask;
    let alphabet: Vec<char> =
        "0123456789+-*/=()() \n\r\tAnswer:xé∑😀\u{0}\u{202e}9999999999999999999"
            .chars()
            .collect();
    let mut rng = Lcg(1);
    for _ in 0..20_000 {
        let len = rng.next(60) as usize;
        let text: String = (0..len)
            .map(|_| alphabet[rng.next(alphabet.len() as u64) as usize])
            .collect();
        let check = check_solution(&p, &text);
        assert!(check.steps.len() <= text.lines().count());
        let _ = task.extract_answer(&text);
        let _ = Problem::parse(&text);
    }
    let long_inputs = [
        "1".repeat(1_000_000),
        "(".repeat(100_000),
        ")".repeat(100_000),
        "-".repeat(100_000),
        format!("{}1=2", "1+".repeat(100_000)),
        format!("{}=85", "(".repeat(150)),
        "37+48=85\n".repeat(50_000),
        format!("Answer: {}", "9".repeat(100_000)),
        "\n".repeat(100_000),
        "=".repeat(100_000),
        "é".repeat(300_000),
    ];
    for text in &long_inputs {
        let check = check_solution(&p, text);
        let _ = task.extract_answer(text);
        assert!(Problem::parse(text).is_err());
        assert!(!check.is_flawless());
    }
}
