//! How the page names a column's strategy: a short name for verdicts and a full line for
//! the column's heading, both from the spec alone.

use ponder_core::spec::{ExperimentSpec, PolicyRole, StrategyKind};
use ponder_core::strategy::{BeamWidth, RevisionSelection, Selection};

/// The strategy's short name: `best-of-N`, `beam search`, `revisions`.
pub fn short_name(kind: StrategyKind) -> &'static str {
    match kind {
        StrategyKind::Majority => "majority voting",
        StrategyKind::BestOfN => "best-of-N",
        StrategyKind::Beam => "beam search",
        StrategyKind::Lookahead => "lookahead search",
        StrategyKind::Dvts => "DVTS",
        StrategyKind::Revisions => "revisions",
        StrategyKind::Mix => "revisions and sampling mixed",
    }
}

/// The strategy and its settings in one line, with the models it runs.
pub fn describe(spec: &ExperimentSpec) -> String {
    let n = spec.n;
    let width = |w: BeamWidth| match w {
        BeamWidth::Fixed(m) => m.to_string(),
        BeamWidth::Sqrt => "√N".to_string(),
    };
    let pick = match spec.select {
        Selection::Weighted => "weighted",
        Selection::Naive => "naive",
        Selection::Majority => "majority",
    };
    let what = match spec.strategy {
        StrategyKind::Majority => format!("majority vote of {n} samples"),
        StrategyKind::BestOfN => format!("{pick} best-of-{n}"),
        StrategyKind::Beam => format!("beam search, N = {n}, width {}", width(spec.width)),
        StrategyKind::Lookahead => format!(
            "lookahead search, N = {n}, width {}, k = {}",
            width(spec.width),
            spec.k
        ),
        StrategyKind::Dvts => format!("DVTS, N = {n}, width {}", width(spec.width)),
        StrategyKind::Revisions => {
            let chains = spec.chains.max(1);
            let length = n / chains;
            if chains == 1 {
                format!("one chain of {length} revisions")
            } else {
                format!("{chains} chains of {length} revisions")
            }
        }
        StrategyKind::Mix => format!("{n} attempts, sequential:parallel {}", spec.ratio),
    };
    let policy = match spec.policy_role() {
        PolicyRole::Base => "S",
        PolicyRole::Reviser => "R",
        PolicyRole::Large => "L",
        PolicyRole::Own => "your model",
    };
    let verifier = match spec.strategy {
        StrategyKind::Majority => false,
        StrategyKind::Revisions | StrategyKind::Mix => {
            spec.final_answer == RevisionSelection::Verifier
        }
        _ => true,
    };
    if verifier {
        format!("{what} ({policy} + PRM)")
    } else {
        format!("{what} ({policy})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ponder_core::spec::comparison::default_pair;

    #[test]
    fn the_default_columns_read_plainly() {
        let (left, right) = default_pair();
        assert_eq!(describe(&left), "weighted best-of-16 (S + PRM)");
        assert_eq!(describe(&right), "one chain of 16 revisions (R + PRM)");
        let majority = ExperimentSpec {
            strategy: StrategyKind::Majority,
            ..left
        };
        assert_eq!(describe(&majority), "majority vote of 16 samples (S)");
    }
}
