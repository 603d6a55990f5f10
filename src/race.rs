//! The fair race: two columns computed side by side (each in its own worker, at its own
//! speed) are drawn at equal compute, so neither is shown ahead of the other.
//!
//! The race's clock is the FLOPs each column's policy has spent: the tokens it sampled
//! times twice its parameters. S and R share one shape, so between them this orders
//! batches as the tokens do (the paper's unit, generations, is tokens counted by whole
//! attempts); the larger sibling L pays about nine S tokens for each of its own, and the
//! clock makes a race against it fair in FLOPs. The verifier's FLOPs are left out, as
//! the paper leaves them out of its budgets.
//! A batch of events is shown once the other column has computed at least as far, or has
//! finished; the column that finishes first therefore waits, visibly, at its final
//! compute while the other goes on.

use std::collections::VecDeque;

use ponder_core::accounting::Compute;
use ponder_core::event::Event;

/// The race clock of `compute`.
pub fn clock(compute: &Compute) -> u64 {
    // Exact: parameters and tokens are integers, their product far below 2^53.
    compute.policy_flops() as u64
}

#[derive(Clone, Debug, Default)]
struct Lane {
    /// Received but not yet shown: each batch with the compute after it.
    queue: VecDeque<(Compute, Vec<Event>)>,
    /// The clock of the last batch received.
    reached: u64,
    /// The clock of the last batch shown.
    shown: u64,
    /// No more batches will come (finished, failed or stopped).
    done: bool,
}

/// Two lanes of events, released to the view at equal compute.
#[derive(Clone, Debug, Default)]
pub struct Race {
    lanes: [Lane; 2],
}

impl Race {
    /// A batch of column `col`'s events and its compute after them.
    pub fn push(&mut self, col: usize, compute: Compute, events: Vec<Event>) {
        let lane = &mut self.lanes[col];
        lane.reached = lane.reached.max(clock(&compute));
        lane.queue.push_back((compute, events));
    }

    /// Column `col` will send no more events.
    pub fn finish(&mut self, col: usize) {
        self.lanes[col].done = true;
    }

    /// Takes the batches each column may show now, oldest first.
    pub fn release(&mut self) -> [Vec<(Compute, Vec<Event>)>; 2] {
        let mut out: [Vec<(Compute, Vec<Event>)>; 2] = [Vec::new(), Vec::new()];
        for (col, shown) in out.iter_mut().enumerate() {
            let other = &self.lanes[1 - col];
            let limit = if other.done { u64::MAX } else { other.reached };
            let lane = &mut self.lanes[col];
            while lane
                .queue
                .front()
                .is_some_and(|(compute, _)| clock(compute) <= limit)
            {
                if let Some((compute, events)) = lane.queue.pop_front() {
                    lane.shown = clock(&compute);
                    shown.push((compute, events));
                }
            }
        }
        out
    }

    /// Whether column `col` holds batches back for the other column to catch up.
    pub fn holding(&self, col: usize) -> bool {
        !self.lanes[col].queue.is_empty()
    }

    /// Whether column `col` has shown everything and waits for the other to finish.
    pub fn waiting(&self, col: usize) -> bool {
        let (me, other) = (&self.lanes[col], &self.lanes[1 - col]);
        me.done && me.queue.is_empty() && !(other.done && other.queue.is_empty())
    }

    /// The race clock (policy FLOPs) of column `col`'s last batch shown.
    pub fn shown(&self, col: usize) -> u64 {
        self.lanes[col].shown
    }

    /// Both columns are done and shown.
    pub fn over(&self) -> bool {
        self.lanes.iter().all(|l| l.done && l.queue.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compute of an S-sized policy (one parameter, for round numbers) after `tokens`.
    fn at(tokens: u64) -> Compute {
        Compute {
            policy_tokens: tokens,
            policy_parameters: 1,
            ..Compute::default()
        }
    }

    fn shown(batches: &[(Compute, Vec<Event>)]) -> Vec<u64> {
        batches.iter().map(|(c, _)| c.policy_tokens).collect()
    }

    #[test]
    fn a_larger_policy_is_raced_at_equal_flops() {
        let mut race = Race::default();
        // The right column's policy has 9 times the parameters: its 10 tokens cost as
        // much as the left's 90.
        let large = |tokens| Compute {
            policy_parameters: 9,
            ..at(tokens)
        };
        race.push(0, at(45), vec![]);
        race.push(0, at(90), vec![]);
        race.push(0, at(135), vec![]);
        race.push(1, large(10), vec![]);
        let [l, r] = race.release();
        assert_eq!(shown(&l), vec![45, 90]);
        assert_eq!(shown(&r), vec![10]);
        assert!(race.holding(0));
    }

    #[test]
    fn neither_column_is_shown_past_the_other() {
        let mut race = Race::default();
        race.push(0, at(10), vec![]);
        race.push(0, at(20), vec![]);
        race.push(0, at(30), vec![]);
        // The right column has computed nothing yet: the left shows nothing.
        let [l, r] = race.release();
        assert!(l.is_empty() && r.is_empty());
        race.push(1, at(25), vec![]);
        let [l, r] = race.release();
        assert_eq!(shown(&l), vec![10, 20]);
        assert_eq!(shown(&r), vec![25], "the left has computed past 25");
        assert!(race.holding(0));
        // The right's 40 waits until the left computes that far.
        race.push(1, at(40), vec![]);
        let [l, r] = race.release();
        assert_eq!(shown(&l), vec![30]);
        assert!(r.is_empty());
        assert!(race.holding(1));
        assert_eq!(
            (race.shown(0), race.shown(1)),
            (60, 50),
            "policy FLOPs: 2 × 1 × tokens"
        );
    }

    #[test]
    fn the_first_to_finish_waits_at_its_final_compute() {
        let mut race = Race::default();
        race.push(0, at(5), vec![]);
        race.finish(0);
        race.push(1, at(3), vec![]);
        let [l, r] = race.release();
        // Right shows 3 (left is done); left's 5 waits for the right to reach 5.
        assert!(l.is_empty());
        assert_eq!(shown(&r), vec![3]);
        assert!(!race.waiting(0));
        race.push(1, at(9), vec![]);
        let [l, r] = race.release();
        assert_eq!(shown(&l), vec![5]);
        assert_eq!(shown(&r), vec![9]);
        assert!(
            race.waiting(0),
            "left has shown all and waits for the right"
        );
        race.finish(1);
        race.release();
        assert!(race.over());
        assert!(!race.waiting(0));
    }
}
