//! exact.wgsl's arithmetic against the CPU's: libm's expf, correctly rounded division and
//! square root, bit for bit.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use ponder_gpu::device::{f32_bytes, f32s};
use ponder_gpu::kernels::{groups_for, Counts, Kernel, MAX_GROUPS};

const BODY: &str = r#"
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> counts: Counts;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * 65535u * 64u + gid.x;
    if (i >= counts.tokens) {
        return;
    }
    out[3u * i] = libm_exp(a[i]);
    out[3u * i + 1u] = divide(a[i], b[i]);
    out[3u * i + 2u] = square_root(abs(b[i]));
}
"#;

#[test]
fn exp_division_and_square_root_round_as_the_cpu() {
    let gpu = common::gpu();
    let kernel = pollster::block_on(Kernel::new(&gpu, "exact", BODY, None)).expect("compiles");
    // Softmax and SiLU inputs: a dense sweep of the range exp sees, plus random bits.
    let mut a: Vec<f32> = (0..200_000).map(|i| -100.0 + i as f32 * 0.000_95).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut bits = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u32
    };
    a.extend(
        (0..200_000)
            .map(|_| f32::from_bits(bits()) % 90.0)
            .filter(|x| x.is_finite()),
    );
    // Quotients far from 1, as softmax divides weights near exp(-87) by their sum.
    a.extend((0..2_000).map(|i| f32::from_bits(0x0080_0000 + i * 0x0010_0123)));
    let b: Vec<f32> = a
        .iter()
        .map(|_| {
            let v = f32::from_bits((bits() & 0x807f_ffff) | (0x3f00_0000 + ((bits() % 40) << 23)));
            if v == 0.0 {
                1.0
            } else {
                v
            }
        })
        .collect();
    let n = a.len() as u32;
    let buffers = [
        gpu.storage_with("a", &f32_bytes(&a)).expect("a"),
        gpu.storage_with("b", &f32_bytes(&b)).expect("b"),
        gpu.storage("out", u64::from(n) * 12).expect("out"),
    ];
    let counts = ponder_gpu::kernels::uniform(&gpu, "counts", &[0]);
    gpu.queue.write_buffer(
        &counts,
        0,
        &Counts {
            tokens: n,
            logit_rows: 0,
            norm_rows: 0,
        }
        .bytes(),
    );
    let bind = kernel.bind(&gpu, &[&buffers[0], &buffers[1], &buffers[2], &counts]);
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        let groups = groups_for(n);
        kernel.dispatch(
            &mut pass,
            &bind,
            [groups.min(MAX_GROUPS), groups.div_ceil(MAX_GROUPS)],
        );
    }
    gpu.queue.submit([encoder.finish()]);
    let out = f32s(&pollster::block_on(gpu.read(&buffers[2], u64::from(n) * 12)).expect("reads"));
    let (mut exp_off, mut div_off, mut sqrt_off) = (0, 0, 0);
    for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
        let want_exp = libm::expf(x);
        // Results below 2^-126 may be flushed to zero on the GPU (see exact.wgsl).
        let flushed = want_exp < f32::MIN_POSITIVE && out[3 * i] == 0.0;
        if out[3 * i].to_bits() != want_exp.to_bits() && !flushed {
            if exp_off < 5 {
                println!("exp({x:e}): GPU {:e}, libm {want_exp:e}", out[3 * i]);
            }
            exp_off += 1;
        }
        // Subnormal operands and results are not promised either: a GPU may flush them,
        // and a quotient scaled down into them rounds twice.
        let quotient = x / y;
        let subnormal = x.abs() < f32::MIN_POSITIVE || quotient.abs() < f32::MIN_POSITIVE;
        if out[3 * i + 1].to_bits() != quotient.to_bits() && !subnormal {
            if div_off < 5 {
                println!("{x:e} / {y:e}: GPU {:e}, CPU {quotient:e}", out[3 * i + 1]);
            }
            div_off += 1;
        }
        if out[3 * i + 2].to_bits() != y.abs().sqrt().to_bits() {
            sqrt_off += 1;
        }
    }
    println!(
        "{} inputs: exp differs on {exp_off}, division on {div_off}, square root on {sqrt_off}",
        a.len()
    );
    assert_eq!((exp_off, div_off, sqrt_off), (0, 0, 0));
}
