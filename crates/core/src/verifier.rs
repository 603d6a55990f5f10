//! The verifier: a process reward model that scores every step of candidate solutions.

/// Scores reasoning steps. A score is the estimated probability that the solution, as far
/// as this step, is on a path to the right answer.
pub trait Verifier {
    type Error: std::error::Error + 'static;

    /// For each candidate (a list of steps as text) the score of each of its steps.
    /// `scores[c].len() == candidates[c].len()`.
    fn score(
        &mut self,
        problem: &str,
        candidates: &[Vec<String>],
    ) -> Result<Vec<Vec<f32>>, Self::Error>;
    /// [`Verifier::score`] for engines that wait for a device (see
    /// [`crate::Policy::step_async`]); by default `score`, ready at once.
    #[allow(async_fn_in_trait)] // Run on one thread: callers never need the future `Send`.
    async fn score_async(
        &mut self,
        problem: &str,
        candidates: &[Vec<String>],
    ) -> Result<Vec<Vec<f32>>, Self::Error> {
        self.score(problem, candidates)
    }
    /// Parameter count, for FLOP accounting.
    fn parameters(&self) -> u64;
    /// How many tokens the model ran through in the most recent [`Verifier::score`] call
    /// (the problem and every step of every candidate), for FLOP accounting: a PRM reads
    /// its inputs, so its cost is the tokens it scores, not tokens it generates.
    ///
    /// `None` (the default) when the engine does not count them; strategies then estimate
    /// the count from the policy's tokens for the same steps and mark the
    /// [`Compute`](crate::Compute) as estimated.
    fn last_score_tokens(&self) -> Option<u64> {
        None
    }
}
