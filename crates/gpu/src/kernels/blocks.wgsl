// GGUF weight blocks read straight from the file's bytes. WGSL storage holds 32-bit
// words only, and Q8_0 (34 bytes) and Q4_0 (18 bytes) blocks are not word-aligned, so
// every field is read by byte offset. The kernel that includes this file binds the
// weights as `weights: array<u32>` and defines `WEIGHT_TYPE` (see blocks.rs).

const TYPE_F32: u32 = 0u;
const TYPE_F16: u32 = 1u;
const TYPE_Q4_0: u32 = 2u;
const TYPE_Q4_1: u32 = 3u;
const TYPE_Q8_0: u32 = 8u;

// The 32-bit little-endian word starting at any byte offset: two aligned words
// stitched together when the offset is not a multiple of four.
fn word_at(offset: u32) -> u32 {
    let i = offset >> 2u;
    let shift = (offset & 3u) * 8u;
    if (shift == 0u) {
        return weights[i];
    }
    return (weights[i] >> shift) | (weights[i + 1u] << (32u - shift));
}

// An f16 at an even byte offset, as f32 (exact).
fn half_at(offset: u32) -> f32 {
    let w = weights[offset >> 2u];
    let pair = unpack2x16float(w);
    if ((offset & 2u) == 0u) {
        return pair.x;
    }
    return pair.y;
}

// Bytes of one block of 32 weights.
fn block_bytes() -> u32 {
    switch WEIGHT_TYPE {
        case TYPE_F32: { return 128u; }
        case TYPE_F16: { return 64u; }
        case TYPE_Q4_0: { return 18u; }
        case TYPE_Q4_1: { return 20u; }
        default: { return 34u; }
    }
}

// The 32 values of the block whose first byte is at `base`, in order.
fn block_values(base: u32) -> array<f32, 32> {
    var out: array<f32, 32>;
    switch WEIGHT_TYPE {
        case TYPE_F32: {
            for (var i = 0u; i < 32u; i++) {
                out[i] = bitcast<f32>(weights[(base >> 2u) + i]);
            }
        }
        case TYPE_F16: {
            for (var i = 0u; i < 16u; i++) {
                let pair = unpack2x16float(word_at(base + 4u * i));
                out[2u * i] = pair.x;
                out[2u * i + 1u] = pair.y;
            }
        }
        case TYPE_Q4_0, TYPE_Q4_1: {
            // Element j sits in the low nibble of byte j, element j + 16 in its high one.
            let d = half_at(base);
            var m = -8.0 * d;
            var qs = base + 2u;
            if (WEIGHT_TYPE == TYPE_Q4_1) {
                m = half_at(base + 2u);
                qs = base + 4u;
            }
            for (var w = 0u; w < 4u; w++) {
                let packed = word_at(qs + 4u * w);
                for (var b = 0u; b < 4u; b++) {
                    let byte = (packed >> (8u * b)) & 0xffu;
                    out[4u * w + b] = kept(d * f32(byte & 0xfu)) + m;
                    out[16u + 4u * w + b] = kept(d * f32(byte >> 4u)) + m;
                }
            }
        }
        default: {
            // Q8_0: an f16 scale, then 32 signed bytes.
            let d = half_at(base);
            for (var w = 0u; w < 8u; w++) {
                let packed = word_at(base + 2u + 4u * w);
                for (var b = 0u; b < 4u; b++) {
                    let q = i32(packed << (24u - 8u * b)) >> 24u;
                    out[4u * w + b] = d * f32(q);
                }
            }
        }
    }
    return out;
}
