//! Decode throughput of the GPU engine beside the CPU engine, in one run: tokens per
//! second at 1, 16 and 64 sequences decoded together, after a shared prompt.
//!
//! `cargo xtask bench gpu` runs it (natively, on lavapipe unless `VK_DRIVER_FILES` names
//! another driver). On a software GPU the absolute numbers say nothing about a real GPU's
//! speed; the output says which adapter measured them.
//!
//! Usage: `bench MODEL.gguf [steps] [--json OUT]`

#[cfg(target_arch = "wasm32")]
fn main() {
    // The browser's numbers come from the page; this harness measures natively.
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Err(e) = native::run() {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::sync::Arc;
    use std::time::Instant;

    use ponder_gpu::model::{Capacity, GpuTransformer, Item};
    use ponder_gpu::Gpu;
    use ponder_model::gguf::GgufFile;
    use ponder_model::transformer::{BatchItem, Transformer, Wanted};

    pub fn run() -> Result<(), Box<dyn std::error::Error>> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let path = args
            .first()
            .ok_or("usage: bench MODEL.gguf [steps] [--json OUT]")?;
        let steps: usize = args
            .get(1)
            .filter(|a| !a.starts_with("--"))
            .map_or(Ok(16), |s| s.parse())?;
        let json_out = args
            .iter()
            .position(|a| a == "--json")
            .and_then(|i| args.get(i + 1));
        let bytes = std::fs::read(path)?;
        let file = GgufFile::read(&bytes)?;
        let cpu = Transformer::from_gguf(&file, &bytes)?;
        let gpu = Arc::new(Gpu::new_blocking()?);
        let r = &gpu.report;
        let software = r.device_type == "Cpu";
        println!(
            "adapter: {} ({}, {}){}",
            r.name,
            r.backend,
            r.device_type,
            if software {
                " — a software GPU: its speed says nothing about a real one"
            } else {
                ""
            }
        );
        let prompt: Vec<u32> = (0..16u32)
            .map(|i| (i * 7 + 3) % cpu.vocab_size as u32)
            .collect();
        let positions = (prompt.len() + steps + 1) as u32;
        let mut model = pollster::block_on(GpuTransformer::from_gguf(
            gpu.clone(),
            &file,
            &bytes,
            Capacity {
                slots: 64,
                positions,
            },
        ))?;
        let mut rows = Vec::new();
        println!(
            "{:>10} {:>14} {:>14} {:>8}",
            "sequences", "CPU tokens/s", "GPU tokens/s", "GPU/CPU"
        );
        for n in [1usize, 16, 64] {
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
            let started = Instant::now();
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
            let cpu_rate = (n * steps) as f64 / started.elapsed().as_secs_f64();

            let slots: Vec<u32> = (0..n)
                .map(|_| model.take_slot())
                .collect::<Result<_, _>>()?;
            for &slot in &slots {
                pollster::block_on(model.forward(&[Item {
                    slot,
                    start: 0,
                    tokens: &prompt,
                    wanted: Wanted::last_logits(prompt.len()),
                }]))?;
            }
            let started = Instant::now();
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
                pollster::block_on(model.forward(&items))?;
            }
            let gpu_rate = (n * steps) as f64 / started.elapsed().as_secs_f64();
            for slot in slots {
                model.release_slot(slot);
            }
            println!(
                "{n:>10} {cpu_rate:>14.1} {gpu_rate:>14.1} {:>8.2}",
                gpu_rate / cpu_rate
            );
            rows.push(format!(
                "{{\"sequences\": {n}, \"cpu_tokens_per_s\": {cpu_rate:.2}, \"gpu_tokens_per_s\": {gpu_rate:.2}}}"
            ));
        }
        if let Some(out) = json_out {
            let json = format!(
                "{{\"model\": {:?}, \"adapter\": {:?}, \"device_type\": {:?}, \"software_gpu\": {software}, \"steps\": {steps}, \"rows\": [{}]}}\n",
                path,
                r.name,
                r.device_type,
                rows.join(", ")
            );
            std::fs::write(out, json)?;
            println!("written: {out}");
        }
        Ok(())
    }
}
