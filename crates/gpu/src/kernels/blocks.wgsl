// GGUF weight blocks read straight from the file's bytes, as the CPU engine reads them
// (ponder_model's blocks.rs): every quantized type as 32 integers q per block of 32
// weights, with values d·q + m. WGSL storage holds 32-bit words only, and most blocks
// are not word-aligned, so every field is read by byte offset. A block is named by its
// index counted in blocks of 32 from the tensor's start (rows hold whole blocks, and the
// K types' rows whole super-blocks of 256). The kernel that includes this file binds the
// weights as `weights: array<u32>` and defines `WEIGHT_TYPE` (see mod.rs).

const TYPE_F32: u32 = 0u;
const TYPE_F16: u32 = 1u;
const TYPE_Q4_0: u32 = 2u;
const TYPE_Q4_1: u32 = 3u;
const TYPE_Q5_0: u32 = 6u;
const TYPE_Q5_1: u32 = 7u;
const TYPE_Q8_0: u32 = 8u;
const TYPE_Q4_K: u32 = 12u;
const TYPE_Q6_K: u32 = 14u;

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

// Byte `offset` of the tensor.
fn byte_at(offset: u32) -> u32 {
    return (weights[offset >> 2u] >> (8u * (offset & 3u))) & 0xffu;
}

// Signed byte k (0..3) of a packed word.
fn signed_byte(word: u32, k: u32) -> i32 {
    return i32(word << (24u - 8u * k)) >> 24u;
}

// Bytes of one block of 32 weights, for the types stored that way.
fn block_bytes() -> u32 {
    switch WEIGHT_TYPE {
        case TYPE_F32: { return 128u; }
        case TYPE_F16: { return 64u; }
        case TYPE_Q4_0: { return 18u; }
        case TYPE_Q4_1: { return 20u; }
        case TYPE_Q5_0: { return 22u; }
        case TYPE_Q5_1: { return 24u; }
        default: { return 34u; }
    }
}

// Block `index` of a quantized type: its integers into `w`, and (d, m) returned.
// Q4_0 stores w + 8 (so m = −8·d), Q4_1 and Q5_1 store m, Q5_0's integers are q − 16,
// Q8_0 has no m; Q4_K's (d, m) are its sub-block's exact (d·s, −dmin·n), and Q6_K's
// integers its sub-scales times q − 32.
fn q_block(index: u32, w: ptr<function, array<i32, 32>>) -> vec2<f32> {
    switch WEIGHT_TYPE {
        case TYPE_Q8_0: {
            let base = index * 34u;
            for (var j = 0u; j < 8u; j++) {
                let packed = word_at(base + 2u + 4u * j);
                for (var k = 0u; k < 4u; k++) {
                    (*w)[4u * j + k] = signed_byte(packed, k);
                }
            }
            return vec2<f32>(half_at(base), 0.0);
        }
        case TYPE_Q5_0, TYPE_Q5_1: {
            // d, (m,) 32 fifth bits, then the nibbles as Q4's.
            let base = index * block_bytes();
            var m = 0.0;
            var high_at = base + 2u;
            var offset = 16;
            if (WEIGHT_TYPE == TYPE_Q5_1) {
                m = half_at(base + 2u);
                high_at = base + 4u;
                offset = 0;
            }
            let high = word_at(high_at);
            for (var j = 0u; j < 4u; j++) {
                let packed = word_at(high_at + 4u + 4u * j);
                for (var k = 0u; k < 4u; k++) {
                    let i = 4u * j + k;
                    let byte = (packed >> (8u * k)) & 0xffu;
                    (*w)[i] = i32((byte & 0xfu) | (((high >> i) & 1u) << 4u)) - offset;
                    (*w)[i + 16u] = i32((byte >> 4u) | (((high >> (i + 16u)) & 1u) << 4u)) - offset;
                }
            }
            return vec2<f32>(half_at(base), m);
        }
        case TYPE_Q4_K: {
            // 256 weights: d, dmin, 12 bytes of 6-bit factors, 4 runs of 32 bytes (run i
            // holds sub-block 2i in its low nibbles, 2i + 1 in its high ones).
            let base = index / 8u * 144u;
            let j = index % 8u;
            var s: u32;
            var n: u32;
            if (j < 4u) {
                s = byte_at(base + 4u + j) & 63u;
                n = byte_at(base + 8u + j) & 63u;
            } else {
                let hi = byte_at(base + 8u + j);
                s = (hi & 0xfu) | ((byte_at(base + j) >> 6u) << 4u);
                n = (hi >> 4u) | ((byte_at(base + 4u + j) >> 6u) << 4u);
            }
            let run = base + 16u + 32u * (j / 2u);
            let shift = 4u * (j % 2u);
            for (var k = 0u; k < 8u; k++) {
                let packed = word_at(run + 4u * k);
                for (var c = 0u; c < 4u; c++) {
                    (*w)[4u * k + c] = i32((packed >> (8u * c + shift)) & 0xfu);
                }
            }
            return vec2<f32>(half_at(base) * f32(s), -(half_at(base + 2u) * f32(n)));
        }
        case TYPE_Q6_K: {
            // 256 weights: 128 bytes of low nibbles, 64 of high bit pairs, 16 signed
            // scales (one per 16 weights), d.
            let base = index / 8u * 210u;
            let j = index % 8u;
            let half = j / 4u;
            let g = j % 4u;
            let scales = base + 192u + 8u * half + 2u * g;
            let s0 = i32(byte_at(scales) << 24u) >> 24u;
            let s1 = i32(byte_at(scales + 1u) << 24u) >> 24u;
            for (var l = 0u; l < 32u; l += 4u) {
                let low = word_at(base + 64u * half + 32u * (g % 2u) + l) >> (4u * (g / 2u));
                let high = word_at(base + 128u + 32u * half + l) >> (2u * g);
                for (var c = 0u; c < 4u; c++) {
                    let q = i32(((low >> (8u * c)) & 0xfu) | (((high >> (8u * c)) & 3u) << 4u)) - 32;
                    (*w)[l + c] = select(s1, s0, l + c < 16u) * q;
                }
            }
            return vec2<f32>(half_at(base + 208u), 0.0);
        }
        default: {
            // Q4_0, Q4_1. Element j sits in the low nibble of byte j, element j + 16 in
            // its high one.
            let base = index * block_bytes();
            let d = half_at(base);
            var m = -8.0 * d;
            var qs = base + 2u;
            if (WEIGHT_TYPE == TYPE_Q4_1) {
                qs = base + 4u;
                m = half_at(base + 2u);
            }
            for (var j = 0u; j < 4u; j++) {
                let packed = word_at(qs + 4u * j);
                for (var k = 0u; k < 4u; k++) {
                    let byte = (packed >> (8u * k)) & 0xffu;
                    (*w)[4u * j + k] = i32(byte & 0xfu);
                    (*w)[16u + 4u * j + k] = i32(byte >> 4u);
                }
            }
            return vec2<f32>(d, m);
        }
    }
}

// The 32 values of block `index`, in order, as the CPU engine's embedding rows hold them.
fn block_values(index: u32) -> array<f32, 32> {
    var out: array<f32, 32>;
    switch WEIGHT_TYPE {
        case TYPE_F32: {
            let base = index * 32u;
            for (var i = 0u; i < 32u; i++) {
                out[i] = bitcast<f32>(weights[base + i]);
            }
        }
        case TYPE_F16: {
            let base = index * 64u;
            for (var i = 0u; i < 16u; i++) {
                let pair = unpack2x16float(word_at(base + 4u * i));
                out[2u * i] = pair.x;
                out[2u * i + 1u] = pair.y;
            }
        }
        case TYPE_Q4_0, TYPE_Q4_1: {
            var w: array<i32, 32>;
            let dm = q_block(index, &w);
            for (var i = 0u; i < 32u; i++) {
                out[i] = kept(dm.x * f32(w[i])) + dm.y;
            }
        }
        case TYPE_Q8_0: {
            var w: array<i32, 32>;
            let dm = q_block(index, &w);
            for (var i = 0u; i < 32u; i++) {
                out[i] = dm.x * f32(w[i]);
            }
        }
        default: {
            // Q5_0, Q5_1, Q4_K, Q6_K: d·q + m, as the CPU's QMatrix::row_values.
            var w: array<i32, 32>;
            let dm = q_block(index, &w);
            for (var i = 0u; i < 32u; i++) {
                out[i] = kept(dm.x * f32(w[i])) + dm.y;
            }
        }
    }
    return out;
}
