//! The GGUF container: metadata and tensor directory, read from bytes (a fetched file or
//! a local one) without trusting a single header field.
//!
//! Every count and length in the header is checked against the bytes that remain before
//! anything is allocated, so a truncated or hostile file yields a [`GgufError`] naming the
//! problem, never a panic or a huge allocation. Tensor data is not copied here: the
//! directory records byte ranges, validated against the file, and [`GgufFile::tensor_bytes`]
//! hands out slices of the caller's buffer.
//!
//! Format: <https://github.com/ggml-org/ggml/blob/master/docs/gguf.md> (versions 2 and 3).

use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

use crate::gguf_keys::{array_item_types, describe};

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
/// GGML tensors have at most four dimensions.
const MAX_DIMS: u32 = 4;
/// Metadata array items a file may hold in all. Each item is parsed into a
/// [`MetadataValue`] of 16 to 32 bytes whatever its size in the file (one byte for a
/// `u8`), so a count the file's bytes could hold can still ask for many times the file's
/// size in memory. The largest real tokenizers (150k tokens, as many merges and token
/// types) hold under half a million.
const MAX_ARRAY_ITEMS: u64 = 1 << 23;
/// Items reserved up front for one array: a larger array grows as its items are read, so
/// memory follows what the file really holds.
const ARRAY_RESERVE: u64 = 1 << 16;

/// What can be wrong with a GGUF file.
#[derive(Debug, Error, PartialEq)]
pub enum GgufError {
    #[error("not a GGUF file (it starts with {found:?}, a GGUF file starts with \"GGUF\")")]
    NotGguf { found: Vec<u8> },
    #[error("GGUF version {0} is not supported (Ponder reads versions 2 and 3; re-export the model with a current llama.cpp)")]
    UnsupportedVersion(u32),
    #[error("the model file is truncated: {what} needs {needed} bytes at offset {offset}, but the file has {available} (was the download interrupted?)")]
    Truncated {
        what: String,
        offset: u64,
        needed: u64,
        available: u64,
    },
    #[error("the model file is corrupt: {0}")]
    Corrupt(String),
    #[error("tensor `{name}` has type {type_name}, which Ponder does not support (supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)")]
    UnsupportedTensorType { name: String, type_name: String },
    #[error("the model file has no tensor named `{0}`")]
    MissingTensor(String),
    #[error(
        "the model file's `{key}` is {found}, where readers (llama.cpp among them) require \
         {expected}: convert or export the model again with a current tool (for Ponder's own \
         models, `ponder-train metadata FILE` rewrites the metadata and keeps the weights)"
    )]
    WrongArrayType {
        key: String,
        expected: String,
        found: String,
    },
    #[error("cannot write the GGUF file: {0}")]
    Unwritable(String),
}

/// GGUF's metadata value types, numbered as the file stores them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueType {
    const ALL: [ValueType; 13] = [
        ValueType::U8,
        ValueType::I8,
        ValueType::U16,
        ValueType::I16,
        ValueType::U32,
        ValueType::I32,
        ValueType::F32,
        ValueType::Bool,
        ValueType::String,
        ValueType::Array,
        ValueType::U64,
        ValueType::I64,
        ValueType::F64,
    ];

    /// The id the file stores.
    pub fn id(self) -> u32 {
        self as u32
    }

    pub fn from_id(id: u32) -> Option<ValueType> {
        ValueType::ALL.into_iter().find(|t| t.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            ValueType::U8 => "u8",
            ValueType::I8 => "i8",
            ValueType::U16 => "u16",
            ValueType::I16 => "i16",
            ValueType::U32 => "u32",
            ValueType::I32 => "i32",
            ValueType::F32 => "f32",
            ValueType::Bool => "bool",
            ValueType::String => "string",
            ValueType::Array => "array",
            ValueType::U64 => "u64",
            ValueType::I64 => "i64",
            ValueType::F64 => "f64",
        }
    }

    /// The fewest bytes one value of this type takes in a file (a string's or an array's
    /// length fields alone).
    fn min_size(self) -> u64 {
        match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => 1,
            ValueType::U16 | ValueType::I16 => 2,
            ValueType::U32 | ValueType::I32 | ValueType::F32 => 4,
            ValueType::String | ValueType::U64 | ValueType::I64 | ValueType::F64 => 8,
            ValueType::Array => 12,
        }
    }
}

/// A metadata value.
#[derive(Clone, Debug, PartialEq)]
pub enum MetadataValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    U64(u64),
    I64(i64),
    F64(f64),
    Array(Vec<MetadataValue>),
}

impl MetadataValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetadataValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Any integer type holding a non-negative value.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetadataValue::U8(v) => Some(v.into()),
            MetadataValue::U16(v) => Some(v.into()),
            MetadataValue::U32(v) => Some(v.into()),
            MetadataValue::U64(v) => Some(v),
            MetadataValue::I8(v) => u64::try_from(v).ok(),
            MetadataValue::I16(v) => u64::try_from(v).ok(),
            MetadataValue::I32(v) => u64::try_from(v).ok(),
            MetadataValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Any integer type whose value fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            MetadataValue::I8(v) => Some(v.into()),
            MetadataValue::I16(v) => Some(v.into()),
            MetadataValue::I32(v) => Some(v.into()),
            MetadataValue::I64(v) => Some(v),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            MetadataValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Floats, and integers (some exporters write whole-number floats as integers).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            MetadataValue::F32(v) => Some(v.into()),
            MetadataValue::F64(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    pub fn as_array(&self) -> Option<&[MetadataValue]> {
        match self {
            MetadataValue::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn value_type(&self) -> ValueType {
        match self {
            MetadataValue::U8(_) => ValueType::U8,
            MetadataValue::I8(_) => ValueType::I8,
            MetadataValue::U16(_) => ValueType::U16,
            MetadataValue::I16(_) => ValueType::I16,
            MetadataValue::U32(_) => ValueType::U32,
            MetadataValue::I32(_) => ValueType::I32,
            MetadataValue::F32(_) => ValueType::F32,
            MetadataValue::Bool(_) => ValueType::Bool,
            MetadataValue::String(_) => ValueType::String,
            MetadataValue::Array(_) => ValueType::Array,
            MetadataValue::U64(_) => ValueType::U64,
            MetadataValue::I64(_) => ValueType::I64,
            MetadataValue::F64(_) => ValueType::F64,
        }
    }

    pub fn type_name(&self) -> &'static str {
        self.value_type().name()
    }

    /// The items of an array of f32, `None` for any other value.
    pub fn as_f32s(&self) -> Option<Vec<f32>> {
        self.as_array()?
            .iter()
            .map(|v| match *v {
                MetadataValue::F32(x) => Some(x),
                _ => None,
            })
            .collect()
    }
}

/// The tensor element types Ponder can run. The numbers are GGML's type ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TensorType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q4K,
    Q5K,
    Q6K,
}

impl TensorType {
    pub const ALL: [TensorType; 10] = [
        TensorType::F32,
        TensorType::F16,
        TensorType::Q4_0,
        TensorType::Q4_1,
        TensorType::Q5_0,
        TensorType::Q5_1,
        TensorType::Q8_0,
        TensorType::Q4K,
        TensorType::Q5K,
        TensorType::Q6K,
    ];

    /// GGML's id for this type, as stored in the file.
    pub fn ggml_id(self) -> u32 {
        match self {
            TensorType::F32 => 0,
            TensorType::F16 => 1,
            TensorType::Q4_0 => 2,
            TensorType::Q4_1 => 3,
            TensorType::Q5_0 => 6,
            TensorType::Q5_1 => 7,
            TensorType::Q8_0 => 8,
            TensorType::Q4K => 12,
            TensorType::Q5K => 13,
            TensorType::Q6K => 14,
        }
    }

    /// The type with GGML id `id`, or the name of an unsupported one.
    pub fn from_ggml_id(id: u32) -> Result<TensorType, String> {
        if let Some(t) = TensorType::ALL.into_iter().find(|t| t.ggml_id() == id) {
            return Ok(t);
        }
        // Names of the other GGML types, so the error says what the file holds.
        let name = match id {
            9 => "Q8_1",
            10 => "Q2_K",
            11 => "Q3_K",
            15 => "Q8_K",
            16 => "IQ2_XXS",
            17 => "IQ2_XS",
            18 => "IQ3_XXS",
            19 => "IQ1_S",
            20 => "IQ4_NL",
            21 => "IQ3_S",
            22 => "IQ2_S",
            23 => "IQ4_XS",
            24 => "I8",
            25 => "I16",
            26 => "I32",
            27 => "I64",
            28 => "F64",
            29 => "IQ1_M",
            30 => "BF16",
            34 => "TQ1_0",
            35 => "TQ2_0",
            39 => "MXFP4",
            _ => return Err(format!("unknown type id {id}")),
        };
        Err(name.to_string())
    }

    /// Elements per block and bytes per block.
    pub fn block(self) -> (u64, u64) {
        match self {
            TensorType::F32 => (1, 4),
            TensorType::F16 => (1, 2),
            TensorType::Q4_0 => (32, 18),
            TensorType::Q4_1 => (32, 20),
            TensorType::Q5_0 => (32, 22),
            TensorType::Q5_1 => (32, 24),
            TensorType::Q8_0 => (32, 34),
            TensorType::Q4K => (256, 144),
            TensorType::Q5K => (256, 176),
            TensorType::Q6K => (256, 210),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TensorType::F32 => "F32",
            TensorType::F16 => "F16",
            TensorType::Q4_0 => "Q4_0",
            TensorType::Q4_1 => "Q4_1",
            TensorType::Q5_0 => "Q5_0",
            TensorType::Q5_1 => "Q5_1",
            TensorType::Q8_0 => "Q8_0",
            TensorType::Q4K => "Q4_K",
            TensorType::Q5K => "Q5_K",
            TensorType::Q6K => "Q6_K",
        }
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry of the tensor directory.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// GGML order: `dims[0]` is the fastest-varying (the row length).
    pub dims: Vec<u64>,
    pub ty: TensorType,
    /// Absolute byte range of the data in the file.
    pub start: u64,
    pub len: u64,
}

impl TensorInfo {
    pub fn elements(&self) -> u64 {
        self.dims.iter().product()
    }
}

/// A parsed GGUF header: metadata and the tensor directory.
#[derive(Clone, Debug)]
pub struct GgufFile {
    pub version: u32,
    metadata: BTreeMap<String, MetadataValue>,
    tensors: Vec<TensorInfo>,
    /// Where tensor data begins (aligned).
    pub data_start: u64,
    /// The length of the file the header was read from; tensor ranges lie within it.
    pub file_len: u64,
}

impl GgufFile {
    /// Reads the header of a GGUF file held in `bytes` and validates every tensor's range.
    pub fn read(bytes: &[u8]) -> Result<GgufFile, GgufError> {
        GgufFile::read_checking(bytes, true)
    }

    /// As [`GgufFile::read`], but accepts standard arrays of the wrong element type (see
    /// [`crate::gguf_keys`]): for tools that rewrite such a file into one readers take.
    pub fn read_for_repair(bytes: &[u8]) -> Result<GgufFile, GgufError> {
        GgufFile::read_checking(bytes, false)
    }

    fn read_checking(bytes: &[u8], check_array_types: bool) -> Result<GgufFile, GgufError> {
        let mut r = Reader {
            bytes,
            pos: 0,
            items_left: MAX_ARRAY_ITEMS,
            check_array_types,
        };
        let magic = r.take(4, "the GGUF magic")?;
        if magic != MAGIC {
            return Err(GgufError::NotGguf {
                found: magic.to_vec(),
            });
        }
        let version = r.u32("the version")?;
        if !(2..=3).contains(&version) {
            return Err(GgufError::UnsupportedVersion(version));
        }
        let tensor_count = r.u64("the tensor count")?;
        let kv_count = r.u64("the metadata count")?;
        // A metadata entry takes at least 12 bytes (key length + type); a tensor entry at
        // least 24. Counts beyond what the file could hold are corrupt, not allocations.
        r.check_count(kv_count, 12, "metadata entries")?;
        r.check_count(tensor_count, 24, "tensor entries")?;

        let mut metadata = BTreeMap::new();
        for _ in 0..kv_count {
            let key = r.string("a metadata key")?;
            let ty = r.u32(&format!("the type of `{key}`"))?;
            if let Some(expected) = array_item_types(&key).filter(|_| check_array_types) {
                if ty != ValueType::Array.id() {
                    return Err(GgufError::WrongArrayType {
                        found: ValueType::from_id(ty).map_or_else(
                            || format!("of unknown type {ty}"),
                            |t| format!("a {}", t.name()),
                        ),
                        expected: describe(expected),
                        key,
                    });
                }
            }
            let value = r.value(ty, &key, 0)?;
            // Which of two values a reader keeps is anyone's guess, so neither is kept
            // (llama.cpp refuses such files too).
            if metadata.contains_key(&key) {
                return Err(GgufError::Corrupt(format!(
                    "the metadata key `{key}` appears twice"
                )));
            }
            metadata.insert(key, value);
        }

        // Reserved for at most as many entries as real models have; a larger directory grows.
        let mut raw = Vec::with_capacity(tensor_count.min(4096) as usize);
        for i in 0..tensor_count {
            let name = r.string(&format!("the name of tensor {i}"))?;
            let n_dims = r.u32(&format!("the rank of `{name}`"))?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(GgufError::Corrupt(format!(
                    "tensor `{name}` claims {n_dims} dimensions (1 to {MAX_DIMS} allowed)"
                )));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(r.u64(&format!("a dimension of `{name}`"))?);
            }
            let type_id = r.u32(&format!("the type of `{name}`"))?;
            let offset = r.u64(&format!("the data offset of `{name}`"))?;
            raw.push((name, dims, type_id, offset));
        }

        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(v) => match v.as_u64() {
                Some(a) if a > 0 && a.is_power_of_two() && a <= 1 << 16 => a,
                _ => {
                    return Err(GgufError::Corrupt(format!(
                        "general.alignment is {v:?}; it must be a power of two from 1 to 65536"
                    )))
                }
            },
        };
        let header_end = r.pos as u64;
        let data_start = header_end.div_ceil(alignment) * alignment;
        let file_len = bytes.len() as u64;

        let mut tensors = Vec::with_capacity(raw.len());
        let mut seen = std::collections::HashSet::new();
        for (name, dims, type_id, offset) in raw {
            if !seen.insert(name.clone()) {
                return Err(GgufError::Corrupt(format!("tensor `{name}` appears twice")));
            }
            let ty = TensorType::from_ggml_id(type_id).map_err(|type_name| {
                GgufError::UnsupportedTensorType {
                    name: name.clone(),
                    type_name,
                }
            })?;
            let elements = dims
                .iter()
                .try_fold(1u64, |acc, &d| acc.checked_mul(d))
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    GgufError::Corrupt(format!(
                        "tensor `{name}` has impossible dimensions {dims:?}"
                    ))
                })?;
            let (block_elems, block_bytes) = ty.block();
            if dims[0] % block_elems != 0 {
                return Err(GgufError::Corrupt(format!(
                    "tensor `{name}` ({ty}) has rows of {} elements, not a multiple of its block of {block_elems}",
                    dims[0]
                )));
            }
            if offset % alignment != 0 {
                return Err(GgufError::Corrupt(format!(
                    "tensor `{name}` starts at offset {offset}, not a multiple of the alignment {alignment}"
                )));
            }
            let len = (elements / block_elems)
                .checked_mul(block_bytes)
                .ok_or_else(|| {
                    GgufError::Corrupt(format!("tensor `{name}` is impossibly large"))
                })?;
            let start = data_start.checked_add(offset).ok_or_else(|| {
                GgufError::Corrupt(format!("tensor `{name}` has an impossible offset"))
            })?;
            let end = start.checked_add(len).ok_or_else(|| {
                GgufError::Corrupt(format!("tensor `{name}` has an impossible offset"))
            })?;
            if end > file_len {
                return Err(GgufError::Truncated {
                    what: format!("the data of tensor `{name}`"),
                    offset: start,
                    needed: len,
                    available: file_len.saturating_sub(start),
                });
            }
            tensors.push(TensorInfo {
                name,
                dims,
                ty,
                start,
                len,
            });
        }

        Ok(GgufFile {
            version,
            metadata,
            tensors,
            data_start,
            file_len,
        })
    }

    pub fn metadata(&self, key: &str) -> Option<&MetadataValue> {
        self.metadata.get(key)
    }

    pub fn metadata_entries(&self) -> impl Iterator<Item = (&str, &MetadataValue)> {
        self.metadata.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The data of tensor `name` inside `bytes`, the same buffer the header was read from.
    pub fn tensor_bytes<'a>(
        &self,
        bytes: &'a [u8],
        name: &str,
    ) -> Result<(&TensorInfo, &'a [u8]), GgufError> {
        let info = self
            .tensor(name)
            .ok_or_else(|| GgufError::MissingTensor(name.to_string()))?;
        if bytes.len() as u64 != self.file_len {
            return Err(GgufError::Corrupt(format!(
                "tensor data requested from a buffer of {} bytes, but the header was read from {} bytes",
                bytes.len(),
                self.file_len
            )));
        }
        // Ranges were validated against file_len in `read`.
        Ok((
            info,
            &bytes[info.start as usize..(info.start + info.len) as usize],
        ))
    }

    /// The architecture named in `general.architecture`.
    pub fn architecture(&self) -> Option<&str> {
        self.metadata("general.architecture")
            .and_then(MetadataValue::as_str)
    }
}

/// A bounds-checked cursor over the header.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Metadata array items still allowed ([`MAX_ARRAY_ITEMS`] at the start).
    items_left: u64,
    /// Whether the standard arrays must hold the element types readers require.
    check_array_types: bool,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], GgufError> {
        if n > self.remaining() {
            return Err(GgufError::Truncated {
                what: what.to_string(),
                offset: self.pos as u64,
                needed: n,
                available: self.remaining(),
            });
        }
        let start = self.pos;
        self.pos += n as usize;
        Ok(&self.bytes[start..self.pos])
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let slice = self.take(N as u64, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Fails unless `count` items of at least `min_size` bytes each could fit. A count that
    /// fits an ordinary file but not these bytes reads as truncation (the usual cause); an
    /// absurd one as corruption.
    fn check_count(&self, count: u64, min_size: u64, what: &str) -> Result<(), GgufError> {
        match count.checked_mul(min_size) {
            Some(n) if n <= self.remaining() => Ok(()),
            Some(n) if n <= 1 << 40 => Err(GgufError::Truncated {
                what: format!("{count} {what}"),
                offset: self.pos as u64,
                needed: n,
                available: self.remaining(),
            }),
            _ => Err(GgufError::Corrupt(format!(
                "the header claims {count} {what}, more than any model file holds"
            ))),
        }
    }

    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let len = self.u64(what)?;
        let raw = self.take(len, what)?;
        String::from_utf8(raw.to_vec())
            .map_err(|_| GgufError::Corrupt(format!("{what} is not valid UTF-8")))
    }

    fn value(&mut self, ty: u32, key: &str, depth: u32) -> Result<MetadataValue, GgufError> {
        let what = || format!("the value of `{key}`");
        Ok(match ty {
            0 => MetadataValue::U8(self.array::<1>(&what())?[0]),
            1 => MetadataValue::I8(self.array::<1>(&what())?[0] as i8),
            2 => MetadataValue::U16(u16::from_le_bytes(self.array(&what())?)),
            3 => MetadataValue::I16(i16::from_le_bytes(self.array(&what())?)),
            4 => MetadataValue::U32(u32::from_le_bytes(self.array(&what())?)),
            5 => MetadataValue::I32(i32::from_le_bytes(self.array(&what())?)),
            6 => MetadataValue::F32(f32::from_le_bytes(self.array(&what())?)),
            7 => match self.array::<1>(&what())?[0] {
                0 => MetadataValue::Bool(false),
                1 => MetadataValue::Bool(true),
                b => {
                    return Err(GgufError::Corrupt(format!(
                        "`{key}` is a boolean stored as {b} (only 0 and 1 are valid)"
                    )))
                }
            },
            8 => MetadataValue::String(self.string(&what())?),
            9 => {
                // Nested arrays are legal but never deep in real files; a bound keeps a
                // crafted file from recursing without end.
                if depth >= 4 {
                    return Err(GgufError::Corrupt(format!(
                        "`{key}` nests arrays too deeply"
                    )));
                }
                let item_ty = self.u32(&what())?;
                let count = self.u64(&what())?;
                let Some(item_type) = ValueType::from_id(item_ty) else {
                    return Err(GgufError::Corrupt(format!(
                        "`{key}` is an array of unknown type {item_ty}"
                    )));
                };
                // The element type counts even when the array is empty: llama.cpp refuses
                // an empty merges list stored as u8, so Ponder does too.
                if let Some(expected) =
                    array_item_types(key).filter(|_| depth == 0 && self.check_array_types)
                {
                    if !expected.contains(&item_type) {
                        return Err(GgufError::WrongArrayType {
                            key: key.to_string(),
                            expected: describe(expected),
                            found: format!("an array of {}", item_type.name()),
                        });
                    }
                }
                self.check_count(count, item_type.min_size(), &format!("items in `{key}`"))?;
                if count > self.items_left {
                    return Err(GgufError::Corrupt(format!(
                        "`{key}` holds {count} array items, past the {MAX_ARRAY_ITEMS} that \
                         Ponder reads from one file's metadata (real tokenizers hold under a \
                         million)"
                    )));
                }
                self.items_left -= count;
                let mut items = Vec::with_capacity(count.min(ARRAY_RESERVE) as usize);
                for _ in 0..count {
                    items.push(self.value(item_ty, key, depth + 1)?);
                }
                MetadataValue::Array(items)
            }
            10 => MetadataValue::U64(u64::from_le_bytes(self.array(&what())?)),
            11 => MetadataValue::I64(i64::from_le_bytes(self.array(&what())?)),
            12 => MetadataValue::F64(f64::from_le_bytes(self.array(&what())?)),
            other => {
                return Err(GgufError::Corrupt(format!(
                    "`{key}` has unknown value type {other}"
                )))
            }
        })
    }
}

/// Writes GGUF files: used by Ponder's model exporter and by tests that need a model
/// with known contents.
#[derive(Default)]
pub struct GgufWriter {
    metadata: Vec<(String, MetadataValue)>,
    tensors: Vec<(String, Vec<u64>, TensorType, Vec<u8>)>,
}

impl GgufWriter {
    pub fn new() -> GgufWriter {
        GgufWriter::default()
    }

    pub fn metadata(&mut self, key: &str, value: MetadataValue) -> &mut Self {
        self.metadata.push((key.to_string(), value));
        self
    }

    /// Adds a tensor; `dims` in GGML order, `data` already in the type's block layout.
    pub fn tensor(&mut self, name: &str, dims: &[u64], ty: TensorType, data: Vec<u8>) -> &mut Self {
        self.tensors
            .push((name.to_string(), dims.to_vec(), ty, data));
        self
    }

    /// The file's bytes. Every array is written with one element type: its items' type,
    /// or for an empty array under a standard key the type readers require there
    /// ([`crate::gguf_keys`]). An array that mixes types, holds a type its key does not
    /// allow, or is empty with no type to give it is refused rather than written in a
    /// form that other readers would reject.
    pub fn to_bytes(&self) -> Result<Vec<u8>, GgufError> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.metadata.len() as u64).to_le_bytes());
        for (key, value) in &self.metadata {
            if let Some(expected) = array_item_types(key) {
                if !matches!(value, MetadataValue::Array(_)) {
                    return Err(GgufError::Unwritable(format!(
                        "`{key}` is a {}, where readers require {}",
                        value.type_name(),
                        describe(expected)
                    )));
                }
            }
            write_string(&mut out, key);
            out.extend_from_slice(&value.value_type().id().to_le_bytes());
            write_value(&mut out, key, value, 0)?;
        }
        let mut offset = 0u64;
        let mut offsets = Vec::new();
        for (name, dims, ty, data) in &self.tensors {
            write_string(&mut out, name);
            out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
            for d in dims {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.extend_from_slice(&ty.ggml_id().to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            offsets.push(offset);
            offset = (offset + data.len() as u64).div_ceil(DEFAULT_ALIGNMENT) * DEFAULT_ALIGNMENT;
        }
        pad_to(&mut out, DEFAULT_ALIGNMENT);
        let data_start = out.len() as u64;
        for ((_, _, _, data), off) in self.tensors.iter().zip(offsets) {
            out.resize((data_start + off) as usize, 0);
            out.extend_from_slice(data);
        }
        pad_to(&mut out, DEFAULT_ALIGNMENT);
        Ok(out)
    }
}

fn pad_to(out: &mut Vec<u8>, alignment: u64) {
    let len = (out.len() as u64).div_ceil(alignment) * alignment;
    out.resize(len as usize, 0);
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// The element type an array under `key` is written with (see [`GgufWriter::to_bytes`]).
fn item_type(key: &str, items: &[MetadataValue], depth: u32) -> Result<ValueType, GgufError> {
    let rule = array_item_types(key).filter(|_| depth == 0);
    let Some(first) = items.first() else {
        return rule.map(|types| types[0]).ok_or_else(|| {
            GgufError::Unwritable(format!(
                "`{key}` is an empty array, and GGUF stores an element type that no item \
                 gives here: leave the key out or give it items"
            ))
        });
    };
    let ty = first.value_type();
    if let Some(other) = items.iter().find(|v| v.value_type() != ty) {
        return Err(GgufError::Unwritable(format!(
            "`{key}` mixes {} and {} items; a GGUF array holds one type",
            ty.name(),
            other.type_name()
        )));
    }
    match rule {
        Some(types) if !types.contains(&ty) => Err(GgufError::Unwritable(format!(
            "`{key}` holds {} items, where readers require {}",
            ty.name(),
            describe(types)
        ))),
        _ => Ok(ty),
    }
}

fn write_value(
    out: &mut Vec<u8>,
    key: &str,
    v: &MetadataValue,
    depth: u32,
) -> Result<(), GgufError> {
    match v {
        MetadataValue::U8(x) => out.push(*x),
        MetadataValue::I8(x) => out.push(*x as u8),
        MetadataValue::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetadataValue::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetadataValue::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetadataValue::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetadataValue::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetadataValue::Bool(x) => out.push(u8::from(*x)),
        MetadataValue::String(s) => write_string(out, s),
        MetadataValue::Array(items) => {
            out.extend_from_slice(&item_type(key, items, depth)?.id().to_le_bytes());
            out.extend_from_slice(&(items.len() as u64).to_le_bytes());
            for item in items {
                write_value(out, key, item, depth + 1)?;
            }
        }
        MetadataValue::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetadataValue::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetadataValue::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = GgufWriter::new();
        w.metadata(
            "general.architecture",
            MetadataValue::String("llama".into()),
        )
        .metadata("llama.block_count", MetadataValue::U32(2))
        .metadata(
            "tokenizer.ggml.tokens",
            MetadataValue::Array(vec![
                MetadataValue::String("a".into()),
                MetadataValue::String("b".into()),
            ]),
        )
        .tensor("w", &[4, 2], TensorType::F32, vec![1u8; 32])
        .tensor("q", &[32], TensorType::Q8_0, vec![2u8; 34]);
        w.to_bytes().expect("writable")
    }

    #[test]
    fn reads_what_the_writer_wrote() {
        let bytes = sample();
        let f = GgufFile::read(&bytes).expect("valid");
        assert_eq!(f.architecture(), Some("llama"));
        assert_eq!(
            f.metadata("llama.block_count").and_then(|v| v.as_u64()),
            Some(2)
        );
        assert_eq!(f.tensors().len(), 2);
        let (info, data) = f.tensor_bytes(&bytes, "q").expect("present");
        assert_eq!(info.ty, TensorType::Q8_0);
        assert_eq!(data, &[2u8; 34][..]);
        assert_eq!(
            f.tensor_bytes(&bytes, "w").expect("present").1,
            &[1u8; 32][..]
        );
        assert_eq!(
            f.tensor_bytes(&bytes, "nope").unwrap_err(),
            GgufError::MissingTensor("nope".into())
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample();
        for len in 0..bytes.len() {
            // The last bytes may be alignment padding, which a reader does not need.
            if let Ok(f) = GgufFile::read(&bytes[..len]) {
                assert!(f.tensors().iter().all(|t| t.start + t.len <= len as u64));
            }
        }
        let err = GgufFile::read(&bytes[..bytes.len() - 40]).unwrap_err();
        assert!(matches!(err, GgufError::Truncated { .. }), "{err}");
        assert!(err.to_string().contains("truncated"));
    }

    #[test]
    fn huge_counts_are_rejected_before_allocating() {
        let mut bytes = sample();
        // The metadata count sits at bytes 16..24.
        bytes[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        let err = GgufFile::read(&bytes).unwrap_err();
        assert!(matches!(err, GgufError::Corrupt(_)), "{err}");
    }

    #[test]
    fn arrays_past_the_item_budget_are_rejected_though_their_bytes_are_there() {
        // A u8 array whose items the file really holds: each would still become a
        // `MetadataValue` many times its byte, so the budget, not the file size, decides.
        let n = MAX_ARRAY_ITEMS as usize + 1;
        let mut w = GgufWriter::new();
        w.metadata("junk", MetadataValue::Array(vec![MetadataValue::U8(7)]));
        let mut bytes = w.to_bytes().expect("writable");
        // The array's count sits after magic, version, counts, the key (8 + 4 bytes) and
        // the value and item types.
        let count_at = 4 + 4 + 8 + 8 + 8 + 4 + 4 + 4;
        bytes[count_at..count_at + 8].copy_from_slice(&(n as u64).to_le_bytes());
        bytes.truncate(count_at + 8);
        bytes.resize(count_at + 8 + n, 7);
        let err = GgufFile::read(&bytes).unwrap_err();
        assert!(matches!(err, GgufError::Corrupt(_)), "{err}");
        assert!(err.to_string().contains("`junk` holds"), "{err}");

        // An array within the budget is read.
        let n = 1000;
        let mut w = GgufWriter::new();
        w.metadata("fine", MetadataValue::Array(vec![MetadataValue::U8(7); n]));
        let f = GgufFile::read(&w.to_bytes().expect("writable")).expect("a small array");
        assert!(matches!(f.metadata("fine"), Some(MetadataValue::Array(a)) if a.len() == n));
    }

    #[test]
    fn a_metadata_key_given_twice_is_corrupt() {
        let mut w = GgufWriter::new();
        w.metadata("general.alignment", MetadataValue::U32(32))
            .metadata("general.alignment", MetadataValue::U32(64));
        let err = GgufFile::read(&w.to_bytes().expect("writable")).unwrap_err();
        assert_eq!(
            err,
            GgufError::Corrupt("the metadata key `general.alignment` appears twice".into())
        );
    }

    #[test]
    fn wrong_magic_and_version_are_named() {
        let mut bytes = sample();
        bytes[0] = b'X';
        assert!(GgufFile::read(&bytes)
            .unwrap_err()
            .to_string()
            .contains("not a GGUF file"));
        let mut bytes = sample();
        bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(
            GgufFile::read(&bytes).unwrap_err(),
            GgufError::UnsupportedVersion(1)
        );
    }

    #[test]
    fn unsupported_tensor_types_are_named() {
        let mut w = GgufWriter::new();
        w.tensor("t", &[256], TensorType::Q4K, vec![0u8; 144]);
        let mut bytes = w.to_bytes().expect("writable");
        // Patch the type id (after magic, version, counts, name, rank, one dim) to Q2_K.
        let type_at = 4 + 4 + 8 + 8 + 8 + 1 + 4 + 8;
        bytes[type_at..type_at + 4].copy_from_slice(&10u32.to_le_bytes());
        let err = GgufFile::read(&bytes).unwrap_err();
        assert_eq!(
            err,
            GgufError::UnsupportedTensorType {
                name: "t".into(),
                type_name: "Q2_K".into()
            }
        );
        assert!(err.to_string().contains("Q2_K"));
    }

    /// The element type id of the array stored under `key` in `bytes` (written by
    /// [`GgufWriter`]: the value type follows the key, then the element type).
    fn stored_item_type(bytes: &[u8], key: &str) -> u32 {
        let at = bytes
            .windows(key.len())
            .position(|w| w == key.as_bytes())
            .expect("the key is in the file")
            + key.len();
        assert_eq!(bytes[at..at + 4], 9u32.to_le_bytes(), "`{key}` is an array");
        u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap())
    }

    fn empty_tokenizer_arrays() -> Vec<u8> {
        let mut w = GgufWriter::new();
        for key in [
            "tokenizer.ggml.tokens",
            "tokenizer.ggml.merges",
            "tokenizer.ggml.token_type",
            "tokenizer.ggml.scores",
        ] {
            w.metadata(key, MetadataValue::Array(Vec::new()));
        }
        w.to_bytes().expect("writable")
    }

    #[test]
    fn empty_arrays_are_written_with_the_element_type_their_key_requires() {
        let bytes = empty_tokenizer_arrays();
        assert_eq!(stored_item_type(&bytes, "tokenizer.ggml.tokens"), 8);
        assert_eq!(stored_item_type(&bytes, "tokenizer.ggml.merges"), 8);
        assert_eq!(stored_item_type(&bytes, "tokenizer.ggml.token_type"), 5);
        assert_eq!(stored_item_type(&bytes, "tokenizer.ggml.scores"), 6);
        let f = GgufFile::read(&bytes).expect("readable");
        assert_eq!(
            f.metadata("tokenizer.ggml.merges"),
            Some(&MetadataValue::Array(Vec::new()))
        );

        // Arrays with items take their items' type.
        let mut w = GgufWriter::new();
        w.metadata(
            "tokenizer.ggml.merges",
            MetadataValue::Array(vec![MetadataValue::String("a b".into())]),
        )
        .metadata(
            "tokenizer.ggml.token_type",
            MetadataValue::Array(vec![MetadataValue::I32(1)]),
        )
        .metadata(
            "ponder.weights",
            MetadataValue::Array(vec![MetadataValue::F32(0.5)]),
        );
        let bytes = w.to_bytes().expect("writable");
        assert_eq!(stored_item_type(&bytes, "tokenizer.ggml.merges"), 8);
        assert_eq!(stored_item_type(&bytes, "tokenizer.ggml.token_type"), 5);
        assert_eq!(stored_item_type(&bytes, "ponder.weights"), 6);
    }

    #[test]
    fn arrays_no_reader_could_take_are_not_written() {
        let unwritable = |key: &str, value: MetadataValue| {
            let mut w = GgufWriter::new();
            w.metadata(key, value);
            match w.to_bytes() {
                Err(GgufError::Unwritable(why)) => why,
                other => panic!("`{key}` was written: {other:?}"),
            }
        };
        let why = unwritable("ponder.nothing", MetadataValue::Array(Vec::new()));
        assert!(
            why.contains("empty array") && why.contains("leave the key out"),
            "{why}"
        );
        let why = unwritable(
            "ponder.mixed",
            MetadataValue::Array(vec![MetadataValue::U8(1), MetadataValue::I32(2)]),
        );
        assert!(why.contains("mixes u8 and i32"), "{why}");
        let why = unwritable(
            "tokenizer.ggml.token_type",
            MetadataValue::Array(vec![MetadataValue::U32(1)]),
        );
        assert!(
            why.contains("u32") && why.contains("an array of i32"),
            "{why}"
        );
        let why = unwritable("tokenizer.ggml.tokens", MetadataValue::String("a".into()));
        assert!(why.contains("an array of string"), "{why}");
    }

    #[test]
    fn an_array_of_the_wrong_element_type_is_refused_even_when_empty() {
        // The built-in models' files before this check: an empty merges list stored as u8,
        // which llama.cpp refuses with "invalid gguf type for tokenizer.ggml.merges".
        let mut bytes = empty_tokenizer_arrays();
        let key = "tokenizer.ggml.merges";
        let at = bytes
            .windows(key.len())
            .position(|w| w == key.as_bytes())
            .unwrap()
            + key.len();
        bytes[at + 4..at + 8].copy_from_slice(&0u32.to_le_bytes());
        let err = GgufFile::read(&bytes).unwrap_err();
        assert_eq!(
            err,
            GgufError::WrongArrayType {
                key: key.into(),
                expected: "an array of string".into(),
                found: "an array of u8".into(),
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("llama.cpp") && text.contains("ponder-train metadata"),
            "{text}"
        );
        // A tool that rewrites such files can still read them.
        let f = GgufFile::read_for_repair(&bytes).expect("readable for repair");
        assert_eq!(f.metadata(key), Some(&MetadataValue::Array(Vec::new())));

        // Not an array at all: the value type is checked before the value is read.
        let mut bytes = empty_tokenizer_arrays();
        let key = "tokenizer.ggml.tokens";
        let at = bytes
            .windows(key.len())
            .position(|w| w == key.as_bytes())
            .unwrap()
            + key.len();
        bytes[at..at + 4].copy_from_slice(&4u32.to_le_bytes());
        assert!(matches!(
            GgufFile::read(&bytes).unwrap_err(),
            GgufError::WrongArrayType { found, .. } if found == "a u32"
        ));
    }
}
