//! A sweep: problems × budgets × strategies × seeds, the measurement behind the paper's
//! accuracy-against-budget curves. The `ponder sweep` command and the page's Experiment
//! view both run it from here, one (seed, problem) unit at a time, so their rows for the
//! same spec are the same rows.
//!
//! Majority voting and best-of-N reuse one run at the largest budget for every smaller one
//! (`strategy::subsample`: exact, the paper's practice), and so does DVTS where its
//! widths allow; the other strategies run once per budget. Every run is the spec
//! `strategy=…&n=budget&seed=…` with defaults otherwise (lookahead's `n` is the budget
//! over k+1, since each of its beams also spends k rollout steps), so any row can be
//! replayed with `ponder run`.

mod bins;
mod exchange;
mod optimal;
mod row;
mod spread;
mod steps;
mod unit;

pub use bins::{by_difficulty, BinAccuracy, BINS};
pub use exchange::{exchange, Exchange, ExchangeBin, LARGE_GREEDY};
pub use optimal::{compute_optimal, OptimalPoint};
pub use row::{
    baseline, comparisons_csv, rows_csv, summarise, summary_csv, versus, Comparison, Measured,
    SummaryRow, SweepRow,
};
pub use spread::Spread;
pub use steps::{by_revision_step, StepAccuracy};
pub use unit::{
    difficulty_seed, large_greedy_spec, run_unit, spec_at_budget, spec_for_budget, UnitResult,
};

use serde::{Deserialize, Serialize};

use crate::arithmetic::ProblemSet;
use crate::spec::{ExperimentSpec, StrategyKind, MAX_BUDGET};
use crate::strategy::subsample::dvts_reuses;

/// The largest budget the page offers; the command line takes any up to [`MAX_BUDGET`].
pub const PAGE_MAX_BUDGET: u32 = 256;

/// What a sweep measures.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// The shipped problem set (`test` or `validation`).
    pub set: String,
    /// Only these levels (all when empty).
    pub levels: Vec<u8>,
    /// Problems per level (0: all).
    pub per_level: usize,
    /// Budgets in generations.
    pub budgets: Vec<u32>,
    pub strategies: Vec<StrategyKind>,
    /// Seeds; the spread over them is reported.
    pub seeds: Vec<u64>,
    /// The sequential:parallel ratios the mix runs at (the paper's Fig. 7), each a row of
    /// its own (`mix@0.25`); none: the mix at its default ratio, as `mix`.
    pub ratios: Vec<f64>,
    /// Also L's greedy answer to each problem, once per (seed, problem) (a row
    /// [`LARGE_GREEDY`] at budget 1): the FLOPs-matched exchange's other side (Fig. 9).
    pub large: bool,
    /// The strategies' settings, as share-link keys and values (`width`, `agg`,
    /// `temperature`…; [`SETTINGS_KEYS`]), the same for every run; a share link's
    /// defaults otherwise.
    pub settings: Vec<(String, String)>,
}

/// Settings as a person types them: `width=8, agg=min`, `width=8&agg=min` or
/// `width:8,agg:min`; an error names a piece that is not a key and a value.
pub fn parse_settings(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split([',', '&', ' ', ';'])
        .filter(|piece| !piece.trim().is_empty())
        .map(|piece| {
            piece
                .split_once(['=', ':'])
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, v)| !k.is_empty() && !v.is_empty())
                .ok_or_else(|| format!("settings: {piece:?} is not key=value (like width=8)"))
        })
        .collect()
}

/// The keys a sweep's settings may give: the strategies' parameters and the sampling.
/// The strategy, budget, seed and problem are the sweep's own, as are the mix's ratios
/// and L.
pub const SETTINGS_KEYS: [&str; 11] = [
    "width",
    "k",
    "agg",
    "select",
    "rounds",
    "chains",
    "final",
    "context",
    "temperature",
    "top_p",
    "top_k",
];

impl Default for SweepSpec {
    fn default() -> SweepSpec {
        SweepSpec {
            set: "test".into(),
            levels: Vec::new(),
            per_level: 10,
            budgets: vec![1, 2, 4, 8, 16],
            strategies: vec![
                StrategyKind::Majority,
                StrategyKind::BestOfN,
                StrategyKind::Beam,
                StrategyKind::Revisions,
            ],
            seeds: vec![1, 2, 3],
            ratios: Vec::new(),
            large: false,
            settings: Vec::new(),
        }
    }
}

/// A mix row's strategy at sequential:parallel `ratio`: `mix@0.25`.
pub fn mix_label(ratio: f64) -> String {
    format!("{}@{ratio}", StrategyKind::Mix.name())
}

/// The ratio in a mix row's strategy ([`mix_label`]), if it is one.
pub fn mix_ratio(strategy: &str) -> Option<f64> {
    let ratio = strategy
        .strip_prefix(StrategyKind::Mix.name())?
        .strip_prefix('@')?;
    ratio.parse().ok()
}

/// One (seed, problem) of a sweep: the unit that is run, stored and resumed whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Unit {
    pub seed: u64,
    /// The problem's index in its set.
    pub problem: u64,
}

impl SweepSpec {
    /// The spec every run starts from: a share link's defaults with the sweep's settings
    /// (its strategy, budget, seed and problem are set per run). A setting that is not a
    /// strategy setting, or not a valid value, is an error that names it; one that does
    /// not fit a budget (chains that do not divide it) is left to that run's spec rules.
    pub fn base(&self) -> Result<ExperimentSpec, String> {
        let mut query = String::from("v=1&seed=0");
        for (key, value) in &self.settings {
            if !SETTINGS_KEYS.contains(&key.as_str()) {
                return Err(format!(
                    "settings: {key} is not a strategy setting (one of {})",
                    SETTINGS_KEYS.join(", ")
                ));
            }
            query.push_str(&format!(
                "&{key}={}",
                crate::spec::query::percent_encode(value)
            ));
        }
        let decoded = ExperimentSpec::from_query(&query);
        for w in &decoded.warnings {
            if !matches!(w, crate::spec::SpecWarning::Inconsistent { .. }) {
                return Err(format!("settings: {w}"));
            }
        }
        Ok(decoded.spec)
    }

    /// Checks what a run needs: budgets, strategies and seeds, each budget within range.
    pub fn check(&self) -> Result<(), String> {
        self.base()?;
        if self.budgets.is_empty() {
            return Err("choose at least one budget".into());
        }
        if self.strategies.is_empty() {
            return Err("choose at least one strategy".into());
        }
        if self.seeds.is_empty() {
            return Err("choose at least one seed".into());
        }
        let most = f64::from(MAX_BUDGET);
        if let Some(r) = self
            .ratios
            .iter()
            .find(|r| !(r.is_finite() && (1.0 / most..=most).contains(*r)))
        {
            return Err(format!(
                "{r} is not a sequential:parallel ratio from 1/{MAX_BUDGET} to {MAX_BUDGET}"
            ));
        }
        if let Some(b) = self.budgets.iter().find(|&&b| b == 0 || b > MAX_BUDGET) {
            return Err(format!(
                "{b} is not a budget from 1 to {MAX_BUDGET} generations"
            ));
        }
        Ok(())
    }

    /// The largest budget (the parallel strategies' one run).
    pub fn max_budget(&self) -> u32 {
        self.budgets.iter().copied().max().unwrap_or(1)
    }

    /// The strategies that reuse one run at the largest budget: majority and best-of-N.
    pub fn parallel(&self) -> Vec<StrategyKind> {
        self.strategies
            .iter()
            .copied()
            .filter(|k| matches!(k, StrategyKind::Majority | StrategyKind::BestOfN))
            .collect()
    }

    /// The strategies that run per budget (DVTS only where it cannot reuse its largest run).
    pub fn others(&self) -> Vec<StrategyKind> {
        let parallel = self.parallel();
        self.strategies
            .iter()
            .copied()
            .filter(|k| !parallel.contains(k))
            .collect()
    }

    /// Every strategy name its rows carry, in the order of [`Self::strategies`]: the
    /// strategy's link name, or a mix's [`mix_label`] per ratio.
    pub fn labels(&self) -> Vec<String> {
        self.strategies
            .iter()
            .flat_map(|&k| {
                self.ratios_of(k).into_iter().map(move |r| match r {
                    Some(r) => mix_label(r),
                    None => k.name().to_string(),
                })
            })
            .collect()
    }

    /// The ratios `kind` runs at: each of [`Self::ratios`] for the mix when there are any,
    /// else once at its default (`None`).
    pub fn ratios_of(&self, kind: StrategyKind) -> Vec<Option<f64>> {
        if kind == StrategyKind::Mix && !self.ratios.is_empty() {
            self.ratios.iter().copied().map(Some).collect()
        } else {
            vec![None]
        }
    }

    /// Generations one unit runs: the measure of progress (a run's cost grows with its
    /// budget, so a unit counts as the generations it spends).
    pub fn work_per_unit(&self) -> u64 {
        let max_budget = self.max_budget();
        let dvts_width = ExperimentSpec::default().width;
        // The parallel run, and the difficulty samples beside it (`difficulty_seed`).
        let parallel = if self.parallel().is_empty() {
            0
        } else {
            2 * u64::from(max_budget)
        };
        // L's one greedy answer counts as one generation.
        parallel
            + u64::from(self.large)
            + self
                .others()
                .iter()
                .map(|&k| {
                    self.ratios_of(k).len() as u64
                        * self
                            .budgets
                            .iter()
                            .filter(|&&b| {
                                k != StrategyKind::Dvts
                                    || b == max_budget
                                    || !dvts_reuses(b, max_budget, dvts_width)
                            })
                            .map(|&b| u64::from(b))
                            .sum::<u64>()
                })
                .sum::<u64>()
    }

    /// The problems of `set` this sweep takes, by index, in set order.
    pub fn problems(&self, set: &ProblemSet) -> Vec<usize> {
        choose(set, &self.levels, self.per_level)
    }

    /// Every unit, seed by seed, each seed's problems in set order.
    pub fn units(&self, set: &ProblemSet) -> Vec<Unit> {
        let problems = self.problems(set);
        self.seeds
            .iter()
            .flat_map(|&seed| {
                problems.iter().map(move |&p| Unit {
                    seed,
                    problem: p as u64,
                })
            })
            .collect()
    }

    /// The spec as link text: `set=test&levels=1,2&per_level=2&budgets=1,4,16&…`
    /// (`&ratios=…` only where the mix has ratios of its own, `&large=1` only with L's
    /// rows, and `&settings=width:8,agg:min` only with settings, so older links still name
    /// the results stored under them).
    pub fn to_query(&self) -> String {
        let join = |v: Vec<String>| v.join(",");
        let mut query = format!(
            "set={}&levels={}&per_level={}&budgets={}&strategies={}&seeds={}",
            self.set,
            join(self.levels.iter().map(u8::to_string).collect()),
            self.per_level,
            join(self.budgets.iter().map(u32::to_string).collect()),
            join(
                self.strategies
                    .iter()
                    .map(|k| k.name().to_string())
                    .collect()
            ),
            join(self.seeds.iter().map(u64::to_string).collect()),
        );
        if !self.ratios.is_empty() {
            query.push_str("&ratios=");
            query.push_str(&join(self.ratios.iter().map(f64::to_string).collect()));
        }
        if self.large {
            query.push_str("&large=1");
        }
        if !self.settings.is_empty() {
            query.push_str("&settings=");
            let pairs: Vec<String> = self
                .settings
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect();
            query.push_str(&join(pairs));
        }
        query
    }

    /// Reads link text written by [`Self::to_query`]; missing keys keep their defaults and
    /// unknown keys (the page's own, such as `view`) are ignored. A value that cannot be
    /// read is an error that names it.
    pub fn from_query(query: &str) -> Result<SweepSpec, String> {
        let mut spec = SweepSpec::default();
        let query = query.trim_start_matches(['?', '#']);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = value.replace("%2C", ",").replace("%2c", ",");
            let list = || -> Vec<String> {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let numbers = |what: &str| -> Result<Vec<u64>, String> {
                list()
                    .iter()
                    .map(|s| {
                        s.parse::<u64>()
                            .map_err(|_| format!("{what}: {s:?} is not a whole number"))
                    })
                    .collect()
            };
            match key {
                "set" => {
                    if !matches!(value.as_str(), "test" | "validation") {
                        return Err(format!(
                            "set: {value:?} is not a shipped set (test or validation)"
                        ));
                    }
                    spec.set = value.clone();
                }
                "levels" => {
                    spec.levels = numbers("levels")?
                        .into_iter()
                        .map(|l| match u8::try_from(l) {
                            Ok(l @ 1..=5) => Ok(l),
                            _ => Err(format!("levels: {l} is not a level from 1 to 5")),
                        })
                        .collect::<Result<_, _>>()?;
                }
                "per_level" => {
                    spec.per_level = value
                        .parse()
                        .map_err(|_| format!("per_level: {value:?} is not a whole number"))?;
                }
                "budgets" => {
                    spec.budgets = numbers("budgets")?
                        .into_iter()
                        .map(|b| u32::try_from(b).unwrap_or(u32::MAX))
                        .collect();
                }
                "strategies" => {
                    spec.strategies = list()
                        .iter()
                        .map(|name| {
                            StrategyKind::from_name(name).ok_or_else(|| {
                                let names: Vec<&str> =
                                    StrategyKind::ALL.iter().map(|k| k.name()).collect();
                                format!(
                                    "strategies: {name:?} is not a strategy ({})",
                                    names.join(", ")
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?;
                }
                "seeds" => spec.seeds = numbers("seeds")?,
                "settings" => spec.settings = parse_settings(&value)?,
                "large" => {
                    spec.large = match value.as_str() {
                        "1" | "true" => true,
                        "0" | "false" | "" => false,
                        _ => return Err(format!("large: {value:?} is not 1 or 0")),
                    }
                }
                "ratios" => {
                    let most = f64::from(MAX_BUDGET);
                    spec.ratios = list()
                        .iter()
                        .map(|r| match r.parse::<f64>() {
                            Ok(x) if x.is_finite() && (1.0 / most..=most).contains(&x) => Ok(x),
                            _ => Err(format!(
                                "ratios: {r:?} is not a sequential:parallel ratio from \
                                 1/{MAX_BUDGET} to {MAX_BUDGET}"
                            )),
                        })
                        .collect::<Result<_, _>>()?;
                }
                _ => {}
            }
        }
        spec.check()?;
        Ok(spec)
    }
}

/// The indices of a set's problems at `levels` (all when empty), at most `per_level` of
/// each level (all when 0), in set order.
pub fn choose(set: &ProblemSet, levels: &[u8], per_level: usize) -> Vec<usize> {
    let mut taken = std::collections::HashMap::<u8, usize>::new();
    (0..set.problems.len())
        .filter(|&i| {
            let level = set.problems[i].level.number();
            let count = taken.entry(level).or_insert(0);
            let keep = (levels.is_empty() || levels.contains(&level))
                && (per_level == 0 || *count < per_level);
            if keep {
                *count += 1;
            }
            keep
        })
        .collect()
}

/// A unit's result as a test writes it: one row per (strategy, budget, right).
#[cfg(test)]
pub(crate) fn result_for_test(
    unit: Unit,
    runs: &[(StrategyKind, u32, bool)],
    pass_at_1: Option<f64>,
    revision_steps: Option<Vec<f64>>,
) -> UnitResult {
    UnitResult {
        unit,
        rows: runs
            .iter()
            .map(|&(kind, budget, correct)| {
                SweepRow::new(
                    unit.seed,
                    kind,
                    budget,
                    unit.problem,
                    1,
                    Measured {
                        correct,
                        ..Measured::default()
                    },
                )
            })
            .collect(),
        pass_at_1,
        revision_steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_text_round_trips() {
        let spec = SweepSpec {
            set: "validation".into(),
            levels: vec![1, 3],
            per_level: 2,
            budgets: vec![1, 4, 16],
            strategies: vec![StrategyKind::Majority, StrategyKind::Beam],
            seeds: vec![7, 9],
            ratios: Vec::new(),
            large: false,
            settings: Vec::new(),
        };
        let text = spec.to_query();
        assert_eq!(
            text,
            "set=validation&levels=1,3&per_level=2&budgets=1,4,16&strategies=majority,beam&seeds=7,9"
        );
        assert_eq!(SweepSpec::from_query(&text), Ok(spec));
        // The page's own keys ride along.
        assert_eq!(
            SweepSpec::from_query(&format!("view=experiment&{text}")).map(|s| s.seeds),
            Ok(vec![7, 9])
        );
        assert_eq!(SweepSpec::from_query(""), Ok(SweepSpec::default()));
    }

    #[test]
    fn a_mix_at_several_ratios_has_rows_of_each() {
        let spec = SweepSpec {
            budgets: vec![4, 16],
            strategies: vec![StrategyKind::BestOfN, StrategyKind::Mix],
            ratios: vec![0.25, 4.0],
            ..SweepSpec::default()
        };
        let text = spec.to_query();
        assert!(text.ends_with("&ratios=0.25,4"), "{text}");
        assert_eq!(SweepSpec::from_query(&text), Ok(spec.clone()));
        assert_eq!(spec.labels(), ["best-of-n", "mix@0.25", "mix@4"]);
        assert_eq!(mix_ratio("mix@0.25"), Some(0.25));
        assert_eq!(mix_ratio("mix"), None);
        // Best-of-N's one run at 16 and its 16 difficulty samples, and the mix at both
        // budgets for each ratio.
        assert_eq!(spec.work_per_unit(), 2 * 16 + 2 * (4 + 16));
        assert!(SweepSpec::from_query("ratios=0").is_err());
        let no_ratios = SweepSpec {
            ratios: Vec::new(),
            ..spec
        };
        assert_eq!(no_ratios.labels(), ["best-of-n", "mix"]);
        // L's greedy rows: one generation more per unit, and `large=1` in the link.
        let with_l = SweepSpec {
            large: true,
            ..no_ratios
        };
        assert!(with_l.to_query().ends_with("&large=1"));
        assert_eq!(
            SweepSpec::from_query(&with_l.to_query()),
            Ok(with_l.clone())
        );
        assert_eq!(with_l.work_per_unit(), 2 * 16 + 1 + (4 + 16));
    }

    #[test]
    fn settings_reach_every_run_and_travel_in_the_link() {
        let spec = SweepSpec {
            settings: parse_settings("width=2, agg=min").expect("reads"),
            ..SweepSpec::default()
        };
        assert!(spec.to_query().ends_with("&settings=width:2,agg:min"));
        assert_eq!(SweepSpec::from_query(&spec.to_query()), Ok(spec.clone()));
        let base = spec.base().expect("valid settings");
        assert_eq!(base.width, crate::strategy::BeamWidth::Fixed(2));
        assert_eq!(base.agg, crate::strategy::StepAggregation::Min);
        let beam = spec_at_budget(&base, StrategyKind::Beam, 16, 3, 7);
        assert_eq!(
            (beam.width, beam.n, beam.seed, beam.problem),
            (base.width, 16, 3, 7)
        );
        assert_eq!(
            parse_settings("width:2&agg=min"),
            parse_settings("width=2,agg=min")
        );
        // Each mistake names itself.
        for (text, says) in [
            ("n=4", "n is not a strategy setting"),
            ("width=huge", "width=\"huge\""),
        ] {
            let bad = SweepSpec {
                settings: parse_settings(text).expect("reads"),
                ..SweepSpec::default()
            };
            let error = bad.check().expect_err(text);
            assert!(error.contains(says), "{error}");
        }
        assert!(parse_settings("width").is_err());
    }

    #[test]
    fn bad_link_text_says_which_value() {
        for (text, says) in [
            ("levels=1,9", "levels: 9"),
            ("budgets=0", "0 is not a budget"),
            ("strategies=majority,magic", "\"magic\" is not a strategy"),
            ("seeds=one", "seeds: \"one\""),
            ("set=train", "not a shipped set"),
            ("seeds=", "at least one seed"),
        ] {
            let e = SweepSpec::from_query(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn a_unit_counts_the_generations_it_runs() {
        let spec = SweepSpec {
            budgets: vec![1, 4, 16],
            strategies: vec![StrategyKind::Majority, StrategyKind::BestOfN],
            ..SweepSpec::default()
        };
        // One run at 16 serves both strategies at every budget; 16 difficulty samples.
        assert_eq!(spec.work_per_unit(), 2 * 16);
        let spec = SweepSpec {
            strategies: vec![StrategyKind::Beam, StrategyKind::BestOfN],
            ..spec
        };
        assert_eq!(spec.work_per_unit(), 2 * 16 + 1 + 4 + 16);
    }
}
