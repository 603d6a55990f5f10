//! The engine driven through `ponder_core::Policy` on SmolLM2-135M-Instruct: results do
//! not depend on batching, forks continue like their source, and sampling is replayable.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use ponder_core::{DrawKey, Finish, Policy, Sampling, StepRequest, StopSpec};
use ponder_model::kv_cache::KvCache;
use ponder_model::transformer::{BatchItem, Wanted};
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

/// Prompts long enough that, prefilled together, their attention is split between two
/// threads (on a machine with two cores or more); each must still come out bit for bit as
/// when it runs alone.
#[test]
fn a_batch_split_between_threads_equals_each_item_alone() {
    let model = LanguageModel::from_gguf_bytes(&common::smollm2_bytes()).expect("loads");
    let t = &model.transformer;
    let text = "Beam search keeps the best partial solutions at every step, while best-of-N \
                samples whole solutions and lets a verifier choose among them.";
    let ids = model.tokenizer.encode(text, false);
    let prompts: Vec<Vec<u32>> = [48, 60, 72]
        .iter()
        .map(|&n| ids.iter().copied().cycle().take(n).collect())
        .collect();
    let wanted = |n: usize| Wanted {
        logits: vec![n - 1],
        hidden: vec![0, n / 2, n - 1],
    };

    let mut caches: Vec<KvCache> = prompts.iter().map(|_| t.new_cache()).collect();
    let mut items: Vec<BatchItem<'_>> = caches
        .iter_mut()
        .zip(&prompts)
        .map(|(cache, p)| BatchItem {
            cache,
            tokens: p,
            wanted: wanted(p.len()),
        })
        .collect();
    let together = t.forward(&mut items).expect("batch");

    for (p, out) in prompts.iter().zip(&together) {
        let mut cache = t.new_cache();
        let alone = t
            .forward(&mut [BatchItem {
                cache: &mut cache,
                tokens: p,
                wanted: wanted(p.len()),
            }])
            .expect("alone")
            .remove(0);
        // Not assert_eq: a mismatch would print some 150,000 logits.
        assert!(
            out == &alone,
            "a {}-token prompt gives other logits or hidden states in the batch than alone",
            p.len()
        );
    }
    for (cache, p) in caches.iter().zip(&prompts) {
        assert_eq!(cache.len(), p.len());
    }
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
