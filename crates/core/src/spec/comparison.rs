//! The Compare view's links: two experiment specs raced on one problem at one budget,
//! `?v=1&seed=7&problem=3&n=16&left.strategy=best-of-n&right.strategy=revisions`.
//!
//! A column's keys carry its side as a prefix (`left.width=4`); a key without prefix holds
//! for both columns unless a column overrides it. The problem, the budget and the seed
//! are the race's own, so they are always shared: a race is fair only when both columns
//! spend the same budget on the same problem with the same draws. A link with no column
//! keys is a one-column link (the links `ponder run` took before comparisons existed); it
//! decodes with `right` empty and runs exactly as before.
//!
//! One exception to the shared budget: a column whose policy is the larger sibling L
//! (`right.model=l`) or a model of the visitor's own (`right.model=own`, the model named by
//! `own_model=`, its address or the key the page keeps it under) may carry its own `n`
//! (`right.n=2`). An L generation costs about as many FLOPs as nine of S's, so a race
//! between S thinking longer and L at the same FLOPs gives L fewer generations; the page
//! draws the race at equal FLOPs either way.
//!
//! A custom problem travels as its text (`q=23%2B28-33`) beside the problem index, which
//! still names its draw streams.

use super::query::{self, percent_encode, SpecWarning};
use super::{ExperimentSpec, PolicyModel, StrategyKind, SPEC_VERSION};

/// The column prefixes.
pub const LEFT: &str = "left.";
pub const RIGHT: &str = "right.";

/// Keys both columns always share (a column prefix on them is reported and ignored).
pub const RACE_KEYS: [&str; 3] = ["seed", "problem", "n"];

/// The key of the visitor's own model (`model=own` columns run it).
pub const OWN_MODEL_KEY: &str = "own_model";

/// The key of a custom problem's text.
pub const CUSTOM_PROBLEM_KEY: &str = "q";

/// One problem to run: an index into the shipped test set, or a problem typed by hand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemChoice {
    Set(u64),
    Custom(String),
}

/// A decoded Compare link.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub left: ExperimentSpec,
    /// `None` for a one-column link.
    pub right: Option<ExperimentSpec>,
    /// A problem typed by hand (`q=`); `left.problem` still names the draw streams.
    pub custom: Option<String>,
    /// The model `model=own` columns run: its address, or the key the page keeps a file
    /// under.
    pub own_model: Option<String>,
}

/// What the default Compare view races: weighted best-of-N with the PRM against
/// sequential revisions by R, the paper's two ways, at a budget of 16.
pub fn default_pair() -> (ExperimentSpec, ExperimentSpec) {
    let left = ExperimentSpec {
        strategy: StrategyKind::BestOfN,
        ..ExperimentSpec::default()
    };
    let right = ExperimentSpec {
        strategy: StrategyKind::Revisions,
        ..ExperimentSpec::default()
    };
    (left, right)
}

/// The right column a one-column link gets in the Compare view: sequential revisions at
/// the left column's budget, seed, problem and sampling.
pub fn partner_of(left: &ExperimentSpec) -> ExperimentSpec {
    let mut right = ExperimentSpec {
        strategy: StrategyKind::Revisions,
        ..*left
    };
    right.chains = 1;
    right.model = PolicyModel::Small;
    right
}

impl Comparison {
    /// The Compare view's default: [`default_pair`] on problem 0 with seed 1.
    pub fn default_race() -> Comparison {
        let (mut left, mut right) = default_pair();
        left.seed = 1;
        right.seed = 1;
        Comparison {
            left,
            right: Some(right),
            custom: None,
            own_model: None,
        }
    }

    /// The problem both columns run.
    pub fn problem(&self) -> ProblemChoice {
        match &self.custom {
            Some(text) => ProblemChoice::Custom(text.clone()),
            None => ProblemChoice::Set(self.left.problem),
        }
    }

    /// Both columns, the right one made up by [`partner_of`] for a one-column link.
    pub fn columns(&self) -> [ExperimentSpec; 2] {
        [
            self.left,
            self.right.unwrap_or_else(|| partner_of(&self.left)),
        ]
    }

    /// Decodes a link's query string: never fails; what it cannot use it reports.
    pub fn from_query(query: &str) -> (Comparison, Vec<String>) {
        decode(query)
    }

    /// The query string (without `?`); [`Comparison::from_query`] reads it back exactly.
    pub fn to_query(&self) -> String {
        encode(self)
    }
}

/// A text key's value (a custom problem, the visitor's model), if given and not blank.
fn text_of(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn join(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn decode(query: &str) -> (Comparison, Vec<String>) {
    let pairs = query::pairs(query);
    let custom = text_of(&pairs, CUSTOM_PROBLEM_KEY);
    let own_model = text_of(&pairs, OWN_MODEL_KEY);
    let has_columns = pairs
        .iter()
        .any(|(k, _)| k.starts_with(LEFT) || k.starts_with(RIGHT));
    if !has_columns {
        let decoded = ExperimentSpec::from_query(query);
        let warnings = decoded.warnings.iter().map(ToString::to_string).collect();
        let comparison = Comparison {
            left: decoded.spec,
            right: None,
            custom,
            own_model,
        };
        return (comparison, warnings);
    }

    let mut warnings: Vec<String> = Vec::new();
    let shared: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !k.starts_with(LEFT) && !k.starts_with(RIGHT))
        .cloned()
        .collect();
    let mut column = |prefix: &str| -> (ExperimentSpec, Vec<SpecWarning>) {
        let own_n = asks_for_own_budget(&pairs, prefix);
        // The column's own keys come first, so they win over the shared ones (a repeated
        // key keeps its first value, and that is not worth a warning here).
        let mut own: Vec<(String, String)> = Vec::new();
        for (k, v) in &pairs {
            let Some(key) = k.strip_prefix(prefix) else {
                continue;
            };
            if RACE_KEYS.contains(&key) && !(key == "n" && own_n) {
                warnings.push(format!(
                    "{k} is ignored: both columns race with the same {key} (write {key}= \
                     without a column)"
                ));
                continue;
            }
            own.push((key.to_string(), v.clone()));
        }
        let overridden: Vec<&str> = own.iter().map(|(k, _)| k.as_str()).collect();
        let mut all = own.clone();
        all.extend(
            shared
                .iter()
                .filter(|(k, _)| !overridden.contains(&k.as_str()))
                .cloned(),
        );
        let decoded = ExperimentSpec::from_query(&join(&all));
        (decoded.spec, decoded.warnings)
    };
    let (left, left_warnings) = column(LEFT);
    let (mut right, right_warnings) = column(RIGHT);
    for w in &left_warnings {
        let text = w.to_string();
        if right_warnings.contains(w) {
            warnings.push(text);
        } else {
            warnings.push(format!("left column: {text}"));
        }
    }
    for w in right_warnings.iter().filter(|w| !left_warnings.contains(w)) {
        warnings.push(format!("right column: {w}"));
    }
    // The race keys are shared; both decodes read them from the same pairs.
    right.seed = left.seed;
    right.problem = left.problem;
    // Only a column that runs L or the visitor's model keeps a budget of its own (one that
    // asked for L with a revising strategy was read with its own `n`, and runs R).
    let race_n = ExperimentSpec::from_query(&join(&shared)).spec.n;
    let mut left = left;
    for column in [&mut left, &mut right] {
        if !own_budget(column) {
            column.n = race_n;
        }
    }
    let comparison = Comparison {
        left,
        right: Some(right),
        custom,
        own_model,
    };
    (comparison, warnings)
}

fn encode(c: &Comparison) -> String {
    let Some(right) = c.right else {
        let mut out = c.left.to_query();
        if let Some(q) = &c.custom {
            out.push_str(&format!("&{CUSTOM_PROBLEM_KEY}={}", percent_encode(q)));
        }
        if let Some(m) = &c.own_model {
            out.push_str(&format!("&{OWN_MODEL_KEY}={}", percent_encode(m)));
        }
        return out;
    };
    let mut right = right;
    let mut left = c.left;
    right.seed = left.seed;
    right.problem = left.problem;
    // The shared budget is an S or R column's; a column on another model writes its own
    // where it differs.
    let race_n = if own_budget(&left) { right.n } else { left.n };
    for column in [&mut left, &mut right] {
        if !own_budget(column) {
            column.n = race_n;
        }
    }
    let left_pairs = query::pairs(&c.left.to_query());
    let right_pairs = query::pairs(&right.to_query());
    let value = |pairs: &[(String, String)], key: &str| {
        pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let mut out: Vec<(String, String)> = vec![("v".into(), SPEC_VERSION.to_string())];
    let mut left_own = Vec::new();
    let mut right_own = Vec::new();
    for key in query::KEYS.iter().skip(1) {
        if *key == "n" {
            out.push(("n".into(), race_n.to_string()));
            for (prefix, column, own) in [
                (LEFT, &left, &mut left_own),
                (RIGHT, &right, &mut right_own),
            ] {
                if column.n != race_n {
                    own.push((format!("{prefix}n"), column.n.to_string()));
                }
            }
            continue;
        }
        if RACE_KEYS.contains(key) {
            // Always written, like a one-column link's seed and budget.
            out.push((key.to_string(), query::format_value(&left, key)));
            continue;
        }
        let (l, r) = (value(&left_pairs, key), value(&right_pairs, key));
        // The strategies are always written per column: a link with no column key would
        // read back as a one-column link.
        if l.is_some() && l == r && *key != "strategy" {
            out.extend(l.map(|v| (key.to_string(), v)));
            continue;
        }
        left_own.extend(l.map(|v| (format!("{LEFT}{key}"), v)));
        right_own.extend(r.map(|v| (format!("{RIGHT}{key}"), v)));
    }
    if let Some(q) = &c.custom {
        out.push((CUSTOM_PROBLEM_KEY.into(), q.clone()));
    }
    if let Some(m) = &c.own_model {
        out.push((OWN_MODEL_KEY.into(), m.clone()));
    }
    out.extend(left_own);
    out.extend(right_own);
    join(&out)
}

/// Whether a column has a budget of its own: it runs L or the visitor's model.
pub fn own_budget(spec: &ExperimentSpec) -> bool {
    spec.model != PolicyModel::Small && !spec.strategy.revises()
}

/// Whether a link's pairs ask column `prefix` to run L or the visitor's model: its own
/// `model` key, else the shared one.
fn asks_for_own_budget(pairs: &[(String, String)], prefix: &str) -> bool {
    let own = format!("{prefix}model");
    let value = pairs
        .iter()
        .find(|(k, _)| *k == own)
        .or_else(|| pairs.iter().find(|(k, _)| k == "model"))
        .map(|(_, v)| v.trim().to_ascii_lowercase());
    value
        .as_deref()
        .and_then(PolicyModel::from_name)
        .is_some_and(|m| m != PolicyModel::Small)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{BeamWidth, StepAggregation};

    #[test]
    fn the_default_race_round_trips_and_reads_plainly() {
        let c = Comparison::default_race();
        let q = c.to_query();
        assert_eq!(
            q,
            "v=1&seed=1&problem=0&n=16&left.strategy=best-of-n&left.agg=last&\
             left.select=weighted&right.strategy=revisions&right.chains=1&right.final=verifier&\
             right.context=4"
        );
        let (back, warnings) = Comparison::from_query(&q);
        assert_eq!(back, c);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn every_pair_of_strategies_round_trips() {
        for l in StrategyKind::ALL {
            for r in StrategyKind::ALL {
                let mut left = ExperimentSpec {
                    strategy: l,
                    seed: 9,
                    problem: 123,
                    n: 32,
                    ..ExperimentSpec::default()
                };
                left.width = BeamWidth::Sqrt;
                left.agg = StepAggregation::Min;
                let right = ExperimentSpec {
                    strategy: r,
                    chains: 4,
                    temperature: 0.5,
                    ..left
                };
                let c = Comparison {
                    left,
                    right: Some(right),
                    custom: Some("12*(3+4)-5".into()),
                    own_model: None,
                };
                let (back, warnings) = Comparison::from_query(&c.to_query());
                assert_eq!(back, c, "{}", c.to_query());
                assert!(warnings.is_empty(), "{warnings:?}");
            }
        }
    }

    #[test]
    fn two_identical_columns_stay_two_columns() {
        let (left, _) = default_pair();
        let c = Comparison {
            left,
            right: Some(left),
            custom: None,
            own_model: None,
        };
        let (back, warnings) = Comparison::from_query(&c.to_query());
        assert_eq!(back, c, "{}", c.to_query());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_one_column_link_is_the_spec_it_always_was() {
        let link = "v=1&strategy=beam&seed=7&n=16&problem=3";
        let (c, warnings) = Comparison::from_query(link);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.left, ExperimentSpec::from_query(link).spec);
        assert_eq!(c.right, None);
        assert_eq!(c.problem(), ProblemChoice::Set(3));
        let [_, right] = c.columns();
        assert_eq!(right.strategy, StrategyKind::Revisions);
        assert_eq!((right.n, right.seed, right.problem), (16, 7, 3));
        // And it is written back as the same one-column link.
        assert_eq!(
            ExperimentSpec::from_query(&c.to_query()).spec,
            ExperimentSpec::from_query(link).spec
        );
    }

    #[test]
    fn race_keys_cannot_differ_between_columns() {
        let (c, warnings) =
            Comparison::from_query("v=1&seed=2&n=8&left.strategy=beam&right.n=64&right.seed=5");
        let right = c.right.unwrap();
        assert_eq!((right.n, right.seed), (8, 2));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("right.n is ignored"), "{warnings:?}");
    }

    #[test]
    fn shared_keys_hold_for_both_columns_unless_overridden() {
        let (c, warnings) = Comparison::from_query(
            "v=1&seed=2&n=8&temperature=0.5&left.strategy=beam&right.strategy=revisions\
             &right.temperature=1",
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(c.left.temperature, 0.5);
        assert_eq!(c.right.unwrap().temperature, 1.0);
    }

    #[test]
    fn warnings_name_their_column_and_are_not_repeated() {
        let (_, warnings) =
            Comparison::from_query("v=1&n=8&left.strategy=nope&right.strategy=revisions");
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("left column: strategy=")),
            "{warnings:?}"
        );
        // The missing seed is one problem of the link, not one per column.
        assert_eq!(
            warnings.iter().filter(|w| w.contains("no seed")).count(),
            1,
            "{warnings:?}"
        );
    }

    #[test]
    fn a_custom_problem_travels_escaped() {
        let (c, _) = Comparison::from_query("v=1&seed=1&q=23%2B28-33&left.strategy=majority");
        assert_eq!(c.problem(), ProblemChoice::Custom("23+28-33".into()));
        assert!(c.to_query().contains("q=23%2B28-33"), "{}", c.to_query());
    }

    #[test]
    fn a_column_on_l_keeps_a_budget_of_its_own() {
        let link = "v=1&seed=1&problem=300&n=16&left.strategy=best-of-n&right.strategy=best-of-n\
                    &right.model=l&right.n=2";
        let (c, warnings) = Comparison::from_query(link);
        assert!(warnings.is_empty(), "{warnings:?}");
        let [left, right] = c.columns();
        assert_eq!((left.n, left.model), (16, PolicyModel::Small));
        assert_eq!((right.n, right.model), (2, PolicyModel::Large));
        assert_eq!(right.policy_role(), super::super::PolicyRole::Large);
        assert_eq!(Comparison::from_query(&c.to_query()).0, c);
        assert!(c.to_query().contains("&n=16&"), "{}", c.to_query());
        assert!(
            c.to_query().ends_with("right.model=l&right.n=2") || c.to_query().contains("right.n=2")
        );

        // L on the left: the shared budget is still the S column's.
        let mirrored = Comparison {
            left: right,
            right: Some(left),
            custom: None,
            own_model: None,
        };
        let q = mirrored.to_query();
        assert!(q.contains("&n=16&") && q.contains("left.n=2"), "{q}");
        assert_eq!(Comparison::from_query(&q).0, mirrored);

        // An S column's own budget is still ignored, and says so.
        let (c, warnings) = Comparison::from_query(
            "v=1&n=16&left.strategy=best-of-n&left.n=4&right.strategy=majority",
        );
        assert_eq!(c.columns().map(|s| s.n), [16, 16]);
        assert!(warnings[0].contains("left.n is ignored"), "{warnings:?}");
    }

    #[test]
    fn l_does_not_revise() {
        let (c, warnings) = Comparison::from_query(
            "v=1&n=8&left.strategy=revisions&left.model=l&left.n=2&right.strategy=majority",
        );
        let [left, right] = c.columns();
        assert_eq!(left.model, PolicyModel::Small);
        assert_eq!((left.n, right.n), (8, 8));
        assert!(
            warnings.iter().any(|w| w.contains("L is not one")),
            "{warnings:?}"
        );
    }
}
