//! The engine driven through `ponder_core::Policy` on SmolLM2-135M-Instruct: results do
//! not depend on batching, forks continue like their source, and sampling is replayable.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use ponder_core::{DrawKey, Finish, Policy, Sampling, StepRequest, StopSpec};
use ponder_model::{Engine, LanguageModel};

fn engine() -> Engine {
    let bytes = common::smollm2_bytes();
    Engine::new(LanguageModel::from_gguf_bytes(&bytes).expect("loads"))
}

const SAMPLED: Sampling = Sampling {
    temperature: 0.9,
    top_k: 50,
    top_p: 0.95,
};

fn stop() -> StopSpec {
    StopSpec {
        at_newline: true,
        answer_prefix: None,
        max_tokens: 24,
    }
}

#[test]
fn batched_sampling_equals_one_at_a_time() {
    let mut e = engine();
    assert!(e.chat, "SmolLM2-Instruct has a chat template");
    let root = e
        .start("Name three colours of the rainbow.")
        .expect("prompt");
    let keys: Vec<DrawKey> = (0..4).map(|i| DrawKey::new(7, &[1, i])).collect();

    // Four forks stepped together, in one batch.
    let forks: Vec<u64> = (0..4).map(|_| e.fork(root).expect("fork")).collect();
    let requests: Vec<StepRequest> = forks
        .iter()
        .zip(&keys)
        .map(|(&seq, &draw)| StepRequest { seq, draw })
        .collect();
    let together = e
        .step(&requests, &SAMPLED, &stop(), &mut |_, _| {})
        .expect("step");

    // The same four, one per call, in reverse order.
    let mut alone = Vec::new();
    for &draw in keys.iter().rev() {
        let seq = e.fork(root).expect("fork");
        let mut out = e
            .step(
                &[StepRequest { seq, draw }],
                &SAMPLED,
                &stop(),
                &mut |_, _| {},
            )
            .expect("step");
        alone.push(out.remove(0));
    }
    alone.reverse();
    for (a, b) in together.iter().zip(&alone) {
        assert_eq!(a.text, b.text);
        assert_eq!(a.tokens, b.tokens);
        assert_eq!(a.finish, b.finish);
    }
    // Different streams really do sample differently.
    let distinct: std::collections::HashSet<&str> =
        together.iter().map(|o| o.text.as_str()).collect();
    assert!(distinct.len() > 1, "four streams gave {distinct:?}");
}

#[test]
fn greedy_steps_stream_and_stop_at_the_newline() {
    let mut e = engine();
    let seq = e
        .start("Count from 1 to 5, one number per line.")
        .expect("prompt");
    let fork = e.fork(seq).expect("fork");
    let mut streamed = String::new();
    let out = e
        .step(
            &[StepRequest {
                seq,
                draw: DrawKey::new(0, &[0]),
            }],
            &Sampling::GREEDY,
            &stop(),
            &mut |_, piece| streamed.push_str(piece),
        )
        .expect("step")
        .remove(0);
    assert_eq!(streamed, out.text);
    assert!(out.tokens > 0);
    if out.finish == Finish::StepEnd {
        assert!(out.text.ends_with('\n'), "{:?}", out.text);
        assert_eq!(out.text.matches('\n').count(), 1);
    }
    // A fork made before the step continues identically.
    let again = e
        .step(
            &[StepRequest {
                seq: fork,
                draw: DrawKey::new(99, &[5]),
            }],
            &Sampling::GREEDY,
            &stop(),
            &mut |_, _| {},
        )
        .expect("step")
        .remove(0);
    assert_eq!(again.text, out.text);
    e.release(seq);
    e.release(fork);
    assert_eq!(e.live_sequences(), 0);
}

#[test]
fn unknown_sequences_are_errors() {
    let mut e = engine();
    assert!(e.fork(12345).is_err());
    assert!(e.append(12345, "x").is_err());
    let err = e
        .step(
            &[StepRequest {
                seq: 777,
                draw: DrawKey::new(0, &[]),
            }],
            &Sampling::GREEDY,
            &stop(),
            &mut |_, _| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("777"), "{err}");

    let seq = e.start("Hi").expect("prompt");
    let twice = [
        StepRequest {
            seq,
            draw: DrawKey::new(0, &[0]),
        },
        StepRequest {
            seq,
            draw: DrawKey::new(0, &[1]),
        },
    ];
    let err = e
        .step(&twice, &Sampling::GREEDY, &stop(), &mut |_, _| {})
        .unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
}
