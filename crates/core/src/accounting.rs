//! Compute accounting: generations (the paper's unit of budget), tokens and FLOPs
//! (Snell et al. 2024 §1.1 for generations, §7 for FLOPs and the FLOPs-matched comparison
//! against a larger model).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A test-time budget in generations: the number of sampled answers for best-of-N, the
/// number of beams for beam search, attempts for revisions (paper §3, §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Budget(pub u32);

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} generations", self.0)
    }
}

/// What a strategy spent on one problem.
///
/// `generations` is the strategy's nominal cost in the paper's unit (N for best-of-N,
/// beam search and DVTS, N·(k+1) for lookahead, chains × length for revisions); tokens
/// are what the models actually processed. The two differ on purpose: the paper compares
/// strategies by generations, and FLOPs show what that hides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compute {
    pub generations: u64,
    /// Tokens the policy generated (D_inference in §7; prompts are not counted).
    pub policy_tokens: u64,
    /// Tokens the verifier read while scoring (the problem and every scored step, each
    /// time it was scored).
    pub verifier_tokens: u64,
    /// True when some verifier tokens were estimated from the policy's counts, because
    /// the verifier does not report its own (see
    /// [`Verifier::last_score_tokens`](crate::Verifier::last_score_tokens)).
    pub verifier_tokens_estimated: bool,
    pub policy_parameters: u64,
    pub verifier_parameters: u64,
    /// Rounds of stepping: each time the strategy continued a group of sequences
    /// together (one or more `Policy::step` calls, as `max_batch` splits the group, so the
    /// count does not depend on batching).
    pub policy_calls: u64,
    /// `Verifier::score` calls made.
    pub verifier_calls: u64,
}

impl Compute {
    /// Inference FLOPs of the policy: 2 × parameters × tokens (§7's Y).
    pub fn policy_flops(&self) -> f64 {
        inference_flops(self.policy_parameters, self.policy_tokens as f64)
    }

    /// Inference FLOPs of the verifier: 2 × parameters × scored tokens.
    pub fn verifier_flops(&self) -> f64 {
        inference_flops(self.verifier_parameters, self.verifier_tokens as f64)
    }

    /// Both models together.
    pub fn flops(&self) -> f64 {
        self.policy_flops() + self.verifier_flops()
    }

    /// The sum of two problems' (or two phases') spending. Parameter counts are kept from
    /// whichever side has them: both sides are expected to use the same models.
    pub fn plus(&self, other: &Compute) -> Compute {
        Compute {
            generations: self.generations + other.generations,
            policy_tokens: self.policy_tokens + other.policy_tokens,
            verifier_tokens: self.verifier_tokens + other.verifier_tokens,
            verifier_tokens_estimated: self.verifier_tokens_estimated
                || other.verifier_tokens_estimated,
            policy_parameters: self.policy_parameters.max(other.policy_parameters),
            verifier_parameters: self.verifier_parameters.max(other.verifier_parameters),
            policy_calls: self.policy_calls + other.policy_calls,
            verifier_calls: self.verifier_calls + other.verifier_calls,
        }
    }
}

/// Pretraining FLOPs, X = 6·N·D_pretrain (§7).
pub fn pretraining_flops(parameters: u64, pretraining_tokens: f64) -> f64 {
    6.0 * parameters as f64 * pretraining_tokens
}

/// Inference FLOPs, Y = 2·N·D_inference (§7).
pub fn inference_flops(parameters: u64, inference_tokens: f64) -> f64 {
    2.0 * parameters as f64 * inference_tokens
}

/// Why a FLOPs-matched comparison cannot be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FlopsMatchError {
    #[error("the larger model must be at least as large as the small one: scale factor M = {0}, expected M >= 1")]
    ScaleBelowOne(f64),
    #[error("R = D_inference / D_pretrain must be a positive finite number, got {0}")]
    BadRatio(f64),
    #[error("token counts must be positive and finite: D_pretrain = {pretraining}, D_inference = {inference}")]
    BadTokens { pretraining: f64, inference: f64 },
}

/// The FLOPs-matched exchange between a small model with test-time compute and a model
/// M times larger (§7): scaling parameters by M with the data fixed costs M·(X + Y), so
/// the small model may multiply its inference tokens by M + 3·(D_pretrain/D_inference)·(M−1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlopsMatch {
    /// How many times larger the compared model is (about 14 in the paper).
    pub scale: f64,
    /// R = D_inference / D_pretrain: 0.16, 0.79 and 22 in the paper.
    pub ratio: f64,
}

impl FlopsMatch {
    /// From the scale factor and R.
    pub fn new(scale: f64, ratio: f64) -> Result<FlopsMatch, FlopsMatchError> {
        if !scale.is_finite() || scale < 1.0 {
            return Err(FlopsMatchError::ScaleBelowOne(scale));
        }
        if !ratio.is_finite() || ratio <= 0.0 {
            return Err(FlopsMatchError::BadRatio(ratio));
        }
        Ok(FlopsMatch { scale, ratio })
    }

    /// From token counts: R = D_inference / D_pretrain.
    pub fn from_tokens(
        scale: f64,
        pretraining_tokens: f64,
        inference_tokens: f64,
    ) -> Result<FlopsMatch, FlopsMatchError> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(pretraining_tokens) || !positive(inference_tokens) {
            return Err(FlopsMatchError::BadTokens {
                pretraining: pretraining_tokens,
                inference: inference_tokens,
            });
        }
        FlopsMatch::new(scale, inference_tokens / pretraining_tokens)
    }

    /// The factor by which the small model may multiply its inference compute:
    /// M + 3·(D_pretrain/D_inference)·(M−1) = M + 3·(M−1)/R.
    pub fn inference_multiplier(&self) -> f64 {
        self.scale + 3.0 * (self.scale - 1.0) / self.ratio
    }

    /// Where the larger model's greedy answer (one generation) sits on a generations axis
    /// of the small model: the same FLOPs, spent on test-time compute.
    pub fn equivalent_budget(&self, larger_model_generations: f64) -> f64 {
        larger_model_generations * self.inference_multiplier()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flops_are_two_per_parameter_per_token_for_each_model() {
        let c = Compute {
            policy_tokens: 10,
            verifier_tokens: 7,
            policy_parameters: 1_000,
            verifier_parameters: 300,
            ..Compute::default()
        };
        assert_eq!(c.policy_flops(), 20_000.0);
        assert_eq!(c.verifier_flops(), 4_200.0);
        assert_eq!(c.flops(), 24_200.0);
    }

    #[test]
    fn the_multiplier_matches_the_larger_models_total_flops() {
        // Check the closed form against the definition: X + multiplier·Y = M·(X + Y).
        let (n, d_pre, d_inf, m) = (1_000_000u64, 2.0e9, 5.0e8, 14.0);
        let x = pretraining_flops(n, d_pre);
        let y = inference_flops(n, d_inf);
        let matched = FlopsMatch::from_tokens(m, d_pre, d_inf).expect("valid");
        assert!((matched.ratio - 0.25).abs() < 1e-12);
        let small_total = x + matched.inference_multiplier() * y;
        let large_total = m * (x + y);
        assert!((small_total - large_total).abs() / large_total < 1e-12);
    }

    #[test]
    fn the_papers_three_ratios() {
        // R ≫ 1 leaves little beyond M; R ≪ 1 gives a large multiplier.
        let m = |r| {
            FlopsMatch::new(14.0, r)
                .expect("valid")
                .inference_multiplier()
        };
        assert!((m(22.0) - (14.0 + 39.0 / 22.0)).abs() < 1e-12);
        assert!((m(0.79) - (14.0 + 39.0 / 0.79)).abs() < 1e-9);
        assert!((m(0.16) - (14.0 + 39.0 / 0.16)).abs() < 1e-9);
        // M = 1 means no larger model: nothing to exchange.
        assert_eq!(
            FlopsMatch::new(1.0, 0.5)
                .expect("valid")
                .inference_multiplier(),
            1.0
        );
        assert_eq!(
            FlopsMatch::new(14.0, 1.0)
                .expect("valid")
                .equivalent_budget(2.0),
            2.0 * 53.0
        );
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(
            FlopsMatch::new(0.5, 1.0),
            Err(FlopsMatchError::ScaleBelowOne(0.5))
        );
        assert_eq!(
            FlopsMatch::new(2.0, 0.0),
            Err(FlopsMatchError::BadRatio(0.0))
        );
        assert!(FlopsMatch::new(2.0, f64::NAN).is_err());
        assert!(FlopsMatch::from_tokens(2.0, 0.0, 1.0).is_err());
    }

    #[test]
    fn sums_keep_parameters_and_the_estimate_flag() {
        let a = Compute {
            generations: 4,
            policy_tokens: 10,
            policy_parameters: 5,
            policy_calls: 2,
            ..Compute::default()
        };
        let b = Compute {
            generations: 4,
            verifier_tokens: 3,
            verifier_tokens_estimated: true,
            policy_parameters: 5,
            verifier_parameters: 9,
            verifier_calls: 1,
            ..Compute::default()
        };
        let s = a.plus(&b);
        assert_eq!(s.generations, 8);
        assert_eq!((s.policy_tokens, s.verifier_tokens), (10, 3));
        assert_eq!((s.policy_parameters, s.verifier_parameters), (5, 9));
        assert!(s.verifier_tokens_estimated);
        assert_eq!((s.policy_calls, s.verifier_calls), (2, 1));
    }
}
