//! The experiment-spec link decoder on arbitrary input: it must never panic, whatever it
//! decodes must be a valid spec (sanitizing changes nothing), and writing that spec as a
//! link and reading it back must give the same spec with no warnings.
//!
//! `cargo +nightly fuzz run spec_query -- -dict=spec_query.dict`

#![no_main]

use libfuzzer_sys::fuzz_target;
use ponder_core::ExperimentSpec;

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let first = ExperimentSpec::from_query(&query);

    let mut sanitized = first.spec;
    assert!(sanitized.sanitize().is_empty(), "decoded spec needed fixing: {:?}", first.spec);
    assert_eq!(sanitized, first.spec);

    let link = first.spec.to_query();
    let again = ExperimentSpec::from_query(&link);
    assert_eq!(again.spec, first.spec, "round trip changed the spec via {link}");
    assert!(again.warnings.is_empty(), "{link} warned: {:?}", again.warnings);
    assert_eq!(again.migrated_from, None);

    // Every decoded spec names a strategy whose cost can be worked out.
    let _ = first.spec.strategy().generations();
});
