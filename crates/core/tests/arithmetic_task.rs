//! The arithmetic task under the strategies: prompts, stops, answers that vote together,
//! and the revision prompt a chain builds, on a scripted policy.

use ponder_core::arithmetic::{check_solution, ArithmeticTask, Problem};
use ponder_core::strategy::{Context, MajorityVote, RevisionSelection, SequentialRevisions};
use ponder_core::testing::{tag_verifier, ScriptInput, ScriptedPolicy};

fn problem() -> Problem {
    Problem::parse("(37+48)*6-29").expect("parses")
}

/// The lines of an attempt, one per step call.
fn say(lines: &[&str], input: &ScriptInput<'_>) -> String {
    lines
        .get(input.step)
        .or(lines.last())
        .map(|l| l.to_string())
        .unwrap_or_default()
}

#[test]
fn spellings_of_one_answer_vote_together() {
    let p = problem();
    let mut policy = ScriptedPolicy::new(100, |input: &ScriptInput<'_>| {
        let spelling =
            ["Answer: 481", "Answer: 0481", "Answer:481 "][(input.draw.stream % 3) as usize];
        say(&["37+48=85", "85*6=510", "510-29=481", spelling], input)
    });
    let mut verifier = tag_verifier(10);
    let task = ArithmeticTask;
    let mut ctx = Context::new(&mut policy, &mut verifier, &task, &p).with_seed(1);
    let out = MajorityVote::new(6).run(&mut ctx).expect("runs");
    assert_eq!(out.answer.as_deref(), Some("481"));
    assert_eq!(out.votes.len(), 1);
    assert_eq!(out.votes[0].count, 6);
    assert_eq!(policy.started, ["Problem: (37+48)*6-29\n"]);
    let spellings: std::collections::HashSet<&str> = out
        .candidates
        .iter()
        .filter_map(|c| c.steps.last().map(String::as_str))
        .collect();
    assert!(
        spellings.len() > 1,
        "the draws chose one spelling: {spellings:?}"
    );
    for c in &out.candidates {
        assert_eq!(c.steps.len(), 4, "the answer line ends the attempt");
        assert!(check_solution(&p, &c.text()).is_flawless());
    }
}

#[test]
fn a_revision_chain_sees_numbered_earlier_attempts() {
    let p = problem();
    let wrong = ["37+48=85", "85*6=500", "500-29=471", "Answer: 471"];
    let right = ["37+48=85", "85*6=510", "510-29=481", "Answer: 481"];
    // The third attempt (the one that sees two earlier ones) gets it right.
    let mut policy = ScriptedPolicy::new(100, |input: &ScriptInput<'_>| {
        if input.prompt.ends_with("Attempt 3:\n") {
            say(&right, input)
        } else {
            say(&wrong, input)
        }
    });
    let mut verifier = tag_verifier(10);
    let task = ArithmeticTask;
    let mut ctx = Context::new(&mut policy, &mut verifier, &task, &p).with_seed(2);
    let out = SequentialRevisions::new(1, 3, RevisionSelection::Last)
        .run(&mut ctx)
        .expect("runs");
    assert_eq!(out.answer.as_deref(), Some("481"));
    let wrong_attempt = "37+48=85\n85*6=500\n500-29=471\nAnswer: 471\n";
    let problem = "Problem: (37+48)*6-29\n";
    assert_eq!(
        policy.started,
        [
            "Problem: (37+48)*6-29\n".to_string(),
            format!("{problem}Attempt 1:\n{wrong_attempt}{problem}Attempt 2:\n"),
            format!(
                "{problem}Attempt 1:\n{wrong_attempt}Attempt 2:\n{wrong_attempt}\
                 {problem}Attempt 3:\n"
            ),
        ]
    );
    let verdicts: Vec<bool> = out
        .candidates
        .iter()
        .map(|c| check_solution(&p, &c.text()).is_correct())
        .collect();
    assert_eq!(verdicts, [false, false, true]);
}
