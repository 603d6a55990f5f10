//! The link codec for [`ExperimentSpec`]: readable query strings with enums by name
//! (`v=1&strategy=beam&seed=7&n=16&width=4&agg=last&select=weighted`).
//!
//! Reading a link never fails, because links outlive the code that made them: unknown keys
//! are ignored (the page's own keys, such as `view`, share the query), an invalid value
//! is reported and replaced by its default, a repeated key keeps its first value, a
//! missing seed is reported (the run would not be the one linked), and a link from
//! version 0 is migrated. Writing always puts the version, the strategy and the seed
//! first, then every key the strategy uses, then any other key that differs from its
//! default, so `decode(encode(spec))` gives back `spec` exactly.

use std::fmt::Write as _;

use super::{ExperimentSpec, PolicyModel, StrategyKind, MAX_BUDGET, SPEC_VERSION};
use crate::strategy::{BeamWidth, RevisionSelection, Selection, StepAggregation};

/// Every key of version 1, in the order links write them.
pub const KEYS: [&str; 18] = [
    "v",
    "strategy",
    "seed",
    "problem",
    "n",
    "width",
    "k",
    "agg",
    "select",
    "rounds",
    "chains",
    "ratio",
    "final",
    "context",
    "temperature",
    "top_p",
    "top_k",
    "model",
];

/// Version 0 names, and what version 1 calls them.
const V0_KEYS: [(&str, &str); 3] = [
    ("samples", "n"),
    ("aggregation", "agg"),
    ("beam_width", "width"),
];
const V0_STRATEGIES: [(&str, &str); 2] = [("bon", "best-of-n"), ("beam-search", "beam")];

/// Something a decoded link could not use as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpecWarning {
    #[error("{key}={value:?} is not valid (expected {expected}); using {key}={used}")]
    InvalidValue {
        key: String,
        value: String,
        expected: String,
        used: String,
    },
    #[error(
        "{key} appears more than once; keeping the first value and ignoring {key}={ignored:?}"
    )]
    Duplicate { key: String, ignored: String },
    #[error("the link has no seed; using seed=0, so the samples may differ from the linked run")]
    MissingSeed,
    #[error(
        "the link is version v={found}, newer than this page's v={SPEC_VERSION}; reading it as \
         v={SPEC_VERSION} (settings this version does not know are ignored)"
    )]
    NewerVersion { found: u32 },
    #[error("{key}={value} does not fit the rest of the spec ({reason}); using {key}={used}")]
    Inconsistent {
        key: String,
        value: String,
        reason: String,
        used: String,
    },
    #[error("{key:?} is not a key of experiment links (did you mean {known}?); it is ignored")]
    MisspelledKey { key: String, known: String },
}

/// A decoded link.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub spec: ExperimentSpec,
    pub warnings: Vec<SpecWarning>,
    /// The version the link was migrated from, if it was older.
    pub migrated_from: Option<u32>,
}

/// Whether `key` shapes what `kind` does (and so is always written for it).
fn relevant(kind: StrategyKind, key: &str) -> bool {
    use StrategyKind::*;
    match key {
        "v" | "strategy" | "seed" | "n" => true,
        "width" => matches!(kind, Beam | Lookahead | Dvts),
        "k" => kind == Lookahead,
        "agg" | "select" => matches!(kind, BestOfN | Beam | Lookahead | Dvts),
        "chains" => kind == Revisions,
        "ratio" => kind == Mix,
        "final" | "context" => matches!(kind, Revisions | Mix),
        _ => false,
    }
}

/// A field's value as a link writes it.
pub(crate) fn format_value(spec: &ExperimentSpec, key: &str) -> String {
    match key {
        "v" => spec.version.to_string(),
        "strategy" => spec.strategy.name().to_string(),
        "seed" => spec.seed.to_string(),
        "problem" => spec.problem.to_string(),
        "n" => spec.n.to_string(),
        "width" => match spec.width {
            BeamWidth::Fixed(m) => m.to_string(),
            BeamWidth::Sqrt => "sqrt".to_string(),
        },
        "k" => spec.k.to_string(),
        "agg" => spec.agg.name().to_string(),
        "select" => spec.select.name().to_string(),
        "rounds" => spec.rounds.to_string(),
        "chains" => spec.chains.to_string(),
        "ratio" => spec.ratio.to_string(),
        "final" => spec.final_answer.name().to_string(),
        "context" => spec.context.to_string(),
        "temperature" => spec.temperature.to_string(),
        "top_p" => spec.top_p.to_string(),
        "top_k" => spec.top_k.to_string(),
        "model" => spec.model.name().to_string(),
        _ => String::new(),
    }
}

fn int_in<T: std::str::FromStr + PartialOrd>(raw: &str, lo: T, hi: T) -> Option<T> {
    raw.parse::<T>().ok().filter(|v| *v >= lo && *v <= hi)
}

/// Sets one field from its link text, or says what was expected.
fn set_value(spec: &mut ExperimentSpec, key: &str, raw: &str) -> Result<(), String> {
    let raw = raw.trim();
    let name = raw.to_ascii_lowercase();
    let expected = |what: &str| Err(what.to_string());
    match key {
        "strategy" => match StrategyKind::from_name(&name) {
            Some(k) => spec.strategy = k,
            None => {
                let names: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
                return expected(&format!("one of {}", names.join(", ")));
            }
        },
        "seed" => match raw.parse() {
            Ok(v) => spec.seed = v,
            Err(_) => return expected("a whole number from 0 to 18446744073709551615"),
        },
        "problem" => match raw.parse() {
            Ok(v) => spec.problem = v,
            Err(_) => return expected("a problem index, a whole number from 0"),
        },
        "n" => match int_in(raw, 1, MAX_BUDGET) {
            Some(v) => spec.n = v,
            None => return expected(&format!("a budget from 1 to {MAX_BUDGET} generations")),
        },
        "width" => {
            if name == "sqrt" {
                spec.width = BeamWidth::Sqrt;
            } else {
                match int_in(raw, 1, MAX_BUDGET as usize) {
                    Some(m) => spec.width = BeamWidth::Fixed(m),
                    None => {
                        return expected(&format!("\"sqrt\" or a width from 1 to {MAX_BUDGET}"))
                    }
                }
            }
        }
        "k" => match int_in(raw, 0, 16) {
            Some(v) => spec.k = v,
            None => return expected("lookahead steps from 0 to 16"),
        },
        "agg" => match StepAggregation::from_name(&name) {
            Some(a) => spec.agg = a,
            None => return expected("one of last, min, prod"),
        },
        "select" => match Selection::from_name(&name) {
            Some(s) if s != Selection::Majority => spec.select = s,
            // Majority voting ignores the verifier: it is a strategy of its own.
            _ => return expected("naive or weighted (for majority voting use strategy=majority)"),
        },
        "rounds" => match int_in(raw, 1, 1000) {
            Some(v) => spec.rounds = v,
            None => return expected("a round limit from 1 to 1000"),
        },
        "chains" => match int_in(raw, 1, MAX_BUDGET) {
            Some(v) => spec.chains = v,
            None => return expected(&format!("a number of chains from 1 to {MAX_BUDGET}")),
        },
        "ratio" => match raw.parse::<f64>() {
            Ok(r)
                if r.is_finite() && (1.0 / MAX_BUDGET as f64..=MAX_BUDGET as f64).contains(&r) =>
            {
                spec.ratio = r
            }
            _ => {
                return expected(&format!(
                "a sequential:parallel ratio from 1/{MAX_BUDGET} to {MAX_BUDGET}, like 0.25 or 4"
            ))
            }
        },
        "final" => match RevisionSelection::from_name(&name) {
            Some(s) => spec.final_answer = s,
            None => return expected("one of last, majority, verifier"),
        },
        "context" => match int_in(raw, 1, 64) {
            Some(v) => spec.context = v,
            None => return expected("earlier attempts in context, from 1 to 64"),
        },
        "temperature" => match raw.parse::<f32>() {
            Ok(t) if (0.0..=4.0).contains(&t) => spec.temperature = t,
            _ => return expected("a temperature from 0 (greedy) to 4"),
        },
        "top_p" => match raw.parse::<f32>() {
            Ok(p) if p > 0.0 && p <= 1.0 => spec.top_p = p,
            _ => return expected("a nucleus probability above 0 and at most 1"),
        },
        "top_k" => match int_in(raw, 0, 1_000_000) {
            Some(v) => spec.top_k = v,
            None => return expected("a top-k from 0 (no limit) to 1000000"),
        },
        "model" => {
            match PolicyModel::from_name(&name) {
                Some(m) => spec.model = m,
                None => return expected(
                    "s (the small base model), l (its larger sibling L) or own (a model of your \
                     own, named by the link's own_model)",
                ),
            }
        }
        _ => return expected("a known key"),
    }
    Ok(())
}

/// Rules between fields, applied after each field is valid on its own.
fn check_consistency(spec: &mut ExperimentSpec, warnings: &mut Vec<SpecWarning>) {
    if spec.chains > spec.n || !spec.n.is_multiple_of(spec.chains) {
        let default = ExperimentSpec::default().chains;
        warnings.push(SpecWarning::Inconsistent {
            key: "chains".into(),
            value: spec.chains.to_string(),
            reason: format!(
                "the chains must divide the budget n={} into equal lengths",
                spec.n
            ),
            used: default.to_string(),
        });
        spec.chains = default;
    }
    if spec.model != PolicyModel::Small && spec.strategy.revises() {
        warnings.push(SpecWarning::Inconsistent {
            key: "model".into(),
            value: spec.model.name().into(),
            reason: format!(
                "{} runs the revision model R, and {} is not one (model={} is for the parallel \
                 strategies)",
                spec.strategy.name(),
                if spec.model == PolicyModel::Large {
                    "L"
                } else {
                    "a model of your own"
                },
                spec.model.name()
            ),
            used: PolicyModel::Small.name().into(),
        });
        spec.model = PolicyModel::Small;
    }
}

pub(crate) fn sanitize(spec: &mut ExperimentSpec) -> Vec<SpecWarning> {
    let mut warnings = Vec::new();
    let default = ExperimentSpec::default();
    spec.version = SPEC_VERSION;
    // Every field goes through the text it would have in a link, so JSON and links
    // share one set of rules.
    for key in KEYS.iter().skip(1) {
        let text = format_value(spec, key);
        let mut checked = *spec;
        match set_value(&mut checked, key, &text) {
            Ok(()) => *spec = checked,
            Err(expected) => {
                let used = format_value(&default, key);
                // The default's own text always parses.
                let _ = set_value(spec, key, &used);
                warnings.push(SpecWarning::InvalidValue {
                    key: key.to_string(),
                    value: text,
                    expected,
                    used,
                });
            }
        }
    }
    check_consistency(spec, &mut warnings);
    warnings
}

pub(crate) fn encode(spec: &ExperimentSpec) -> String {
    let default = ExperimentSpec::default();
    let mut out = String::new();
    for key in KEYS {
        let value = format_value(spec, key);
        if relevant(spec.strategy, key) || value != format_value(&default, key) {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(&percent_encode(&value));
        }
    }
    out
}

/// A query string's `key=value` pairs in order, decoded: the leading `?` is optional, empty
/// pieces are skipped, and a piece without `=` is a key with an empty value. The one way
/// links are split: the spec codec, the Compare view's codec and the page's own query
/// (`view=…`) all read through it, so they cannot disagree about what a link holds.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub(crate) fn decode(query: &str) -> Decoded {
    let mut pairs = pairs(query);
    let mut warnings = Vec::new();
    let version = pairs.iter().find(|(k, _)| k == "v").map(|(_, v)| v.trim());
    let from = match version {
        None => Some(0),
        Some(v) => match v.parse::<u32>() {
            Ok(0) => Some(0),
            Ok(SPEC_VERSION) => None,
            Ok(found) => {
                warnings.push(SpecWarning::NewerVersion { found });
                None
            }
            Err(_) => {
                warnings.push(SpecWarning::InvalidValue {
                    key: "v".into(),
                    value: v.to_string(),
                    expected: format!("a version number such as {SPEC_VERSION}"),
                    used: SPEC_VERSION.to_string(),
                });
                None
            }
        },
    };
    if from == Some(0) {
        migrate_v0(&mut pairs);
    }
    let mut spec = ExperimentSpec::default();
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in &pairs {
        let Some(&known) = KEYS.iter().find(|k| **k == key.as_str()) else {
            // Other keys belong to the page (`view`) or to newer versions and are left
            // alone, but a known key in other case or with spaces is surely a slip.
            if let Some(&known) = KEYS.iter().find(|k| k.eq_ignore_ascii_case(key.trim())) {
                warnings.push(SpecWarning::MisspelledKey {
                    key: key.clone(),
                    known: known.to_string(),
                });
            }
            continue;
        };
        if known == "v" {
            continue;
        }
        if seen.contains(&known) {
            warnings.push(SpecWarning::Duplicate {
                key: key.clone(),
                ignored: value.clone(),
            });
            continue;
        }
        seen.push(known);
        if let Err(expected) = set_value(&mut spec, known, value) {
            warnings.push(SpecWarning::InvalidValue {
                key: key.clone(),
                value: value.clone(),
                expected,
                used: format_value(&ExperimentSpec::default(), known),
            });
        }
    }
    if !seen.contains(&"seed") {
        warnings.push(SpecWarning::MissingSeed);
    }
    check_consistency(&mut spec, &mut warnings);
    spec.version = SPEC_VERSION;
    Decoded {
        spec,
        warnings,
        migrated_from: from,
    }
}

/// Version 0 → 1: renamed keys and strategy names. A link holding both a v0 name and its
/// v1 name keeps whichever comes first, as for any repeated key.
fn migrate_v0(pairs: &mut [(String, String)]) {
    for (key, value) in pairs.iter_mut() {
        if let Some((_, new)) = V0_KEYS.iter().find(|(old, _)| old == key) {
            *key = new.to_string();
        }
        if key == "strategy" {
            let lower = value.trim().to_ascii_lowercase();
            if let Some((_, new)) = V0_STRATEGIES.iter().find(|(old, _)| *old == lower) {
                *value = new.to_string();
            }
        }
    }
}

/// `%XX` escapes for everything but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Undoes `%XX` escapes and `+` for space (as forms write queries); a `%` not followed by
/// two hex digits is kept as it is, and bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
