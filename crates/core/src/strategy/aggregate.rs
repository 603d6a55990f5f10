//! Step-wise aggregation: one number for a candidate from its per-step PRM scores
//! (Snell et al. 2024 §5.1, App. D; Fig. 13 compares the three).

use serde::{Deserialize, Serialize};

/// How a candidate's step scores become its score.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAggregation {
    /// The last step's score: the PRM acting as an outcome model. The paper's best.
    #[default]
    Last,
    /// The weakest step (as in Lightman et al.).
    Min,
    /// The product of all steps: the chance that every step is right, if independent.
    Prod,
}

impl StepAggregation {
    pub const ALL: [StepAggregation; 3] = [
        StepAggregation::Last,
        StepAggregation::Min,
        StepAggregation::Prod,
    ];

    /// The candidate's score. A candidate without steps scores 0: there is nothing to
    /// vouch for it.
    pub fn apply(self, scores: &[f32]) -> f32 {
        let Some(&last) = scores.last() else {
            return 0.0;
        };
        match self {
            StepAggregation::Last => last,
            StepAggregation::Min => scores.iter().copied().fold(f32::INFINITY, f32::min),
            StepAggregation::Prod => scores.iter().product(),
        }
    }

    /// The name used in specs and links.
    pub fn name(self) -> &'static str {
        match self {
            StepAggregation::Last => "last",
            StepAggregation::Min => "min",
            StepAggregation::Prod => "prod",
        }
    }

    pub fn from_name(name: &str) -> Option<StepAggregation> {
        StepAggregation::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_on_known_scores() {
        let s = [0.9, 0.5, 0.8];
        assert_eq!(StepAggregation::Last.apply(&s), 0.8);
        assert_eq!(StepAggregation::Min.apply(&s), 0.5);
        assert!((StepAggregation::Prod.apply(&s) - 0.36).abs() < 1e-6);
        for a in StepAggregation::ALL {
            assert_eq!(a.apply(&[]), 0.0);
            assert_eq!(StepAggregation::from_name(a.name()), Some(a));
        }
        assert_eq!(StepAggregation::from_name("mean"), None);
    }
}
