//! View state kept in the URL query, so that every view can be linked, reloaded and
//! shared, and the site needs no server rewrites (the path never changes; only `?…` does).
//!
//! The query holds the current view (`view=compare`) and whatever state the views add.
//! Keys this version does not know are kept as they are, so a link made by a newer
//! version loses nothing when it passes through an older page.

use std::fmt;

use ponder_core::spec::comparison::{self, Comparison};
use ponder_core::spec::query::{pairs, percent_encode, KEYS};

/// The views of the app, each reachable from the navigation bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum View {
    #[default]
    Compare,
    Experiment,
    Classroom,
    Models,
    About,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Compare,
        View::Experiment,
        View::Classroom,
        View::Models,
        View::About,
    ];

    /// The name used in the URL (`?view=…`).
    pub fn slug(self) -> &'static str {
        match self {
            View::Compare => "compare",
            View::Experiment => "experiment",
            View::Classroom => "classroom",
            View::Models => "models",
            View::About => "about",
        }
    }

    /// The name shown in the navigation bar.
    pub fn title(self) -> &'static str {
        match self {
            View::Compare => "Compare",
            View::Experiment => "Experiment",
            View::Classroom => "Classroom",
            View::Models => "Models",
            View::About => "About",
        }
    }

    pub fn from_slug(slug: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.slug() == slug)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// The parsed query: the view, every other key in order, and what could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlState {
    pub view: View,
    /// Every key other than `view`, in the order it appeared.
    pub params: Vec<(String, String)>,
    /// Human-readable notes about the link: values replaced by defaults, keys given twice,
    /// what the experiment codec could not use.
    pub warnings: Vec<String>,
}

impl UrlState {
    /// Parses a query string, with or without the leading `?`. Never fails: an unknown
    /// view falls back to the default and is reported in `warnings`.
    pub fn parse(query: &str) -> UrlState {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut state = UrlState::default();
        let mut view_given = false;
        for (key, value) in pairs(query) {
            if key == "view" && view_given {
                state.warnings.push(format!(
                    "the link gives \"view\" more than once; the first, \"{}\", is used",
                    state.view.slug()
                ));
            } else if key == "view" {
                view_given = true;
                match View::from_slug(&value) {
                    Some(view) => state.view = view,
                    None => state.warnings.push(format!(
                        "unknown view \"{}\" in the link; showing {} instead",
                        shortened(&value),
                        View::default().title()
                    )),
                }
            } else if state.get(&key).is_some() && is_experiment_key(&key) {
                // The experiment codec reports it below, in its own words.
            } else if let Some(kept) = state.get(&key) {
                // The first value wins, as in the experiment codec (`ponder_core::spec`),
                // so the page and `ponder run` read a link alike.
                let note = format!(
                    "the link gives \"{}\" more than once; the first value, \"{}\", is used",
                    shortened(&key),
                    shortened(kept)
                );
                state.warnings.push(note);
            } else {
                state.params.push((key, value));
            }
        }
        if state.has_experiment() {
            // What the experiment codec could not use, in its words (the Compare view
            // runs the link; `ponder run` reads it the same way).
            let (_, notes) = Comparison::from_query(query);
            state.warnings.extend(
                notes
                    .iter()
                    .map(|n| format!("This link: {}", shortened_long(n))),
            );
        }
        state
    }

    /// The query string for this state, starting with `?`, view first.
    pub fn to_query(&self) -> String {
        let mut out = format!("?view={}", self.view.slug());
        for (key, value) in &self.params {
            out.push('&');
            out.push_str(&percent_encode(key));
            out.push('=');
            out.push_str(&percent_encode(value));
        }
        out
    }

    /// The same state showing another view; other keys are kept.
    pub fn with_view(&self, view: View) -> UrlState {
        UrlState {
            view,
            params: self.params.clone(),
            warnings: Vec::new(),
        }
    }

    /// Whether the query names an experiment (any key of the experiment codec).
    pub fn has_experiment(&self) -> bool {
        self.params.iter().any(|(k, _)| is_experiment_key(k))
    }

    /// Replaces the experiment's keys with those of `query` (a comparison's link text),
    /// keeping every other key; clears the notes about the old link.
    pub fn set_experiment(&mut self, query: &str) {
        self.params.retain(|(k, _)| !is_experiment_key(k));
        self.params.extend(pairs(query));
        self.warnings.clear();
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets (or with `None` removes) a key, keeping the position of an existing one.
    pub fn set(&mut self, key: &str, value: Option<&str>) {
        match (self.params.iter().position(|(k, _)| k == key), value) {
            (Some(i), Some(v)) => self.params[i].1 = v.to_string(),
            (Some(i), None) => {
                self.params.remove(i);
            }
            (None, Some(v)) => self.params.push((key.to_string(), v.to_string())),
            (None, None) => {}
        }
    }
}

/// Whether `key` belongs to the experiment codec (`strategy`, `left.width`, `q`, …).
pub fn is_experiment_key(key: &str) -> bool {
    let bare = key
        .strip_prefix(comparison::LEFT)
        .or_else(|| key.strip_prefix(comparison::RIGHT))
        .unwrap_or(key);
    bare != key
        || KEYS.contains(&bare)
        || bare == comparison::CUSTOM_PROBLEM_KEY
        || bare == comparison::OWN_MODEL_KEY
}

/// A codec note as the page shows it: at most 200 characters.
fn shortened_long(note: &str) -> String {
    match note.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &note[..at]),
        None => note.to_string(),
    }
}

/// A value as a warning quotes it: at most 40 characters, so a long link cannot flood the
/// page.
fn shortened(value: &str) -> String {
    const SHOWN: usize = 40;
    match value.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_told_what_the_page_did_with_them() {
        // A key given twice: the first value wins, as in `ponder run`, and the page says so.
        let s = UrlState::parse("seed=1&seed=2");
        assert_eq!(s.get("seed"), Some("1"));
        let twice = UrlState::parse("view=about&view=models");
        assert_eq!(twice.view, View::About);
        assert_eq!(twice.warnings.len(), 1, "{:?}", twice.warnings);
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(
            s.warnings[0].contains("seed appears more than once"),
            "{:?}",
            s.warnings
        );
        // An experiment link is read by the experiment codec, whose notes are shown.
        let s = UrlState::parse("v=1&strategy=beam&seed=7&n=16&problem=3");
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        assert!(s.has_experiment());
        let s = UrlState::parse("v=1&strategy=beam&seed=7&n=0");
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        assert!(s.warnings[0].contains("n=\"0\""), "{:?}", s.warnings);
        // A long value is cut in the message, not in the state.
        let long = "x".repeat(500);
        let s = UrlState::parse(&format!("view={long}"));
        assert!(s.warnings[0].chars().count() < 120, "{}", s.warnings[0]);
    }

    #[test]
    fn empty_query_is_the_default_view() {
        let s = UrlState::parse("");
        assert_eq!(s.view, View::Compare);
        assert!(s.params.is_empty() && s.warnings.is_empty());
        assert_eq!(s.to_query(), "?view=compare");
    }

    #[test]
    fn every_view_round_trips() {
        for view in View::ALL {
            let s = UrlState::parse(&format!("?view={}", view.slug()));
            assert_eq!(s.view, view);
            assert_eq!(UrlState::parse(&s.to_query()), s);
        }
    }

    #[test]
    fn unknown_view_falls_back_with_a_warning() {
        let s = UrlState::parse("view=nope&seed=3");
        assert_eq!(s.view, View::Compare);
        assert_eq!(s.warnings.len(), 1);
        assert!(s.warnings[0].contains("nope"));
        assert_eq!(s.get("seed"), Some("3"));
    }

    #[test]
    fn other_keys_survive_navigation_in_order() {
        let s = UrlState::parse("?seed=7&view=about&problem=2%2B3%20*%204");
        assert_eq!(s.get("problem"), Some("2+3 * 4"));
        let moved = s.with_view(View::Models);
        assert_eq!(
            moved.to_query(),
            "?view=models&seed=7&problem=2%2B3%20%2A%204"
        );
        assert_eq!(UrlState::parse(&moved.to_query()).params, s.params);
    }

    #[test]
    fn set_replaces_in_place_and_removes() {
        let mut s = UrlState::parse("a=1&b=2");
        s.set("a", Some("9"));
        s.set("c", Some("3"));
        s.set("b", None);
        assert_eq!(s.to_query(), "?view=compare&a=9&c=3");
    }
}
