//! The engine on the GPU against the engine on the CPU: greedy decoding and whole
//! strategy runs on the built-in models.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use ponder_core::arithmetic::{shipped_sets, ArithmeticTask, Problem};
use ponder_core::spec::ExperimentSpec;
use ponder_core::strategy::Context;
use ponder_core::{DrawKey, Task};
use ponder_gpu::model::{load, Capacity};
use ponder_model::forward::Forward;
use ponder_model::sampler::SamplingParams;
use ponder_model::{Engine, LanguageModel};

fn problems(per_level: usize) -> Vec<Problem> {
    let sets = shipped_sets().expect("the shipped sets generate");
    let test = sets.iter().find(|s| s.name == "test").expect("a test set");
    let all = test.problems().expect("problems");
    // The set is ordered by level; take the first few of each.
    let per = test.per_level;
    (0..all.len() / per)
        .flat_map(|level| all[level * per..level * per + per_level].iter().cloned())
        .collect()
}

fn cpu(name: &str) -> Engine {
    Engine::new(LanguageModel::from_gguf_bytes(&common::built_in(name)).expect("loads"))
}

fn gpu_engine(
    gpu: &std::sync::Arc<ponder_gpu::Gpu>,
    name: &str,
) -> Engine<ponder_gpu::model::GpuTransformer> {
    let bytes = common::built_in(name);
    let model = pollster::block_on(load(
        gpu.clone(),
        &bytes,
        Capacity {
            slots: 8,
            positions: 4096,
        },
    ))
    .expect("loads on the GPU");
    Engine::new(model)
}

fn greedy<F: Forward>(engine: &mut Engine<F>, prompt: &str) -> Vec<u32> {
    let tokens = engine.encode_prompt(prompt).expect("encodes");
    let seq = engine.start_tokens(&tokens).expect("a sequence");
    let params = SamplingParams {
        temperature: 0.0,
        top_k: 0,
        top_p: 1.0,
    };
    engine
        .generate(
            seq,
            &params,
            DrawKey { seed: 0, stream: 0 },
            120,
            &mut |_| {},
        )
        .expect("generates")
}

/// Greedy decoding on the GPU gives the CPU's tokens: at least 99% of them, counted up
/// to each attempt's first difference (after which the two texts need not meet again).
/// (On lavapipe all of them agree: the kernels round as the CPU does.)
#[test]
fn greedy_decoding_agrees_with_the_cpu() {
    let gpu = common::gpu();
    for name in ["ponder-s", "ponder-l"] {
        let (mut c, mut g) = (cpu(name), gpu_engine(&gpu, name));
        let (mut agreed, mut total) = (0, 0);
        for p in problems(2) {
            let prompt = ArithmeticTask.prompt(&p);
            let (a, b) = (greedy(&mut c, &prompt), greedy(&mut g, &prompt));
            total += a.len();
            agreed += a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        }
        let share = agreed as f64 / total as f64;
        println!(
            "{name}: {agreed} of {total} greedy tokens agree ({:.2}%)",
            share * 100.0
        );
        assert!(
            share >= 0.99,
            "{name}: only {agreed} of {total} greedy tokens agree"
        );
    }
}

fn run<F: Forward, G: Forward>(
    spec: &ExperimentSpec,
    problem: &Problem,
    policy: &mut Engine<F>,
    verifier: &mut Engine<G>,
) -> Option<String> {
    let task = ArithmeticTask;
    let mut ctx = Context::new(policy, verifier, &task, problem).with_max_batch(16);
    spec.run(&mut ctx).expect("the run completes").answer
}

/// Weighted best-of-N, beam search and revisions select the same answers on the GPU as on
/// the CPU: with bit-identical logits and the same counter-based draws, every sample is
/// the same, so no difference is allowed.
#[test]
fn strategies_select_the_cpus_answers() {
    let gpu = common::gpu();
    let mut s = (cpu("ponder-s"), gpu_engine(&gpu, "ponder-s"));
    let mut r = (cpu("ponder-r"), gpu_engine(&gpu, "ponder-r"));
    let mut prm = (cpu("ponder-prm"), gpu_engine(&gpu, "ponder-prm"));
    let links = [
        "strategy=best-of-n&n=8&seed=5",
        "strategy=beam&n=8&seed=5",
        "strategy=revisions&n=4&seed=5",
    ];
    let (mut same, mut total) = (0, 0);
    for link in links {
        let spec = ExperimentSpec::from_query(link).spec;
        for (i, p) in problems(1).iter().enumerate() {
            let mut spec = spec;
            spec.problem = i as u64;
            let (on_cpu, on_gpu) = if spec.strategy.revises() {
                (
                    run(&spec, p, &mut r.0, &mut prm.0),
                    run(&spec, p, &mut r.1, &mut prm.1),
                )
            } else {
                (
                    run(&spec, p, &mut s.0, &mut prm.0),
                    run(&spec, p, &mut s.1, &mut prm.1),
                )
            };
            total += 1;
            same += usize::from(on_cpu == on_gpu);
            if on_cpu != on_gpu {
                println!("{link}, problem {i}: CPU {on_cpu:?}, GPU {on_gpu:?}");
            }
        }
    }
    println!("{same} of {total} runs select the same answer");
    assert_eq!(same, total);
}
