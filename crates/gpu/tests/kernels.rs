//! Each kernel against the CPU engine over generated shapes, odd sizes included. The
//! kernels that mirror the CPU's arithmetic (quantization and quantized products, RMS
//! norm, rotary embeddings, embedding rows) must give its bits; the dense product of
//! matmul.wgsl sums in its own order and is held to a stated tolerance.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{weights, Numbers};

use ponder_gpu::device::{f32_bytes, f32s, u32_bytes, Gpu};
use ponder_gpu::kernels::embedding::Embedding;
use ponder_gpu::kernels::matmul::{self, MatMul, Weights};
use ponder_gpu::kernels::qmatmul::{self, Layout, QMatMul};
use ponder_gpu::kernels::quantize::{Quantize, Quantized};
use ponder_gpu::kernels::rms_norm::{self, RmsNorm};
use ponder_gpu::kernels::rope::Rope;
use ponder_gpu::kernels::{uniform, Counts, WeightType};
use ponder_model::config::{Architecture, ModelConfig, RopeLayout};
use ponder_model::qmatmul::{dequantize_row, f16_to_f32, BlockType, QMatrix};

/// The CPU engine's reading of a row (ponder_model checks its readers against ggml's).
fn dequantized(ty: WeightType, row: &[u8]) -> Vec<f32> {
    let block = match ty {
        WeightType::F32 => return f32s(row),
        WeightType::F16 => {
            return row
                .chunks_exact(2)
                .map(|h| f16_to_f32(u16::from_le_bytes([h[0], h[1]])))
                .collect()
        }
        other => block_type(other),
    };
    dequantize_row(Some(block), row).expect("blocks")
}

fn block_type(ty: WeightType) -> BlockType {
    BlockType::from_tensor_type(ty.tensor_type()).unwrap_or_else(|| panic!("{ty:?} has no blocks"))
}

fn counts(gpu: &Gpu, c: Counts) -> wgpu::Buffer {
    let buffer = uniform(gpu, "counts", &[0]);
    gpu.queue.write_buffer(&buffer, 0, &c.bytes());
    buffer
}

fn submit(gpu: &Gpu, record: impl FnOnce(&mut wgpu::ComputePass<'_>)) {
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        record(&mut pass);
    }
    gpu.queue.submit([encoder.finish()]);
}

fn read(gpu: &Gpu, buffer: &wgpu::Buffer, values: usize) -> Vec<f32> {
    f32s(&pollster::block_on(gpu.read(buffer, values as u64 * 4)).expect("reads back"))
}

/// (rows, columns, tokens): odd counts of rows, blocks and tokens; rows that share a
/// workgroup with absent ones; rows of more blocks than qmatmul.wgsl takes per chunk (16),
/// ending inside a chunk (18 and 50 blocks) or on its edge (32).
const SHAPES: [(usize, usize, usize); 7] = [
    (1, 32, 1),
    (13, 96, 3),
    (70, 160, 9),
    (257, 128, 17),
    (5, 576, 4),
    (3, 1600, 6),
    (6, 1024, 1),
];
/// The same for the K types, whose rows are whole super-blocks of 256.
const K_SHAPES: [(usize, usize, usize); 5] = [
    (1, 256, 1),
    (13, 512, 3),
    (70, 256, 9),
    (5, 768, 17),
    (3, 1536, 6),
];
/// The types with blocks, which the quantized products read.
fn quantized() -> Vec<WeightType> {
    WeightType::ALL
        .into_iter()
        .filter(|&ty| qmatmul::handles(ty))
        .collect()
}

fn shapes(ty: WeightType) -> &'static [(usize, usize, usize)] {
    if ty.file_block().0 == 256 {
        &K_SHAPES
    } else {
        &SHAPES
    }
}

/// quantize.wgsl then the product, in both layouts, give qmatmul.rs's bits, with the
/// residual add.
#[test]
fn quantized_products_equal_the_cpu_kernels() {
    let gpu = common::gpu();
    let quantize = pollster::block_on(Quantize::new(&gpu)).expect("compiles");
    for layout in [Layout::Cooperative, Layout::RowPerThread] {
        let products =
            pollster::block_on(QMatMul::with_layout(&gpu, &quantized(), layout)).expect("compiles");
        quantized_products_in(&gpu, &quantize, &products);
    }
}

fn quantized_products_in(gpu: &Gpu, quantize: &Quantize, products: &QMatMul) {
    let mut n = Numbers(7);
    for ty in quantized() {
        for &(rows, cols, tokens) in shapes(ty) {
            let bytes = weights(ty, rows, cols, &mut n);
            let x: Vec<f32> = (0..tokens * cols).map(|_| n.value() * 3.0).collect();
            let base: Vec<f32> = (0..tokens * rows).map(|_| n.value()).collect();
            let cpu = QMatrix::new(block_type(ty), rows, cols, &bytes)
                .expect("a matrix")
                .matmul(&x);
            let expected: Vec<f32> = base.iter().zip(&cpu).map(|(a, b)| a + b).collect();

            let w = Weights::upload(gpu, "w", ty, rows, cols, &bytes).expect("uploads");
            let xb = gpu.storage_with("x", &f32_bytes(&x)).expect("x");
            let y = gpu.storage_with("y", &f32_bytes(&base)).expect("y");
            let q = Quantized::new(gpu, tokens as u64, cols as u64).expect("room");
            let c = counts(
                gpu,
                Counts {
                    tokens: tokens as u32,
                    logit_rows: 0,
                    norm_rows: 0,
                },
            );
            let qb = quantize.bind(gpu, cols as u32, false, &xb, &q, &c);
            let pb = products
                .bind(
                    gpu,
                    &w,
                    qmatmul::Io {
                        x: &q,
                        y: &y,
                        bias: None,
                        accumulate: true,
                        logit_rows: false,
                        counts: &c,
                    },
                )
                .expect("binds");
            submit(gpu, |pass| {
                quantize.encode(pass, &qb, tokens as u32, 0);
                products.encode(pass, &pb, tokens as u32, 0);
            });
            assert_eq!(
                read(gpu, &y, tokens * rows),
                expected,
                "{:?}: {ty:?} {rows}x{cols}, {tokens} tokens",
                products.layout()
            );
        }
    }
}

/// matmul.wgsl (f32 activations, every weight type) against an f64 reference of the
/// dequantized weights, with a bias: within 1e-5 of the row's largest |term| sum.
#[test]
fn dense_products_match_an_f64_reference() {
    let gpu = common::gpu();
    let mut n = Numbers(11);
    let products = pollster::block_on(MatMul::new(&gpu, &WeightType::ALL)).expect("compiles");
    for ty in WeightType::ALL {
        for &(rows, cols, tokens) in shapes(ty) {
            let bytes = weights(ty, rows, cols, &mut n);
            let row_bytes = bytes.len() / rows;
            let x: Vec<f32> = (0..tokens * cols).map(|_| n.value()).collect();
            let bias: Vec<f32> = (0..rows).map(|_| n.value()).collect();
            let w = Weights::upload(&gpu, "w", ty, rows, cols, &bytes).expect("uploads");
            let xb = gpu.storage_with("x", &f32_bytes(&x)).expect("x");
            let bb = gpu.storage_with("bias", &f32_bytes(&bias)).expect("bias");
            let y = gpu.storage("y", (tokens * rows * 4) as u64).expect("y");
            let c = counts(
                &gpu,
                Counts {
                    tokens: tokens as u32,
                    logit_rows: 0,
                    norm_rows: 0,
                },
            );
            let b = products
                .bind(
                    &gpu,
                    &w,
                    matmul::Io {
                        x: &xb,
                        y: &y,
                        bias: Some(&bb),
                        accumulate: false,
                        logit_rows: false,
                        counts: &c,
                    },
                )
                .expect("binds");
            submit(&gpu, |pass| products.encode(pass, &b, tokens as u32, 0));
            let got = read(&gpu, &y, tokens * rows);
            for t in 0..tokens {
                for r in 0..rows {
                    let wr = dequantized(ty, &bytes[r * row_bytes..(r + 1) * row_bytes]);
                    let xr = &x[t * cols..(t + 1) * cols];
                    let exact: f64 = wr
                        .iter()
                        .zip(xr)
                        .map(|(&a, &b)| f64::from(a) * f64::from(b))
                        .sum::<f64>()
                        + f64::from(bias[r]);
                    let size: f64 = wr
                        .iter()
                        .zip(xr)
                        .map(|(&a, &b)| (f64::from(a) * f64::from(b)).abs())
                        .sum::<f64>()
                        + f64::from(bias[r].abs());
                    let err = (f64::from(got[t * rows + r]) - exact).abs();
                    assert!(
                        err <= 1e-5 * size.max(1e-3),
                        "{ty:?} {rows}x{cols} token {t} row {r}: {} vs {exact}",
                        got[t * rows + r]
                    );
                }
            }
        }
    }
}

/// embedding.wgsl unpacks the requested rows exactly as the CPU engine's readers do.
#[test]
fn embedding_rows_equal_the_dequantized_rows() {
    let gpu = common::gpu();
    let mut n = Numbers(13);
    for ty in WeightType::ALL {
        let (vocab, width) = (37, shapes(ty)[1].1);
        let bytes = weights(ty, vocab, width, &mut n);
        let table = Weights::upload(&gpu, "table", ty, vocab, width, &bytes).expect("uploads");
        let kernel = pollster::block_on(Embedding::new(&gpu, &table)).expect("compiles");
        let ids: Vec<u32> = vec![0, 36, 5, 5, 17];
        let idb = gpu.storage_with("ids", &u32_bytes(&ids)).expect("ids");
        let x = gpu.storage("x", (ids.len() * width * 4) as u64).expect("x");
        let c = counts(
            &gpu,
            Counts {
                tokens: ids.len() as u32,
                logit_rows: 0,
                norm_rows: 0,
            },
        );
        let bind = kernel.bind(&gpu, &table, [&idb, &x, &c]);
        submit(&gpu, |pass| kernel.encode(pass, &bind, ids.len() as u32));
        let got = read(&gpu, &x, ids.len() * width);
        let row_bytes = bytes.len() / vocab;
        let expected: Vec<f32> = ids
            .iter()
            .flat_map(|&id| {
                dequantized(
                    ty,
                    &bytes[id as usize * row_bytes..(id as usize + 1) * row_bytes],
                )
            })
            .collect();
        assert_eq!(got, expected, "{ty:?}");
    }
}

/// rms_norm.wgsl, over all tokens and over selected rows, gives the CPU's bits; quantizing
/// as it writes gives quantize.wgsl's bytes.
#[test]
fn rms_norm_equals_the_cpu() {
    let gpu = common::gpu();
    let mut n = Numbers(17);
    let kernel = pollster::block_on(RmsNorm::new(&gpu)).expect("compiles");
    for (rows, width) in [(1, 32), (7, 100), (3, 576)] {
        let x: Vec<f32> = (0..rows * width).map(|_| n.value() * 4.0).collect();
        let weight: Vec<f32> = (0..width).map(|_| n.value()).collect();
        let xb = gpu.storage_with("x", &f32_bytes(&x)).expect("x");
        let wb = gpu.storage_with("w", &f32_bytes(&weight)).expect("w");
        let out = gpu.storage("out", (rows * width * 4) as u64).expect("out");
        let selected: Vec<u32> = (0..rows as u32).rev().collect();
        let sb = gpu
            .storage_with("selected", &u32_bytes(&selected))
            .expect("selected");
        let c = counts(
            &gpu,
            Counts {
                tokens: rows as u32,
                logit_rows: 0,
                norm_rows: rows as u32,
            },
        );
        let expected = ponder_model::transformer::rms_norm(&x, &weight, 1e-5);
        for select in [false, true] {
            let io = rms_norm::Io {
                x: &xb,
                weight: &wb,
                out: &out,
                selected: select.then_some(&sb),
                counts: &c,
                quantized: None,
            };
            let b = kernel.bind(&gpu, width as u32, 1e-5, io);
            submit(&gpu, |pass| {
                kernel.encode(pass, &b, rows as u32, rows as u32)
            });
            let got = read(&gpu, &out, rows * width);
            let want: Vec<f32> = if select {
                selected
                    .iter()
                    .flat_map(|&r| expected[r as usize * width..(r as usize + 1) * width].to_vec())
                    .collect()
            } else {
                expected.clone()
            };
            assert_eq!(got, want, "{rows}x{width}, selected {select}");
        }
        if width % 32 == 0 {
            // Quantizing as it writes gives quantize.wgsl's bytes for the rows written.
            let fused = Quantized::new(&gpu, rows as u64, width as u64).expect("room");
            let apart = Quantized::new(&gpu, rows as u64, width as u64).expect("room");
            let io = rms_norm::Io {
                x: &xb,
                weight: &wb,
                out: &out,
                selected: None,
                counts: &c,
                quantized: Some(&fused),
            };
            let b = kernel.bind(&gpu, width as u32, 1e-5, io);
            let quantize = pollster::block_on(Quantize::new(&gpu)).expect("compiles");
            let qb = quantize.bind(&gpu, width as u32, false, &out, &apart, &c);
            submit(&gpu, |pass| {
                kernel.encode(pass, &b, rows as u32, rows as u32);
                quantize.encode(pass, &qb, rows as u32, 0);
            });
            assert_eq!(read(&gpu, &out, rows * width), expected, "{rows}x{width}");
            for (a, b, n) in [
                (&fused.xq, &apart.xq, rows * width / 4),
                (&fused.xd, &apart.xd, rows * width / 32),
                (&fused.xs, &apart.xs, rows * width / 32),
            ] {
                let (a, b) = (read(&gpu, a, n), read(&gpu, b, n));
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&b), "{rows}x{width}, quantized");
            }
        }
    }
}

/// rope.wgsl in both layouts (llama's adjacent pairs, qwen2's halves) gives the CPU
/// engine's rotation (libm's angles; products rounded before sums).
#[test]
fn rotary_embeddings_equal_the_cpu_in_both_layouts() {
    let gpu = common::gpu();
    let mut n = Numbers(19);
    for layout in [RopeLayout::Interleaved, RopeLayout::Halves] {
        let cfg = ModelConfig {
            architecture: Architecture::Qwen2,
            n_layers: 1,
            hidden: 6 * 16,
            ffn_hidden: 64,
            n_heads: 6,
            n_kv_heads: 2,
            head_dim: 16,
            context_length: 300,
            rope_base: 1_000_000.0,
            rope_layout: layout,
            rms_eps: 1e-6,
            qkv_bias: true,
        };
        let positions: Vec<u32> = vec![0, 1, 2, 299, 150];
        let tokens = positions.len();
        let q: Vec<f32> = (0..tokens * cfg.hidden).map(|_| n.value()).collect();
        let k: Vec<f32> = (0..tokens * cfg.kv_width()).map(|_| n.value()).collect();
        let kernel = pollster::block_on(Rope::new(&gpu, &cfg)).expect("compiles");
        let table = Rope::table(&gpu, &cfg, cfg.context_length).expect("table");
        let qb = gpu.storage_with("q", &f32_bytes(&q)).expect("q");
        let kb = gpu.storage_with("k", &f32_bytes(&k)).expect("k");
        let pb = gpu
            .storage_with("positions", &u32_bytes(&positions))
            .expect("positions");
        let c = counts(
            &gpu,
            Counts {
                tokens: tokens as u32,
                logit_rows: 0,
                norm_rows: 0,
            },
        );
        let bind = kernel.bind(&gpu, &cfg, [&qb, &kb, &pb, &table, &c]);
        submit(&gpu, |pass| kernel.encode(pass, &bind, tokens as u32));
        let rotate = |rows: &[f32], heads: usize| -> Vec<f32> {
            let d = cfg.head_dim;
            let mut out = rows.to_vec();
            for (t, token) in out.chunks_mut(heads * d).enumerate() {
                for head in token.chunks_mut(d) {
                    for i in 0..d / 2 {
                        let f = 1f32 / libm::powf(cfg.rope_base, (2 * i) as f32 / d as f32);
                        let angle = positions[t] as f32 * f;
                        let (sin, cos) = (libm::sinf(angle), libm::cosf(angle));
                        let (a, b) = match layout {
                            RopeLayout::Interleaved => (2 * i, 2 * i + 1),
                            RopeLayout::Halves => (i, i + d / 2),
                        };
                        let (x0, x1) = (head[a], head[b]);
                        head[a] = x0 * cos - x1 * sin;
                        head[b] = x0 * sin + x1 * cos;
                    }
                }
            }
            out
        };
        assert_eq!(
            read(&gpu, &qb, q.len()),
            rotate(&q, cfg.n_heads),
            "{layout:?} queries"
        );
        assert_eq!(
            read(&gpu, &kb, k.len()),
            rotate(&k, cfg.n_kv_heads),
            "{layout:?} keys"
        );
    }
}

/// The page's self-test passes on an adapter that computes correctly.
#[test]
fn the_self_test_passes() {
    let gpu = common::gpu();
    pollster::block_on(ponder_gpu::self_test::check(&gpu)).expect("the self-test passes");
}
