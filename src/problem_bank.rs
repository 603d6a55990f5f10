//! The problems the Compare view offers: the shipped test set (`public/problems/test.json`),
//! generated here by the same seeded generator that wrote the file, so the page needs no
//! download before it can show a problem and cannot disagree with `ponder run` about what
//! `problem=N` means (a native test checks the generated set against the file).

use std::cell::OnceCell;

use ponder_core::arithmetic::set::TEST_SET;
use ponder_core::arithmetic::{HeldOut, ProblemSet, SetProblem};

thread_local! {
    static TEST: OnceCell<Result<ProblemSet, String>> = const { OnceCell::new() };
}

/// Runs `f` on the test set (generated once per page).
pub fn with_test_set<R>(f: impl FnOnce(Result<&ProblemSet, &str>) -> R) -> R {
    TEST.with(|cell| {
        let set = cell.get_or_init(|| {
            ProblemSet::generate(&TEST_SET, &HeldOut::new()).map_err(|e| e.to_string())
        });
        f(set.as_ref().map_err(String::as_str))
    })
}

/// The problem at `index` of the test set.
pub fn problem(index: u64) -> Option<SetProblem> {
    with_test_set(|set| set.ok()?.problems.get(index as usize).cloned())
}

/// The indices of the test set's problems at `level`, in order.
pub fn indices_at(level: u8) -> Vec<u64> {
    with_test_set(|set| {
        set.map(|s| {
            s.problems
                .iter()
                .enumerate()
                .filter(|(_, p)| p.level.number() == level)
                .map(|(i, _)| i as u64)
                .collect()
        })
        .unwrap_or_default()
    })
}

/// The number of problems in the test set.
pub fn len() -> u64 {
    with_test_set(|set| set.map_or(0, |s| s.problems.len() as u64))
}

/// The default race's problem: `54+(77-99)*64`, the 25th of level 3, where at the default
/// settings (seed 1, budget 16) the two columns disagree and only one finds the answer,
/// which shows at first sight that how compute is spent matters. (Of level 3's first 30
/// problems at those settings, both columns were right on 7, only best-of-N on 1, only
/// revisions on 2, neither on 20.)
pub const DEFAULT_INDEX: u64 = 224;

/// The classroom tour's problems (see `views::classroom::TOUR`), chosen where the lesson
/// shows at seed 1 and budget 16: majority voting wrong and weighted best-of-N right; on
/// a level-1 problem revisions right and beam search wrong; on a level-4 problem the
/// reverse; weighted best-of-16 on S and best-of-2 on L both right on a level-2 problem;
/// and on a level-4 problem only L right (as on 27 of the 28 problems of levels 2 and 4
/// tried, 100-111 and 300-315, where L was right on all and S on 6).
pub const TOUR_PROBLEMS: [u64; 5] = [106, 0, 318, 104, 300];

pub fn default_index() -> u64 {
    DEFAULT_INDEX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_set_is_the_shipped_file() {
        let file = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public/problems/test.json"),
        )
        .expect("public/problems/test.json is part of the repository");
        let shipped: ProblemSet = serde_json::from_str(&file).expect("the file is a problem set");
        with_test_set(|set| assert_eq!(set.expect("generates"), &shipped));
        assert_eq!(len(), 500);
        assert_eq!(indices_at(3).len(), 100);
        let p = problem(default_index()).unwrap();
        assert_eq!(p.level.number(), 3);
        // The tour's stops are at the levels its captions name.
        let levels: Vec<u8> = TOUR_PROBLEMS
            .iter()
            .map(|&i| problem(i).unwrap().level.number())
            .collect();
        assert_eq!(levels, vec![2, 1, 4, 2, 4]);
    }
}
