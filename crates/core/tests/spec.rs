//! Experiment specs and their link codec: readable links, tolerant decoding with
//! warnings, migration from version 0, and round trips checked over generated specs and
//! generated junk (a small deterministic generator; no property-testing dependency).

mod common;

use common::*;
use ponder_core::spec::query::{pairs, percent_decode, percent_encode, KEYS};
use ponder_core::spec::{
    ExperimentSpec, PolicyModel, SpecWarning, StrategyKind, MAX_BUDGET, SPEC_VERSION,
};
use ponder_core::strategy::{
    BeamWidth, BestOfN, Context, RevisionSelection, Selection, SequentialRevisions,
    StepAggregation, Strategy,
};
use ponder_core::testing::{tag_verifier, LineTask, ScriptedPolicy};

fn decode(q: &str) -> (ExperimentSpec, Vec<SpecWarning>) {
    let d = ExperimentSpec::from_query(q);
    (d.spec, d.warnings)
}

#[test]
fn links_are_readable_and_name_what_the_strategy_uses() {
    assert_eq!(
        ExperimentSpec::default().to_query(),
        "v=1&strategy=best-of-n&seed=0&n=16&agg=last&select=weighted"
    );
    let beam = ExperimentSpec {
        strategy: StrategyKind::Beam,
        seed: 42,
        ..ExperimentSpec::default()
    };
    assert_eq!(
        beam.to_query(),
        "v=1&strategy=beam&seed=42&n=16&width=4&agg=last&select=weighted"
    );
    let mix = ExperimentSpec {
        strategy: StrategyKind::Mix,
        seed: 1,
        n: 64,
        ratio: 0.25,
        temperature: 0.7,
        problem: 12,
        ..ExperimentSpec::default()
    };
    // Settings the strategy does not use appear only when they differ from the default.
    assert_eq!(
        mix.to_query(),
        "v=1&strategy=mix&seed=1&problem=12&n=64&ratio=0.25&final=verifier&context=4&temperature=0.7"
    );
}

#[test]
fn the_briefs_example_decodes_exactly() {
    let (spec, warnings) = decode("?strategy=beam&n=16&width=4&agg=last&seed=9&v=1");
    assert_eq!(warnings, []);
    assert_eq!(spec.strategy, StrategyKind::Beam);
    assert_eq!(
        (spec.n, spec.width, spec.agg, spec.seed),
        (16, BeamWidth::Fixed(4), StepAggregation::Last, 9)
    );
    let (sqrt, _) = decode("v=1&seed=1&strategy=lookahead&width=sqrt&k=3");
    assert_eq!((sqrt.width, sqrt.k), (BeamWidth::Sqrt, 3));
}

#[test]
fn unknown_keys_are_ignored_silently() {
    let (spec, warnings) = decode("view=compare&v=1&seed=3&theme=dark&strategy=dvts&x");
    assert_eq!(warnings, []);
    assert_eq!((spec.strategy, spec.seed), (StrategyKind::Dvts, 3));
}

#[test]
fn invalid_values_are_reported_and_replaced_by_defaults() {
    let (spec, warnings) = decode(
        "v=1&seed=1&strategy=beem&n=0&width=wide&agg=mean&temperature=nan&top_p=0&select=majority&ratio=inf&k=",
    );
    let d = ExperimentSpec::default();
    assert_eq!(spec, ExperimentSpec { seed: 1, ..d });
    let keys: Vec<&str> = warnings
        .iter()
        .map(|w| match w {
            SpecWarning::InvalidValue { key, .. } => key.as_str(),
            other => panic!("unexpected warning {other}"),
        })
        .collect();
    assert_eq!(
        keys,
        [
            "strategy",
            "n",
            "width",
            "agg",
            "temperature",
            "top_p",
            "select",
            "ratio",
            "k"
        ]
    );
    assert_eq!(
        warnings[0].to_string(),
        "strategy=\"beem\" is not valid (expected one of majority, best-of-n, beam, lookahead, dvts, \
         revisions, mix); using strategy=best-of-n"
    );
    assert_eq!(
        warnings[1].to_string(),
        "n=\"0\" is not valid (expected a budget from 1 to 4096 generations); using n=16"
    );
}

#[test]
fn a_missing_seed_is_reported() {
    let (spec, warnings) = decode("v=1&strategy=majority&n=8");
    assert_eq!(warnings, [SpecWarning::MissingSeed]);
    assert_eq!(
        (spec.strategy, spec.n, spec.seed),
        (StrategyKind::Majority, 8, 0)
    );
    assert!(SpecWarning::MissingSeed.to_string().contains("seed=0"));
}

#[test]
fn repeated_keys_keep_the_first_value() {
    let (spec, warnings) = decode("v=1&seed=1&n=8&n=32");
    assert_eq!(spec.n, 8);
    assert_eq!(
        warnings,
        [SpecWarning::Duplicate {
            key: "n".into(),
            ignored: "32".into()
        }]
    );
}

#[test]
fn a_known_key_in_other_case_or_with_spaces_is_reported_not_read() {
    let (spec, warnings) = decode("v=1&seed=1&Strategy=beam&%20n=8");
    assert_eq!(spec.strategy, ExperimentSpec::default().strategy);
    assert_eq!(spec.n, ExperimentSpec::default().n);
    assert_eq!(
        warnings,
        [
            SpecWarning::MisspelledKey {
                key: "Strategy".into(),
                known: "strategy".into()
            },
            SpecWarning::MisspelledKey {
                key: " n".into(),
                known: "n".into()
            }
        ]
    );
    assert!(warnings[0].to_string().contains("did you mean strategy?"));
    // Keys that are no slip of a known one (the page's own, a newer version's) pass quietly.
    let (_, warnings) = decode("v=1&seed=1&view=compare&future_knob=3");
    assert_eq!(warnings, []);
}

#[test]
fn version_0_links_are_migrated() {
    let d = ExperimentSpec::from_query("strategy=bon&samples=8&aggregation=min&seed=3");
    assert_eq!(d.migrated_from, Some(0));
    assert_eq!(d.warnings, []);
    assert_eq!(
        d.spec,
        ExperimentSpec {
            strategy: StrategyKind::BestOfN,
            n: 8,
            agg: StepAggregation::Min,
            seed: 3,
            ..ExperimentSpec::default()
        }
    );
    let d =
        ExperimentSpec::from_query("v=0&strategy=beam-search&beam_width=sqrt&samples=64&seed=1");
    assert_eq!(d.migrated_from, Some(0));
    assert_eq!(
        (d.spec.strategy, d.spec.width, d.spec.n),
        (StrategyKind::Beam, BeamWidth::Sqrt, 64)
    );
    // Migrated specs are written as the current version.
    assert!(d
        .spec
        .to_query()
        .starts_with("v=1&strategy=beam&seed=1&n=64&width=sqrt"));
    // Version 1 links do not know the old names.
    let d = ExperimentSpec::from_query("v=1&seed=1&samples=8");
    assert_eq!((d.migrated_from, d.spec.n), (None, 16));
}

#[test]
fn newer_and_unreadable_versions_are_reported() {
    let (spec, warnings) = decode("v=2&seed=1&strategy=dvts");
    assert_eq!(warnings, [SpecWarning::NewerVersion { found: 2 }]);
    assert_eq!(
        (spec.strategy, spec.version),
        (StrategyKind::Dvts, SPEC_VERSION)
    );
    let (_, warnings) = decode("v=one&seed=1");
    assert!(matches!(&warnings[..], [SpecWarning::InvalidValue { key, .. }] if key == "v"));
}

#[test]
fn chains_must_divide_the_budget() {
    let (spec, warnings) = decode("v=1&seed=1&strategy=revisions&n=16&chains=3");
    assert_eq!(spec.chains, 1);
    assert!(matches!(&warnings[..], [SpecWarning::Inconsistent { key, .. }] if key == "chains"));
    let (spec, warnings) = decode("v=1&seed=1&strategy=revisions&n=16&chains=4");
    assert_eq!((spec.chains, warnings.len()), (4, 0));
    let Strategy::Revisions(r) = spec.strategy() else {
        panic!("revisions expected");
    };
    assert_eq!((r.chains, r.length), (4, 4));
}

#[test]
fn percent_escapes_and_plus_signs_decode() {
    let (spec, warnings) =
        decode("v=1&seed=5&strategy=best%2Dof%2dn&temperature=0%2E5&agg=%20min+");
    assert_eq!(warnings, []);
    assert_eq!(
        (spec.strategy, spec.temperature, spec.agg),
        (StrategyKind::BestOfN, 0.5, StepAggregation::Min)
    );
    assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
    assert_eq!(percent_decode("%E2%98%83+%FF"), "☃ \u{FFFD}");
    assert_eq!(percent_encode("a b/☃"), "a%20b%2F%E2%98%83");
}

#[test]
fn percent_escapes_round_trip_and_malformed_ones_stay_as_written() {
    // The page's query codec is this one, so a mangled link must still open.
    for text in ["", "plain", "a b&c=d", "100%", "ünïcødé ✓", "%zz", "+"] {
        assert_eq!(percent_decode(&percent_encode(text)), text);
    }
    assert_eq!(percent_decode("100%"), "100%");
    assert_eq!(percent_decode("%4"), "%4");
    assert_eq!(percent_decode("%zz1"), "%zz1");
    // Not an escape: the `%` stays, and `+` is a space as everywhere else.
    assert_eq!(percent_decode("%+A"), "% A");
    assert_eq!(percent_decode("%-1"), "%-1");
    assert_eq!(percent_decode("%41"), "A");
}

#[test]
fn queries_split_into_decoded_pairs_in_order() {
    assert_eq!(
        pairs("?view=compare&&q=2%2B3&flag&seed=1&seed=2"),
        vec![
            ("view".to_string(), "compare".to_string()),
            ("q".to_string(), "2+3".to_string()),
            ("flag".to_string(), String::new()),
            ("seed".to_string(), "1".to_string()),
            ("seed".to_string(), "2".to_string()),
        ]
    );
    assert_eq!(pairs(""), vec![]);
    // A value may hold `=`: only the first one ends the key.
    assert_eq!(pairs("q=a=b"), vec![("q".to_string(), "a=b".to_string())]);
}

#[test]
fn specs_build_the_strategies_they_name() {
    let spec = ExperimentSpec {
        strategy: StrategyKind::BestOfN,
        n: 6,
        select: Selection::Naive,
        agg: StepAggregation::Prod,
        rounds: 12,
        ..ExperimentSpec::default()
    };
    assert_eq!(
        spec.strategy(),
        Strategy::BestOfN(BestOfN {
            n: 6,
            aggregation: StepAggregation::Prod,
            selection: Selection::Naive,
            max_steps: 12,
        })
    );
    let look = ExperimentSpec {
        strategy: StrategyKind::Lookahead,
        n: 16,
        k: 3,
        ..ExperimentSpec::default()
    };
    assert_eq!(look.strategy().generations().expect("valid"), 16 * 4);
    let mix = ExperimentSpec {
        strategy: StrategyKind::Mix,
        n: 16,
        ratio: 4.0,
        ..ExperimentSpec::default()
    };
    assert_eq!(mix.strategy().generations().expect("valid"), 16);
    let Strategy::Mix(m) = mix.strategy() else {
        panic!("mix expected");
    };
    let split = m.split().expect("valid");
    assert_eq!((split.parallel, split.sequential), (2, 8));
}

#[test]
fn running_a_spec_uses_its_seed_problem_and_strategy() {
    let spec = ExperimentSpec::from_query(
        "v=1&strategy=revisions&n=6&chains=2&final=majority&seed=7&problem=3",
    )
    .spec;
    let run_spec = || {
        let mut policy = ScriptedPolicy::new(POLICY_PARAMS, hashing_script);
        let mut verifier = tag_verifier(VERIFIER_PARAMS);
        let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
        spec.run(&mut ctx).expect("runs")
    };
    let mut policy = ScriptedPolicy::new(POLICY_PARAMS, hashing_script);
    let mut verifier = tag_verifier(VERIFIER_PARAMS);
    let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM)
        .with_seed(SEED)
        .with_problem_id(PROBLEM_ID);
    let direct = SequentialRevisions::new(2, 3, RevisionSelection::Majority)
        .run(&mut ctx)
        .expect("runs");
    assert_eq!(run_spec(), direct);
}

#[test]
fn a_spec_says_whether_its_run_calls_the_verifier() {
    // The page loads the PRM only when `uses_verifier` says so; a spec that called it
    // anyway would fail there, and one that never does would load it for nothing.
    for strategy in StrategyKind::ALL {
        for final_answer in [
            RevisionSelection::Verifier,
            RevisionSelection::Majority,
            RevisionSelection::Last,
        ] {
            let spec = ExperimentSpec {
                strategy,
                final_answer,
                n: 4,
                chains: 2,
                seed: 3,
                ..ExperimentSpec::default()
            };
            let mut policy = ScriptedPolicy::new(POLICY_PARAMS, hashing_script);
            let mut verifier = tag_verifier(VERIFIER_PARAMS);
            let mut ctx = Context::new(&mut policy, &mut verifier, &LineTask, PROBLEM);
            spec.run(&mut ctx).expect("runs");
            assert_eq!(
                spec.uses_verifier(),
                !verifier.calls.is_empty(),
                "{}",
                spec.to_query()
            );
        }
    }
}

#[test]
fn json_specs_follow_the_same_rules() {
    let spec = ExperimentSpec {
        strategy: StrategyKind::Dvts,
        width: BeamWidth::Sqrt,
        seed: u64::MAX,
        ..ExperimentSpec::default()
    };
    let json = serde_json::to_string(&spec).expect("serializes");
    assert!(
        json.contains("\"v\":1") && json.contains("\"strategy\":\"dvts\""),
        "{json}"
    );
    let back: ExperimentSpec = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, spec);
    // Missing fields take defaults; out-of-range ones are fixed by sanitize.
    let mut partial: ExperimentSpec = serde_json::from_str(
        r#"{"v":1,"seed":4,"n":0,"ratio":-1.0,"width":{"fixed":0},"chains":5}"#,
    )
    .expect("parses");
    let warnings = partial.sanitize();
    let keys: Vec<String> = warnings
        .iter()
        .map(|w| match w {
            SpecWarning::InvalidValue { key, .. } | SpecWarning::Inconsistent { key, .. } => {
                key.clone()
            }
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(keys, ["n", "width", "ratio", "chains"]);
    assert_eq!(
        partial,
        ExperimentSpec {
            seed: 4,
            ..ExperimentSpec::default()
        }
    );
}

/// SplitMix64: a tiny deterministic generator for the property tests.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn random_spec(g: &mut Gen) -> ExperimentSpec {
    let n = match g.below(3) {
        0 => 1 << g.below(13),
        _ => 1 + g.below(u64::from(MAX_BUDGET)) as u32,
    };
    let divisors: Vec<u32> = (1..=n).filter(|d| n % d == 0).collect();
    let strategy = *g.pick(&StrategyKind::ALL);
    // L runs the parallel strategies only (revisions run R).
    let model = if !strategy.revises() && g.below(4) == 0 {
        PolicyModel::Large
    } else {
        PolicyModel::Small
    };
    ExperimentSpec {
        version: SPEC_VERSION,
        seed: if g.below(4) == 0 {
            u64::MAX - g.below(3)
        } else {
            g.next()
        },
        problem: g.below(1000),
        strategy,
        n,
        width: if g.below(3) == 0 {
            BeamWidth::Sqrt
        } else {
            BeamWidth::Fixed(1 + g.below(u64::from(MAX_BUDGET)) as usize)
        },
        k: g.below(17) as u32,
        agg: *g.pick(&StepAggregation::ALL),
        select: *g.pick(&[Selection::Naive, Selection::Weighted]),
        rounds: 1 + g.below(1000) as u32,
        chains: *g.pick(&divisors),
        ratio: match g.below(3) {
            0 => 2f64.powi(g.below(25) as i32 - 12),
            _ => 1.0 / 4096.0 + g.unit() * (4096.0 - 1.0 / 4096.0),
        },
        final_answer: *g.pick(&RevisionSelection::ALL),
        context: 1 + g.below(64) as u32,
        temperature: if g.below(4) == 0 {
            0.0
        } else {
            (g.unit() * 4.0) as f32
        },
        top_p: 1.0 - (g.unit() as f32 * 0.999),
        top_k: g.below(1_000_001) as u32,
        model,
    }
}

#[test]
fn every_valid_spec_survives_the_link_and_json_round_trips() {
    let mut g = Gen(2024);
    for case in 0..3000 {
        let spec = random_spec(&mut g);
        let query = spec.to_query();
        let d = ExperimentSpec::from_query(&query);
        assert_eq!(d.spec, spec, "case {case}: {query}");
        assert_eq!(d.warnings, [], "case {case}: {query}");
        assert_eq!(d.migrated_from, None);
        assert!(query.starts_with("v=1&strategy="), "{query}");
        assert!(query.contains("&seed="), "{query}");
        let mut sanitized = spec;
        assert_eq!(
            sanitized.sanitize(),
            [],
            "case {case}: valid specs need no fixing"
        );
        let json = serde_json::to_string(&spec).expect("serializes");
        let back: ExperimentSpec = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, spec, "case {case}: {json}");
    }
}

#[test]
fn any_query_decodes_to_a_spec_that_round_trips_cleanly() {
    // Junk built from real keys, v0 keys, near-miss values and escape fragments.
    let keys: Vec<&str> = KEYS
        .iter()
        .copied()
        .chain(["samples", "aggregation", "beam_width", "view", "", "N"])
        .collect();
    let values = [
        "1",
        "0",
        "16",
        "4096",
        "4097",
        "-1",
        "sqrt",
        "SQRT",
        "beam",
        "bon",
        "beam-search",
        "mix",
        "last",
        "prod",
        "weighted",
        "majority",
        "0.5",
        "1e3",
        "NaN",
        "inf",
        "-0",
        "%",
        "%2",
        "%41",
        "+",
        " 8 ",
        "☃",
        "18446744073709551616",
        "",
        "2.5e-4",
        "verifier",
    ];
    let mut g = Gen(7);
    for case in 0..5000 {
        let mut query = String::new();
        if g.below(2) == 0 {
            query.push('?');
        }
        for _ in 0..g.below(12) {
            let key = *g.pick(&keys);
            query.push_str(key);
            if g.below(8) != 0 {
                query.push('=');
                let value: &&str = g.pick(&values[..]);
                query.push_str(value);
            }
            query.push(*g.pick(&['&', '&', '&', '=', ';']));
        }
        let first = ExperimentSpec::from_query(&query);
        let again = ExperimentSpec::from_query(&first.spec.to_query());
        assert_eq!(again.spec, first.spec, "case {case}: {query}");
        assert_eq!(again.warnings, [], "case {case}: {query}");
        let mut spec = first.spec;
        assert_eq!(
            spec.sanitize(),
            [],
            "case {case}: decoded specs are already valid"
        );
    }
}
