//! Counting passed and failed tests from the output of each test layer, for the one
//! summary line `cargo xtask test` ends with.

use std::fmt;

/// Passed and failed counts of one layer (or of all of them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// Reads a libtest (or wasm-bindgen-test) result line:
/// `test result: ok. 12 passed; 0 failed; 1 ignored; ...`.
pub fn libtest_line(line: &str) -> Option<Tally> {
    let rest = line.trim().strip_prefix("test result: ")?;
    Some(Tally {
        passed: count_before(rest, " passed")?,
        failed: count_before(rest, " failed")?,
    })
}

/// Reads the totals of Node's TAP reporter: `# pass 5` and `# fail 0`.
pub fn tap_line(line: &str) -> Option<Tally> {
    let line = line.trim();
    if let Some(n) = line.strip_prefix("# pass ") {
        return n
            .trim()
            .parse()
            .ok()
            .map(|passed| Tally { passed, failed: 0 });
    }
    if let Some(n) = line.strip_prefix("# fail ") {
        return n
            .trim()
            .parse()
            .ok()
            .map(|failed| Tally { passed: 0, failed });
    }
    None
}

/// The number just before `marker` ("3 passed" -> 3).
fn count_before(text: &str, marker: &str) -> Option<u64> {
    let end = text.find(marker)?;
    let start = text[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    text[start..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libtest_results() {
        assert_eq!(
            libtest_line("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s"),
            Some(Tally { passed: 12, failed: 0 })
        );
        assert_eq!(
            libtest_line("test result: FAILED. 3 passed; 2 failed; 0 ignored"),
            Some(Tally {
                passed: 3,
                failed: 2
            })
        );
        assert_eq!(libtest_line("running 3 tests"), None);
    }

    #[test]
    fn reads_tap_totals() {
        assert_eq!(
            tap_line("# pass 7"),
            Some(Tally {
                passed: 7,
                failed: 0
            })
        );
        assert_eq!(
            tap_line("# fail 1"),
            Some(Tally {
                passed: 0,
                failed: 1
            })
        );
        assert_eq!(tap_line("# tests 8"), None);
        assert_eq!(tap_line("ok 1 - page loads"), None);
    }
}
