//! The four built-in model files in `public/models/` load through `ponder-model` and
//! reproduce the figures their report (`docs/models.md`) pins on the validation set:
//! greedy solves per level of S and L, R's right attempts per revision step, and the
//! PRM's step AUROC. Every draw is counter-based and the kernels are bit-identical across
//! platforms, so the figures are exact, not merely close.

use std::path::Path;

use ponder_train::report::{pinned, read_pinned, ReportSettings, TrainingRecord, FILES};

#[test]
fn the_built_in_models_reproduce_the_pinned_figures_of_their_report() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let report = std::fs::read_to_string(root.join("docs/models.md")).expect("docs/models.md");
    let recorded = read_pinned(&report).expect("the report records pinned figures");
    let measured =
        pinned(&root.join("public/models"), &ReportSettings::default()).expect("measured");
    assert_eq!(
        measured.s_greedy, recorded.s_greedy,
        "S greedy solves per level"
    );
    assert_eq!(
        measured.l_greedy, recorded.l_greedy,
        "L greedy solves per level"
    );
    assert_eq!(
        measured.r_right_by_step, recorded.r_right_by_step,
        "R right attempts per revision step"
    );
    assert!(
        (measured.prm_step_auroc - recorded.prm_step_auroc).abs() < 1e-9,
        "PRM step AUROC {} vs recorded {}",
        measured.prm_step_auroc,
        recorded.prm_step_auroc
    );
}

/// The README's training commands are the ones `training.json` records for the shipped
/// files, so a reader who reruns them gets these files, not an older recipe.
#[test]
fn the_readme_gives_the_command_that_made_each_built_in_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let records = TrainingRecord::read_all(&root.join("public/models")).expect("training.json");
    assert_eq!(records.len(), FILES.len(), "one record per built-in file");
    for record in &records {
        let args = record
            .command
            .strip_prefix("ponder-train ")
            .unwrap_or_else(|| panic!("{}: command {:?}", record.file, record.command));
        let line = format!("cargo run --release -p ponder-train -- {args}");
        assert!(
            readme.lines().any(|l| l.trim() == line),
            "README.md lacks the command of {}: {line}",
            record.file
        );
    }
}
