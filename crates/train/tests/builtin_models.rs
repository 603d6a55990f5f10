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
        if let Some(command) = &record.metadata_command {
            let args = command
                .strip_prefix("ponder-train ")
                .unwrap_or_else(|| panic!("{}: metadata command {command:?}", record.file));
            let line = format!("cargo run --release -p ponder-train -- {args}");
            assert!(
                readme.lines().any(|l| l.trim() == line),
                "README.md lacks the metadata command of {}: {line}",
                record.file
            );
        }
    }
}

/// The shipped files hold the weights their training wrote, byte for byte, whatever
/// rewrote their metadata since: `training.json` records a digest of each file's weights
/// taken from the file as trained.
#[test]
fn the_built_in_files_hold_the_weights_their_training_wrote() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("public/models");
    for record in TrainingRecord::read_all(&dir).expect("training.json") {
        let bytes = std::fs::read(dir.join(&record.file)).expect("model file");
        let recorded = record
            .weights_fnv1a
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no weights_fnv1a in training.json", record.file));
        assert_eq!(
            ponder_train::rewrite::weights_digest(&bytes).expect("digest"),
            recorded,
            "{}",
            record.file
        );
        // Rewriting the metadata again changes nothing: the files are what the exporter
        // writes today.
        let again = ponder_train::rewrite::rewrite(&bytes, None).expect("rewrite");
        assert!(
            again == bytes,
            "{} is not as the exporter writes it",
            record.file
        );
    }
}

/// What llama.cpp and the apps on it read: the standard keys with the types readers
/// require, and for the PRM a head kept in metadata, so the tensors are all llama's.
#[test]
fn the_built_in_files_carry_the_metadata_apps_read() {
    use ponder_model::gguf::{GgufFile, MetadataValue};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../public/models");
    for (_, file) in FILES {
        let bytes = std::fs::read(dir.join(file)).expect("model file");
        // The strict reader refuses standard arrays of the wrong element type.
        let gguf = GgufFile::read(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let text = |key: &str| {
            gguf.metadata(key)
                .and_then(MetadataValue::as_str)
                .unwrap_or_else(|| panic!("{file} lacks {key}"))
                .to_string()
        };
        assert!(text("general.name").starts_with("Ponder "), "{file}");
        assert!(text("general.description").contains("Problem: "), "{file}");
        assert_eq!(text("general.license"), "MIT OR Apache-2.0", "{file}");
        assert!(text("general.size_label").ends_with('M'), "{file}");
        assert_eq!(
            gguf.metadata("general.file_type"),
            Some(&MetadataValue::U32(7)),
            "{file}: Q8_0"
        );
        assert_eq!(
            gguf.metadata("general.quantization_version"),
            Some(&MetadataValue::U32(2)),
            "{file}"
        );
        assert!(
            gguf.tensors()
                .iter()
                .all(|t| !t.name.starts_with("prm_head")),
            "{file}: llama.cpp refuses tensors its architecture lacks"
        );
    }
}
