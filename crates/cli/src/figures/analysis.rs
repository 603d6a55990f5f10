//! The figures' numbers from the measured records: accuracy curves, per-bin comparisons,
//! revision chains, the ratio sweep, compute-optimal scaling and the FLOPs-matched
//! exchange with the larger sibling. Every figure is computed per seed, then summarised
//! as the mean and the range over seeds.

use std::collections::BTreeMap;
use std::path::Path;

use ponder_core::strategy::compute_optimal::{
    difficulty_bins, ComputeOptimal, ComputeOptimalReport, DifficultyBin, DifficultySource,
    ProblemResults, ResultsTable,
};
use ponder_core::{Budget, FlopsMatch};

use super::record::{
    mix_name, Record, DEEP_DVTS_BUDGETS, DEEP_LOOKAHEAD_BEAMS, DVTS_BUDGETS, LOOKAHEAD_BEAMS,
    PARALLEL_BUDGETS, RATIOS, RATIO_BUDGETS, REVISIONS_EXTRA_BUDGETS, SEARCH_BUDGETS, STEPS_BUDGET,
};

/// Difficulty bins, as in the paper.
pub const BINS: usize = 5;
/// The paper's three ratios of inference to pretraining tokens (§7).
pub const EXCHANGE_RATIOS: [f64; 3] = [0.16, 0.79, 22.0];

/// A value over seeds, as the page's figures summarise theirs.
pub use ponder_core::sweep::Spread;

/// Parameter counts of the built-in models.
pub struct ModelSizes {
    pub policy: u64,
    pub larger: u64,
}

impl ModelSizes {
    pub fn read(dir: &Path) -> anyhow::Result<ModelSizes> {
        let count = |name: &str| -> anyhow::Result<u64> {
            Ok(crate::run::engine(&dir.join(name))?.model.parameters())
        };
        Ok(ModelSizes {
            policy: count("ponder-s.gguf")?,
            larger: count("ponder-l.gguf")?,
        })
    }
}

/// One strategy's accuracy against budget.
pub struct Curve {
    pub config: String,
    /// Budget, accuracy over seeds, mean FLOPs per problem.
    pub points: Vec<(u32, Spread, f64)>,
}

/// Compute-optimal scaling for one family of configurations and one difficulty source.
pub struct Optimal {
    pub family: &'static str,
    pub source: DifficultySource,
    /// Bins actually used (fewer than [`BINS`] when ties leave a bin too small).
    pub bins: usize,
    pub budgets: Vec<u32>,
    /// Overall accuracy per budget.
    pub accuracy: Vec<Option<Spread>>,
    /// Per bin, per budget: accuracy of the choice made on the other fold.
    pub by_bin: BTreeMap<u8, Vec<Option<Spread>>>,
    /// Per bin, per budget: the configurations chosen (over seeds and folds).
    pub chosen: BTreeMap<u8, Vec<Vec<String>>>,
    /// Why the analysis could not run on some seeds.
    pub errors: Vec<String>,
}

/// One bin's FLOPs-matched comparison.
pub struct Exchange {
    pub bin: u8,
    pub larger: Spread,
    /// Per R of [`EXCHANGE_RATIOS`]: the budget the larger model's FLOPs buy, and the
    /// compute-optimal accuracy there for search and for revisions (None: the budget is
    /// past the largest measured).
    pub at: Vec<(f64, f64, Option<Spread>, Option<Spread>)>,
}

/// Beam search and best-of-N at one budget, within one bin.
pub struct BeamBon {
    pub budget: u32,
    pub beam: Option<Spread>,
    pub bon: Option<Spread>,
}

/// One ratio of the sweep at one budget.
pub struct RatioRow {
    pub label: &'static str,
    /// Attempts per chain.
    pub length: usize,
    /// Final answer by the PRM.
    pub pick: Spread,
    /// Final answer by a flat majority over all attempts.
    pub majority: Spread,
}

pub struct Figures {
    pub seeds: Vec<u64>,
    pub problems: usize,
    pub seconds: f64,
    pub sizes: (u64, u64),
    pub curves: Vec<Curve>,
    /// Revision chains: the curve with a flat majority over all attempts instead.
    pub revisions_majority: Vec<(u32, Spread)>,
    /// Per oracle bin and search budget: beam, best-of-N.
    pub beam_vs_bon: BTreeMap<u8, Vec<BeamBon>>,
    /// Revision pass@1 at each attempt of the chains (step 0 is the first attempt).
    pub steps: Vec<(usize, Spread)>,
    /// Right→wrong and wrong→right changes between consecutive attempts, and how many
    /// right attempts had a next one.
    pub flips: (usize, usize, usize),
    /// Ratio sweep per budget.
    pub ratios: Vec<(u32, Vec<RatioRow>)>,
    /// Ratio sweep per oracle bin at the largest sweep budget.
    pub ratios_by_bin: BTreeMap<u8, Vec<(&'static str, Option<Spread>)>>,
    pub optimal: Vec<Optimal>,
    pub exchange: Vec<Exchange>,
    pub multiplier: Vec<(f64, f64)>,
    pub failed_runs: usize,
    /// R sampled in parallel (all chains of one attempt, the PRM picking): the baseline
    /// of the revisions family, overall and per oracle bin, by budget.
    pub parallel_r: Vec<(u32, Spread)>,
    pub parallel_r_by_bin: BTreeMap<u8, Vec<(u32, Option<Spread>)>>,
    /// Oracle bins that hold no problem in some seed (ties share a bin).
    pub empty_bins: Vec<u8>,
}

/// The configurations of the accuracy-against-budget figure, with their budgets.
pub fn curve_configs() -> Vec<(String, Vec<u32>)> {
    let mut revisions: Vec<u32> = RATIO_BUDGETS
        .iter()
        .chain(REVISIONS_EXTRA_BUDGETS.iter())
        .copied()
        .collect();
    revisions.sort_unstable();
    vec![
        ("majority".into(), PARALLEL_BUDGETS.to_vec()),
        ("best-of-n".into(), PARALLEL_BUDGETS.to_vec()),
        ("best-of-n naive".into(), PARALLEL_BUDGETS.to_vec()),
        ("beam".into(), SEARCH_BUDGETS.to_vec()),
        (
            "dvts".into(),
            DVTS_BUDGETS
                .iter()
                .chain(&DEEP_DVTS_BUDGETS)
                .copied()
                .collect(),
        ),
        (
            "lookahead".into(),
            LOOKAHEAD_BEAMS
                .iter()
                .chain(&DEEP_LOOKAHEAD_BEAMS)
                .map(|n| n * 2)
                .collect(),
        ),
        (mix_name("16"), revisions),
    ]
}

fn all(rs: &[Record]) -> Vec<&Record> {
    rs.iter().collect()
}

fn by_seed(records: &[Record], seeds: &[u64]) -> Vec<Vec<Record>> {
    seeds
        .iter()
        .map(|&s| {
            let mut rs: Vec<Record> = records.iter().filter(|r| r.seed == s).cloned().collect();
            rs.sort_by_key(|r| r.problem);
            rs
        })
        .filter(|rs| !rs.is_empty())
        .collect()
}

/// The fraction right of `config` at `budget` over `records` (None when none ran it).
fn accuracy(records: &[&Record], config: &str, budget: u32, majority: bool) -> Option<f64> {
    let runs: Vec<bool> = records
        .iter()
        .filter_map(|r| r.run(config, budget))
        .map(|run| {
            if majority {
                run.correct_majority.unwrap_or(false)
            } else {
                run.correct
            }
        })
        .collect();
    (!runs.is_empty()).then(|| runs.iter().filter(|&&c| c).count() as f64 / runs.len() as f64)
}

/// Oracle bins of one seed's records, with fewer bins when ties leave one too small.
fn oracle_bins(records: &[Record]) -> Vec<u8> {
    let signal: Vec<f64> = records.iter().map(|r| r.pass_at_1).collect();
    difficulty_bins(&signal, BINS)
        .map(|b| b.into_iter().map(|DifficultyBin(x)| x).collect())
        .unwrap_or_else(|_| vec![1; records.len()])
}

/// Linear interpolation in log2(budget) of `points` (budget ascending) at `x`; None past
/// the last budget.
pub fn at_budget(points: &[(u32, f64)], x: f64) -> Option<f64> {
    let first = points.first()?;
    if x <= f64::from(first.0) {
        return Some(first.1);
    }
    for pair in points.windows(2) {
        let (b0, a0) = pair[0];
        let (b1, a1) = pair[1];
        if x <= f64::from(b1) {
            let t =
                (x.log2() - f64::from(b0).log2()) / (f64::from(b1).log2() - f64::from(b0).log2());
            return Some(a0 + t * (a1 - a0));
        }
    }
    None
}

/// The smallest budget at which `curve` (budget ascending) reaches `target`,
/// interpolating in log2(budget); None if it never does.
pub fn budget_reaching(curve: &[(u32, f64)], target: f64) -> Option<f64> {
    let first = curve.first()?;
    if first.1 >= target {
        return Some(f64::from(first.0));
    }
    for pair in curve.windows(2) {
        let (b0, a0) = pair[0];
        let (b1, a1) = pair[1];
        if a1 >= target && a1 > a0 {
            let t = (target - a0) / (a1 - a0);
            let log = f64::from(b0).log2() + t * (f64::from(b1).log2() - f64::from(b0).log2());
            return Some(log.exp2());
        }
    }
    None
}

impl Figures {
    pub fn compute(
        records: &[Record],
        seeds: &[u64],
        sizes: &super::analysis::ModelSizes,
    ) -> anyhow::Result<Figures> {
        let per_seed = by_seed(records, seeds);
        let seed_bins: Vec<Vec<u8>> = per_seed.iter().map(|rs| oracle_bins(rs)).collect();
        let in_bin = |s: usize, bin: u8| -> Vec<&Record> {
            per_seed[s]
                .iter()
                .zip(&seed_bins[s])
                .filter(|(_, &b)| b == bin)
                .map(|(r, _)| r)
                .collect()
        };
        let spread_over = |f: &dyn Fn(usize) -> Option<f64>| -> Option<Spread> {
            let values: Vec<f64> = (0..per_seed.len()).filter_map(f).collect();
            Spread::of(&values)
        };

        let mut curves = Vec::new();
        for (config, budgets) in curve_configs() {
            let mut points = Vec::new();
            for b in budgets {
                let acc = spread_over(&|s| accuracy(&all(&per_seed[s]), &config, b, false));
                let flops: Vec<f64> = records
                    .iter()
                    .filter_map(|r| r.run(&config, b))
                    .map(|r| r.compute.flops())
                    .collect();
                if let Some(acc) = acc {
                    let mean_flops = flops.iter().sum::<f64>() / flops.len().max(1) as f64;
                    points.push((b, acc, mean_flops));
                }
            }
            curves.push(Curve { config, points });
        }
        let revisions_majority = curves
            .iter()
            .find(|c| c.config == mix_name("16"))
            .map(|c| {
                c.points
                    .iter()
                    .filter_map(|&(b, _, _)| {
                        spread_over(&|s| accuracy(&all(&per_seed[s]), &mix_name("16"), b, true))
                            .map(|sp| (b, sp))
                    })
                    .collect()
            })
            .unwrap_or_default();

        let mut beam_vs_bon = BTreeMap::new();
        for bin in 1..=BINS as u8 {
            let rows = SEARCH_BUDGETS
                .iter()
                .map(|&b| BeamBon {
                    budget: b,
                    beam: spread_over(&|s| accuracy(&in_bin(s, bin), "beam", b, false)),
                    bon: spread_over(&|s| accuracy(&in_bin(s, bin), "best-of-n", b, false)),
                })
                .collect();
            beam_vs_bon.insert(bin, rows);
        }

        // Revision chains: pass@1 per attempt, and the flips between attempts.
        let longest = records
            .iter()
            .flat_map(|r| r.chains.iter().map(Vec::len))
            .max()
            .unwrap_or(0);
        let steps = (0..longest)
            .filter_map(|t| {
                spread_over(&|s| {
                    let at: Vec<bool> = per_seed[s]
                        .iter()
                        .flat_map(|r| r.chains.iter().filter_map(move |c| c.get(t).copied()))
                        .collect();
                    (!at.is_empty())
                        .then(|| at.iter().filter(|&&x| x).count() as f64 / at.len() as f64)
                })
                .map(|sp| (t, sp))
            })
            .collect();
        let mut flips = (0, 0, 0);
        for chain in records.iter().flat_map(|r| &r.chains) {
            for pair in chain.windows(2) {
                match (pair[0], pair[1]) {
                    (true, false) => {
                        flips.0 += 1;
                        flips.2 += 1;
                    }
                    (false, true) => flips.1 += 1,
                    (true, true) => flips.2 += 1,
                    (false, false) => {}
                }
            }
        }

        // R in parallel: one attempt at budget 1, then ratio 1/16 (chains of one attempt,
        // or of two at 64, the nearest split).
        let parallel = |b: u32| {
            if b == 1 {
                mix_name("16")
            } else {
                mix_name(RATIOS[0].1)
            }
        };
        let parallel_budgets: Vec<u32> = std::iter::once(1).chain(RATIO_BUDGETS).collect();
        let parallel_r = parallel_budgets
            .iter()
            .filter_map(|&b| {
                spread_over(&|s| accuracy(&all(&per_seed[s]), &parallel(b), b, false))
                    .map(|sp| (b, sp))
            })
            .collect();
        let mut parallel_r_by_bin = BTreeMap::new();
        for bin in 1..=BINS as u8 {
            let rows = RATIO_BUDGETS
                .iter()
                .map(|&b| {
                    (
                        b,
                        spread_over(&|s| accuracy(&in_bin(s, bin), &parallel(b), b, false)),
                    )
                })
                .collect();
            parallel_r_by_bin.insert(bin, rows);
        }
        let empty_bins = (1..=BINS as u8)
            .filter(|&b| (0..per_seed.len()).any(|s| in_bin(s, b).is_empty()))
            .collect();

        let ratios = RATIO_BUDGETS
            .iter()
            .map(|&b| {
                let rows = RATIOS
                    .iter()
                    .filter_map(|&(ratio, label)| {
                        let config = mix_name(label);
                        let length = ponder_core::strategy::MixSplit::new(b as usize, ratio)
                            .map_or(0, |s| s.sequential);
                        let pick =
                            spread_over(&|s| accuracy(&all(&per_seed[s]), &config, b, false))?;
                        let majority =
                            spread_over(&|s| accuracy(&all(&per_seed[s]), &config, b, true))?;
                        Some(RatioRow {
                            label,
                            length,
                            pick,
                            majority,
                        })
                    })
                    .collect();
                (b, rows)
            })
            .collect();
        let sweep_top = *RATIO_BUDGETS.last().unwrap_or(&STEPS_BUDGET);
        let mut ratios_by_bin = BTreeMap::new();
        for bin in 1..=BINS as u8 {
            let rows = RATIOS
                .iter()
                .map(|&(_, label)| {
                    (
                        label,
                        spread_over(&|s| {
                            accuracy(&in_bin(s, bin), &mix_name(label), sweep_top, false)
                        }),
                    )
                })
                .collect();
            ratios_by_bin.insert(bin, rows);
        }

        // The search family chooses among best-of-N, beam search and DVTS, all measured at
        // every search budget.
        let search_configs: Vec<String> = ["best-of-n", "beam", "dvts"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let revision_configs: Vec<String> = RATIOS.iter().map(|(_, l)| mix_name(l)).collect();
        let mut optimal = Vec::new();
        for source in [DifficultySource::Oracle, DifficultySource::Predicted] {
            optimal.push(compute_optimal(
                "search",
                &search_configs,
                &SEARCH_BUDGETS,
                source,
                &per_seed,
            ));
            optimal.push(compute_optimal(
                "revisions",
                &revision_configs,
                &RATIO_BUDGETS,
                source,
                &per_seed,
            ));
        }

        // FLOPs-matched exchange, per oracle bin of the compute-optimal analysis.
        let scale = sizes.larger as f64 / sizes.policy.max(1) as f64;
        let mut multiplier = Vec::new();
        for r in EXCHANGE_RATIOS {
            let m = FlopsMatch::new(scale, r).map_err(|e| anyhow::anyhow!("{e}"))?;
            multiplier.push((r, m.equivalent_budget(1.0)));
        }
        // Only with the full oracle bins: `larger` is read in those same five bins.
        let oracle = |family: &str| {
            optimal.iter().find(|o| {
                o.family == family && o.source == DifficultySource::Oracle && o.bins == BINS
            })
        };
        let mut exchange = Vec::new();
        for bin in 1..=BINS as u8 {
            let Some(larger) = spread_over(&|s| {
                let rs = in_bin(s, bin);
                (!rs.is_empty())
                    .then(|| rs.iter().filter(|r| r.larger_greedy).count() as f64 / rs.len() as f64)
            }) else {
                continue;
            };
            let at = multiplier
                .iter()
                .map(|&(r, budget)| {
                    let read = |family: &str| -> Option<Spread> {
                        let o = oracle(family)?;
                        let row = o.by_bin_seeds.get(&bin)?;
                        let values: Vec<f64> = row
                            .iter()
                            .filter_map(|points| at_budget(points, budget))
                            .collect();
                        Spread::of(&values)
                    };
                    (r, budget, read("search"), read("revisions"))
                })
                .collect();
            exchange.push(Exchange { bin, larger, at });
        }

        Ok(Figures {
            seeds: seeds.to_vec(),
            problems: per_seed.first().map_or(0, Vec::len),
            seconds: records.iter().map(|r| r.seconds).sum(),
            sizes: (sizes.policy, sizes.larger),
            curves,
            revisions_majority,
            beam_vs_bon,
            steps,
            flips,
            ratios,
            ratios_by_bin,
            optimal: optimal.into_iter().map(|o| o.finish()).collect(),
            exchange,
            multiplier,
            parallel_r,
            parallel_r_by_bin,
            empty_bins,
            failed_runs: records
                .iter()
                .flat_map(|r| &r.runs)
                .filter(|r| r.error.is_some())
                .count(),
        })
    }
}

/// Compute-optimal analysis while it is being gathered over seeds.
struct Gathering {
    family: &'static str,
    source: DifficultySource,
    bins: usize,
    budgets: Vec<u32>,
    overall: Vec<Vec<f64>>,
    /// Per bin, per seed: (budget, accuracy) points, for interpolation and (over seeds)
    /// the per-bin spread.
    by_bin_seeds: BTreeMap<u8, Vec<Vec<(u32, f64)>>>,
    chosen: BTreeMap<u8, Vec<Vec<String>>>,
    errors: Vec<String>,
}

impl Gathering {
    fn finish(self) -> Optimal {
        Optimal {
            family: self.family,
            source: self.source,
            bins: self.bins,
            accuracy: self.overall.iter().map(|v| Spread::of(v)).collect(),
            by_bin: self
                .by_bin_seeds
                .iter()
                .map(|(&bin, seeds)| {
                    let at = |budget: u32| -> Vec<f64> {
                        seeds
                            .iter()
                            .flatten()
                            .filter(|p| p.0 == budget)
                            .map(|p| p.1)
                            .collect()
                    };
                    (
                        bin,
                        self.budgets.iter().map(|&b| Spread::of(&at(b))).collect(),
                    )
                })
                .collect(),
            budgets: self.budgets,
            chosen: self.chosen,
            errors: self.errors,
        }
    }
}

fn compute_optimal(
    family: &'static str,
    configs: &[String],
    budgets: &[u32],
    source: DifficultySource,
    per_seed: &[Vec<Record>],
) -> Gathering {
    let mut g = Gathering {
        family,
        source,
        bins: BINS,
        budgets: budgets.to_vec(),
        overall: vec![Vec::new(); budgets.len()],
        by_bin_seeds: BTreeMap::new(),
        chosen: BTreeMap::new(),
        errors: Vec::new(),
    };
    // Every seed is analysed with the same number of bins, so that a bin means the same
    // quantile in every seed's row: the most that every seed's ties allow (ties can leave
    // a bin with a single problem).
    let tables: Vec<ResultsTable> = per_seed
        .iter()
        .map(|records| ResultsTable {
            configs: configs.to_vec(),
            budgets: budgets.iter().map(|&b| Budget(b)).collect(),
            problems: records
                .iter()
                .map(|r| ProblemResults {
                    problem_id: r.problem as u64,
                    pass_at_1: r.pass_at_1,
                    mean_score: r.mean_score.clamp(0.0, 1.0),
                    accuracy: configs
                        .iter()
                        .map(|c| {
                            budgets
                                .iter()
                                .map(|&b| {
                                    r.run(c, b)
                                        .map_or(0.0, |run| f64::from(u8::from(run.correct)))
                                })
                                .collect()
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let analysis = |bins: usize, s: usize| ComputeOptimal {
        bins,
        source,
        seed: s as u64,
    };
    let mut fewer = Vec::new();
    let mut failed = Vec::new();
    let mut common = BINS;
    // Each seed's report at the most bins it allows, kept for the pass below.
    let mut found: Vec<Option<(usize, ComputeOptimalReport)>> = Vec::new();
    for (s, table) in tables.iter().enumerate() {
        let seed = per_seed[s].first().map_or(0, |r| r.seed);
        let mut got = None;
        let mut last_error = None;
        for bins in (1..=common).rev() {
            match analysis(bins, s).analyse(table) {
                Ok(report) => {
                    got = Some((bins, report));
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        match (&got, last_error) {
            (Some((bins, _)), _) if *bins < BINS => {
                fewer.push(seed.to_string());
                common = *bins;
            }
            (Some(_), _) => {}
            (None, e) => {
                if let Some(e) = e {
                    g.errors.push(format!("seed {seed}: {e}"));
                }
                failed.push(s);
            }
        }
        found.push(got);
    }
    if common < BINS {
        g.errors.push(format!(
            "{BINS} bins left one with a single problem (seed {}); every seed used {common}",
            fewer.join(", ")
        ));
    }
    g.bins = common;
    for ((s, table), got) in tables.iter().enumerate().zip(found) {
        let at_common = match got {
            Some((bins, report)) if bins == common => Ok(report),
            _ => analysis(common, s).analyse(table),
        };
        let report = match at_common {
            Ok(report) => report,
            Err(e) => {
                if !failed.contains(&s) {
                    let seed = per_seed[s].first().map_or(0, |r| r.seed);
                    g.errors.push(format!("seed {seed}, {common} bins: {e}"));
                }
                continue;
            }
        };
        for (i, a) in report.accuracy.iter().enumerate() {
            g.overall[i].push(*a);
        }
        for choice in &report.choices {
            let bin = choice.bin.0;
            let i = budgets
                .iter()
                .position(|&b| Budget(b) == choice.budget)
                .unwrap_or(0);
            let seeds = g.by_bin_seeds.entry(bin).or_default();
            if seeds.len() <= s {
                seeds.resize(s + 1, Vec::new());
            }
            seeds[s].push((budgets[i], choice.accuracy));
            let names = g
                .chosen
                .entry(bin)
                .or_insert_with(|| vec![Vec::new(); budgets.len()]);
            for fold in &choice.folds {
                names[i].push(configs[fold.chosen].clone());
            }
        }
    }
    g
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::figures::record::{Part, RunResult};
    use ponder_core::Compute;

    #[test]
    fn interpolation_is_linear_in_log_budget_and_stops_at_the_last_budget() {
        let points = [(4, 0.2), (16, 0.6), (64, 0.7)];
        assert_eq!(at_budget(&points, 2.0), Some(0.2));
        assert!((at_budget(&points, 8.0).unwrap_or(0.0) - 0.4).abs() < 1e-12);
        assert!((at_budget(&points, 64.0).unwrap_or(0.0) - 0.7).abs() < 1e-12);
        assert_eq!(at_budget(&points, 65.0), None);
        // 0.4 is reached halfway (in log2) between 4 and 16: at 8.
        assert!((budget_reaching(&points, 0.4).unwrap_or(0.0) - 8.0).abs() < 1e-9);
        assert_eq!(budget_reaching(&points, 0.1), Some(4.0));
        assert_eq!(budget_reaching(&points, 0.9), None);
    }

    /// Ten problems per seed whose difficulty is their index (pass@1 1 − p/10, so the
    /// oracle bins are {0, 1}, {2, 3}, … {8, 9}): best-of-N and majority solve problems
    /// 6..10, beam search 4..10, every revision ratio 4..10, and L 6..10.
    /// Revision chains are wrong, then right from their third attempt on problems 4..10.
    pub fn synthetic(seeds: &[u64]) -> Vec<Record> {
        let mut out = Vec::new();
        for &seed in seeds {
            for p in 0..10usize {
                let mut runs = Vec::new();
                for (config, budgets) in curve_configs() {
                    let threshold = match config.as_str() {
                        "beam" => 4,
                        c if c.starts_with("mix") => 4,
                        _ => 6,
                    };
                    for b in budgets {
                        runs.push(RunResult {
                            config: config.clone(),
                            budget: b,
                            correct: p >= threshold,
                            correct_majority: config.starts_with("mix").then_some(p >= 4),
                            compute: Compute::default(),
                            error: None,
                        });
                    }
                }
                for &b in &RATIO_BUDGETS {
                    for (_, label) in RATIOS {
                        if label != "16" {
                            runs.push(RunResult {
                                config: mix_name(label),
                                budget: b,
                                correct: p >= 4,
                                correct_majority: Some(p >= 4),
                                compute: Compute::default(),
                                error: None,
                            });
                        }
                    }
                }
                out.push(Record {
                    parts: Part::ALL.to_vec(),
                    seed,
                    problem: p,
                    level: (p / 2 + 1) as u8,
                    pass_at_1: 1.0 - p as f64 / 10.0,
                    mean_score: 1.0 - p as f64 / 10.0,
                    larger_greedy: p >= 6,
                    runs,
                    chains: vec![vec![false, false, p >= 4, p >= 4, p >= 4]],
                    seconds: 1.0,
                });
            }
        }
        out
    }

    pub fn sizes() -> ModelSizes {
        ModelSizes {
            policy: 1_000_000,
            larger: 10_000_000,
        }
    }

    #[test]
    fn figures_from_known_records() {
        let records = synthetic(&[1, 2]);
        let f = Figures::compute(&records, &[1, 2], &sizes()).expect("figures");
        assert_eq!(f.problems, 10);
        let at = |config: &str, b: u32| {
            f.curves
                .iter()
                .find(|c| c.config == config)
                .and_then(|c| c.points.iter().find(|p| p.0 == b))
                .map(|p| p.1.mean)
        };
        assert_eq!(at("best-of-n", 256), Some(0.4));
        assert_eq!(at("beam", 16), Some(0.6));
        assert_eq!(at("lookahead", 8), Some(0.4));
        // Pass@1 per attempt: 0, 0, then the 6 problems of 10 that turn right.
        let steps: Vec<f64> = f.steps.iter().map(|s| s.1.mean).collect();
        assert_eq!(steps, vec![0.0, 0.0, 0.6, 0.6, 0.6]);
        // Over both seeds: 6 problems turn right once each, then stay right twice.
        assert_eq!(f.flips, (0, 12, 24));
        // Bin 1 holds problems 0 and 1, bin 5 problems 8 and 9.
        let bin1 = &f.beam_vs_bon[&1];
        assert_eq!(bin1[0].beam.map(|s| s.mean), Some(0.0));
        let bin5 = &f.beam_vs_bon[&5];
        assert_eq!(bin5[0].beam.map(|s| s.mean), Some(1.0));
        // Compute-optimal search picks beam search in bin 3, where it is ahead on both
        // folds: 60% overall, which best-of-N (40% at every budget) never reaches.
        let search = f
            .optimal
            .iter()
            .find(|o| o.family == "search" && o.source == DifficultySource::Oracle)
            .expect("search");
        assert!(search
            .accuracy
            .iter()
            .all(|a| a.map(|s| s.mean) == Some(0.6)));
        // FLOPs exchange: M = 10 gives 10 + 27/R generations.
        assert!((f.multiplier[1].1 - (10.0 + 27.0 / 0.79)).abs() < 1e-9);
        // L solves problems 6..10: bins 4 and 5, the hardest (lowest pass@1).
        assert_eq!(f.exchange[0].larger.mean, 0.0);
        assert_eq!(f.exchange[4].larger.mean, 1.0);
    }

    #[test]
    fn every_seed_is_binned_alike_when_ties_force_fewer_bins() {
        let mut records = synthetic(&[1, 2]);
        // Seed 2's problems tie in two groups of 5 and 4 around one problem alone, which
        // its five quintiles would leave in a bin of its own.
        for r in records.iter_mut().filter(|r| r.seed == 2) {
            r.pass_at_1 = match r.problem {
                0..5 => 1.0,
                5 => 0.5,
                _ => 0.0,
            };
        }
        let f = Figures::compute(&records, &[1, 2], &sizes()).expect("figures");
        let search = f
            .optimal
            .iter()
            .find(|o| o.family == "search" && o.source == DifficultySource::Oracle)
            .expect("search");
        assert!(search.bins < BINS);
        // Both seeds' rows use the same bins: none past the common count.
        assert!(search.by_bin.keys().all(|&b| usize::from(b) <= search.bins));
        assert!(
            search.errors.iter().any(|e| e.contains("(seed 2)")
                && e.contains(&format!("every seed used {}", search.bins))),
            "{:?}",
            search.errors
        );
        // The exchange reads its bins beside L's five oracle bins, so it is left out.
        assert!(f
            .exchange
            .iter()
            .all(|e| e.at.iter().all(|a| a.2.is_none() && a.3.is_none())));
    }
}
