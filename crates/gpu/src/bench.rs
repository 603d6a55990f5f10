//! Decode throughput of the GPU engine beside the CPU engine, measured the same way natively
//! (`examples/bench.rs`) and in the browser (`examples/bench_web.rs`): a shared prompt is
//! prefilled into each of `n` sequences, then `steps` tokens are decoded for all of them
//! together, timed on each engine. Speed is measured here, never asserted by a test.

use std::sync::Arc;

use ponder_model::gguf::GgufFile;
use ponder_model::transformer::{BatchItem, Transformer, Wanted};

use crate::device::Gpu;
use crate::error::Result;
use crate::model::{Capacity, GpuTransformer, Item};

/// Decode tokens per second at one number of sequences.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DecodeRate {
    pub sequences: usize,
    pub cpu_tokens_per_s: f64,
    pub gpu_tokens_per_s: f64,
}

impl DecodeRate {
    pub fn to_json(&self) -> String {
        format!(
            "{{\"sequences\": {}, \"cpu_tokens_per_s\": {:.2}, \"gpu_tokens_per_s\": {:.2}}}",
            self.sequences, self.cpu_tokens_per_s, self.gpu_tokens_per_s
        )
    }
}

/// The benchmark's prompt: 16 token ids spread over the vocabulary.
pub fn prompt(vocab_size: usize) -> Vec<u32> {
    (0..16u32)
        .map(|i| (i * 7 + 3) % vocab_size.max(1) as u32)
        .collect()
}

/// Times `steps` decode steps of each count of `sequences` on both engines. `now` gives
/// seconds (`Instant` natively, `performance.now()` in a browser).
pub async fn decode_rates(
    gpu: Arc<Gpu>,
    file: &GgufFile,
    bytes: &[u8],
    steps: usize,
    sequences: &[usize],
    now: &dyn Fn() -> f64,
) -> Result<Vec<DecodeRate>> {
    let cpu = Transformer::from_gguf(file, bytes)?;
    let prompt = prompt(cpu.vocab_size);
    let most = sequences.iter().copied().max().unwrap_or(1) as u32;
    let mut model = GpuTransformer::from_gguf(
        gpu,
        file,
        bytes,
        Capacity {
            slots: most,
            positions: (prompt.len() + steps + 1) as u32,
        },
    )
    .await?;
    let mut rates = Vec::new();
    for &n in sequences {
        // CPU: prefill each sequence, then decode `steps` tokens for all together.
        let mut caches: Vec<_> = (0..n).map(|_| cpu.new_cache()).collect();
        for cache in caches.iter_mut() {
            cpu.forward(&mut [BatchItem {
                cache,
                tokens: &prompt,
                wanted: Wanted::last_logits(prompt.len()),
            }])?;
        }
        let next = vec![[1u32]; n];
        let started = now();
        for _ in 0..steps {
            let mut items: Vec<BatchItem<'_>> = caches
                .iter_mut()
                .zip(&next)
                .map(|(cache, t)| BatchItem {
                    cache,
                    tokens: t,
                    wanted: Wanted::last_logits(1),
                })
                .collect();
            cpu.forward(&mut items)?;
        }
        let cpu_tokens_per_s = (n * steps) as f64 / (now() - started).max(1e-9);

        let slots: Vec<u32> = (0..n).map(|_| model.take_slot()).collect::<Result<_>>()?;
        for &slot in &slots {
            model
                .forward(&[Item {
                    slot,
                    start: 0,
                    tokens: &prompt,
                    wanted: Wanted::last_logits(prompt.len()),
                }])
                .await?;
        }
        let started = now();
        for step in 0..steps {
            let items: Vec<Item<'_>> = slots
                .iter()
                .zip(&next)
                .map(|(&slot, t)| Item {
                    slot,
                    start: prompt.len() + step,
                    tokens: t,
                    wanted: Wanted::last_logits(1),
                })
                .collect();
            model.forward(&items).await?;
        }
        let gpu_tokens_per_s = (n * steps) as f64 / (now() - started).max(1e-9);
        for slot in slots {
            model.release_slot(slot);
        }
        rates.push(DecodeRate {
            sequences: n,
            cpu_tokens_per_s,
            gpu_tokens_per_s,
        });
    }
    Ok(rates)
}
