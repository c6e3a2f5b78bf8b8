//! The codec routines the compression suite measures: snappy, zstd, gzip, zlib, lz4 and brotli,
//! each called the one-shot way most code does, and, where the library allows it, with a
//! compression context and output buffer kept from one call to the next.
//!
//! Backends: `snap`, `flate2` (default miniz_oxide backend), `lz4_flex` (default safe code) and
//! `brotli` are pure Rust; `zstd` binds the C library, built from source by `zstd-sys`, with its
//! `with-rust-allocator` feature: zstd's contexts then allocate through Rust's global allocator,
//! so that an allocation-counting harness sees them as it sees the other codecs' memory.
//!
//! These are benchmark routines, not a general API: a codec error means the suite itself is
//! broken, so every function panics on one instead of returning it.

use std::fmt;
use std::io::Write as _;

/// A codec with its settings: each variant is one column of the suite's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Snappy, raw format (no framing), crate `snap`.
    Snappy,
    /// Zstandard level 1: its fast setting.
    Zstd1,
    /// Zstandard level 3: the library's default level.
    Zstd3,
    /// gzip (RFC 1952) at level 6, zlib's default, crate `flate2`.
    Gzip6,
    /// zlib (RFC 1950) at level 6, crate `flate2`.
    Zlib6,
    /// LZ4 block format with the uncompressed size prepended (4 bytes, little-endian), crate
    /// `lz4_flex`.
    Lz4,
    /// Brotli quality 5, window 22 (4 MiB). Quality 11, the library's default, is far too slow
    /// to run under valgrind.
    Brotli5,
}

impl Codec {
    /// Every codec, in the order results are listed.
    pub const ALL: [Codec; 7] =
        [Codec::Snappy, Codec::Zstd1, Codec::Zstd3, Codec::Gzip6, Codec::Zlib6, Codec::Lz4, Codec::Brotli5];

    /// The stable short name used in benchmark ids (`zstd-3`). Changing one orphans the
    /// recorded baselines of that codec.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Snappy => "snappy",
            Codec::Zstd1 => "zstd-1",
            Codec::Zstd3 => "zstd-3",
            Codec::Gzip6 => "gzip-6",
            Codec::Zlib6 => "zlib-6",
            Codec::Lz4 => "lz4",
            Codec::Brotli5 => "brotli-5",
        }
    }

    /// Whether [`Reusable`] supports this codec, i.e. whether its library lets a compression
    /// context be kept and reused for the next input. All do except brotli: the `brotli` crate's
    /// encoder state serves a single stream and has no reset, so each stream needs a new one.
    pub const fn supports_reuse(self) -> bool {
        !matches!(self, Codec::Brotli5)
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Zstandard's fast level.
const ZSTD_FAST: i32 = 1;
/// Zstandard's default level (`zstd::DEFAULT_COMPRESSION_LEVEL`).
const ZSTD_DEFAULT: i32 = 3;
/// The level of both deflate codecs: zlib's and gzip's default.
const DEFLATE_LEVEL: u32 = 6;
/// Brotli quality and window (log2 of its size in bytes).
const BROTLI_QUALITY: i32 = 5;
const BROTLI_WINDOW: i32 = 22;

/// Compresses `input` as one-shot code does: every call builds whatever context or state the
/// library needs and drops it afterwards.
///
/// # Panics
///
/// If the library reports an error, which it does not for a valid codec setting.
pub fn compress(codec: Codec, input: &[u8]) -> Vec<u8> {
    match codec {
        Codec::Snappy => snap::raw::Encoder::new().compress_vec(input).expect("snappy compression failed"),
        Codec::Zstd1 => zstd_compress(input, ZSTD_FAST),
        Codec::Zstd3 => zstd_compress(input, ZSTD_DEFAULT),
        Codec::Gzip6 => gzip_compress(input),
        Codec::Zlib6 => zlib_compress(input),
        Codec::Lz4 => lz4_flex::block::compress_prepend_size(input),
        Codec::Brotli5 => brotli_compress(input),
    }
}

/// Decompresses what [`compress`] (or [`Reusable::compress_into`]) made of an input of
/// `original_len` bytes, with a fresh context, into an output allocated for that length.
///
/// # Panics
///
/// If `compressed` is not a valid stream of `codec`, or does not decompress to
/// `original_len` bytes.
pub fn decompress(codec: Codec, compressed: &[u8], original_len: usize) -> Vec<u8> {
    let output = match codec {
        Codec::Snappy => snap::raw::Decoder::new().decompress_vec(compressed).expect("invalid snappy data"),
        Codec::Zstd1 | Codec::Zstd3 => zstd::bulk::decompress(compressed, original_len).expect("invalid zstd data"),
        Codec::Gzip6 => read_all(flate2::read::GzDecoder::new(compressed), original_len),
        Codec::Zlib6 => read_all(flate2::read::ZlibDecoder::new(compressed), original_len),
        Codec::Lz4 => lz4_flex::block::decompress_size_prepended(compressed).expect("invalid lz4 data"),
        Codec::Brotli5 => brotli_decompress(compressed, original_len),
    };
    assert_eq!(output.len(), original_len, "{codec} decompressed to a wrong length");
    output
}

/// `zstd::bulk::compress`, which creates a compression context for the one call.
fn zstd_compress(input: &[u8], level: i32) -> Vec<u8> {
    zstd::bulk::compress(input, level).expect("zstd compression failed")
}

/// gzip through `flate2`'s writer, as its documentation shows.
fn gzip_compress(input: &[u8]) -> Vec<u8> {
    let level = flate2::Compression::new(DEFLATE_LEVEL);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder.write_all(input).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// zlib through `flate2`'s writer, as its documentation shows.
fn zlib_compress(input: &[u8]) -> Vec<u8> {
    let level = flate2::Compression::new(DEFLATE_LEVEL);
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), level);
    encoder.write_all(input).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

/// Brotli through the crate's `BrotliCompress` (4 KiB input and output buffers on the stack).
/// Each call sets up an encoder for a 4 MiB window, about 10 MB of allocations even for a 10 KB
/// input, which dominates small inputs; a size hint does not shrink it.
fn brotli_compress(input: &[u8]) -> Vec<u8> {
    let params =
        brotli::enc::BrotliEncoderParams { quality: BROTLI_QUALITY, lgwin: BROTLI_WINDOW, ..Default::default() };
    let mut output = Vec::new();
    brotli::BrotliCompress(&mut &input[..], &mut output, &params).expect("writing to a Vec cannot fail");
    output
}

/// Brotli through the crate's `BrotliDecompress`.
fn brotli_decompress(compressed: &[u8], original_len: usize) -> Vec<u8> {
    let mut output = Vec::with_capacity(original_len);
    brotli::BrotliDecompress(&mut &compressed[..], &mut output).expect("invalid brotli data");
    output
}

/// Reads a decoder to its end into a buffer sized for the expected output, so that the read
/// does not spend its time growing the buffer.
fn read_all(mut decoder: impl std::io::Read, original_len: usize) -> Vec<u8> {
    let mut output = Vec::with_capacity(original_len);
    decoder.read_to_end(&mut output).expect("invalid deflate data");
    output
}

/// A compression context kept from one call to the next, for the codecs whose library allows
/// it ([`Codec::supports_reuse`]; not brotli):
///
/// - snappy: one `snap::raw::Encoder` (it keeps its hash table);
/// - zstd: one `zstd::bulk::Compressor` (a `ZSTD_CCtx` with its tables and buffers);
/// - zlib: one `flate2::Compress`, `reset()` between inputs;
/// - gzip: the same `flate2::Compress` producing raw deflate, with the gzip header and trailer
///   (CRC-32 through a reused `flate2::Crc`) written around it, because `flate2`'s gzip encoder
///   has no reset and its `Compress::new_gzip` needs a C zlib backend. The bytes are identical to
///   `flate2::write::GzEncoder`'s;
/// - lz4: one `lz4_flex::block::CompressTable` (the hash table). It starts small and switches to
///   the large table, for good, at the first input of 64 KiB or more, as `lz4_flex` does; the
///   output equals the one-shot output while the table matches the input size.
///
/// The output buffer handed to [`Reusable::compress_into`] is reused too: cleared, capacity kept.
pub struct Reusable {
    codec: Codec,
    state: State,
}

/// The kept context of each codec.
enum State {
    /// Boxed: the encoder holds its 2 KiB hash table inline.
    Snappy(Box<snap::raw::Encoder>),
    Zstd(zstd::bulk::Compressor<'static>),
    Gzip {
        deflate: flate2::Compress,
        crc: flate2::Crc,
    },
    Zlib(flate2::Compress),
    Lz4(lz4_flex::block::CompressTable),
}

/// The gzip header `flate2::GzBuilder` writes at level 6: magic, deflate, no flags, no mtime,
/// no extra flags, OS "unknown".
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

impl Reusable {
    /// A context for `codec`, or `None` when its library offers no reusable context
    /// (see [`Codec::supports_reuse`]).
    ///
    /// # Panics
    ///
    /// If zstd cannot allocate a context.
    pub fn new(codec: Codec) -> Option<Self> {
        let level = flate2::Compression::new(DEFLATE_LEVEL);
        let state = match codec {
            Codec::Snappy => State::Snappy(Box::new(snap::raw::Encoder::new())),
            Codec::Zstd1 => State::Zstd(zstd_compressor(ZSTD_FAST)),
            Codec::Zstd3 => State::Zstd(zstd_compressor(ZSTD_DEFAULT)),
            Codec::Gzip6 => State::Gzip { deflate: flate2::Compress::new(level, false), crc: flate2::Crc::new() },
            Codec::Zlib6 => State::Zlib(flate2::Compress::new(level, true)),
            Codec::Lz4 => State::Lz4(lz4_flex::block::CompressTable::default()),
            Codec::Brotli5 => return None,
        };
        Some(Self { codec, state })
    }

    /// The codec this context compresses with.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Compresses `input` into `out`, replacing its contents; the result decompresses with
    /// [`decompress`]. `out` keeps its capacity, so that once it has grown to fit, later calls
    /// allocate nothing.
    ///
    /// # Panics
    ///
    /// If the library reports an error, which it does not for a valid codec setting.
    pub fn compress_into(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.clear();
        match &mut self.state {
            State::Snappy(encoder) => snappy_into(encoder, input, out),
            State::Zstd(compressor) => zstd_into(compressor, input, out),
            State::Gzip { deflate, crc } => gzip_into(deflate, crc, input, out),
            State::Zlib(deflate) => {
                deflate.reset();
                deflate_into(deflate, input, out);
            }
            State::Lz4(table) => lz4_into(table, input, out),
        }
    }
}

impl fmt::Debug for Reusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reusable").field("codec", &self.codec).finish_non_exhaustive()
    }
}

/// A zstd context set to `level`.
fn zstd_compressor(level: i32) -> zstd::bulk::Compressor<'static> {
    zstd::bulk::Compressor::new(level).expect("zstd could not create a context")
}

/// Snappy writes into an initialised slice, so the buffer is zero-filled to the worst-case size
/// first (as `compress_vec` does) and cut to the compressed size after.
fn snappy_into(encoder: &mut snap::raw::Encoder, input: &[u8], out: &mut Vec<u8>) {
    out.resize(snap::raw::max_compress_len(input.len()), 0);
    let written = encoder.compress(input, out).expect("snappy compression failed");
    out.truncate(written);
}

/// zstd writes into the buffer's spare capacity: reserve the worst case, no zero-filling.
fn zstd_into(compressor: &mut zstd::bulk::Compressor<'static>, input: &[u8], out: &mut Vec<u8>) {
    out.reserve(zstd::compress_bound(input.len()));
    compressor.compress_to_buffer(input, out).expect("zstd compression failed");
}

/// gzip as header, raw deflate and trailer (CRC-32 and length modulo 2^32, little-endian), the
/// layout RFC 1952 defines and `flate2::write::GzEncoder` writes.
fn gzip_into(deflate: &mut flate2::Compress, crc: &mut flate2::Crc, input: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&GZIP_HEADER);
    deflate.reset();
    deflate_into(deflate, input, out);
    crc.reset();
    crc.update(input);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
}

/// Runs a reset `Compress` over all of `input`, appending to `out`. `compress_vec` only fills
/// spare capacity, so reserve about deflate's worst case (incompressible input stored with a few
/// bytes of block headers, plus the zlib header and trailer), and grow if that is not enough.
fn deflate_into(deflate: &mut flate2::Compress, input: &[u8], out: &mut Vec<u8>) {
    out.reserve(input.len() + input.len() / 16_000 * 5 + 64);
    let start = deflate.total_in();
    loop {
        let consumed = (deflate.total_in() - start) as usize;
        let status = deflate
            .compress_vec(&input[consumed..], out, flate2::FlushCompress::Finish)
            .expect("deflate compression failed");
        if status == flate2::Status::StreamEnd {
            return;
        }
        out.reserve(out.capacity().max(64));
    }
}

/// lz4_flex writes into an initialised slice: size prefix, then the block, as
/// `compress_prepend_size` lays it out.
fn lz4_into(table: &mut lz4_flex::block::CompressTable, input: &[u8], out: &mut Vec<u8>) {
    let max = lz4_flex::block::get_maximum_output_size(input.len());
    out.resize(4 + max, 0);
    out[..4].copy_from_slice(&(input.len() as u32).to_le_bytes());
    let written = lz4_flex::block::compress_into_with_table(input, &mut out[4..], table)
        .expect("the output has the maximum size lz4 can need");
    out.truncate(4 + written);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data;

    const SEED: u64 = 42;

    /// Every payload kind and size the suite uses, as `(name, bytes)`.
    fn payloads() -> Vec<(String, Vec<u8>)> {
        let mut payloads = Vec::new();
        for (label, len) in data::SIZES {
            payloads.push((format!("metrics-{label}"), data::metrics_text(SEED, len)));
            payloads.push((format!("logs-{label}"), data::json_logs(SEED, len)));
        }
        payloads
    }

    #[test]
    fn names_are_distinct_and_stable() {
        let names: Vec<&str> = Codec::ALL.iter().map(|codec| codec.name()).collect();
        assert_eq!(names, ["snappy", "zstd-1", "zstd-3", "gzip-6", "zlib-6", "lz4", "brotli-5"]);
        assert_eq!(Codec::Zstd3.to_string(), "zstd-3");
    }

    #[test]
    fn every_codec_round_trips_every_payload() {
        for (name, input) in payloads() {
            for codec in Codec::ALL {
                let compressed = compress(codec, &input);
                let output = decompress(codec, &compressed, input.len());
                assert!(output == input, "{codec} did not round-trip {name}");
            }
        }
    }

    #[test]
    fn empty_and_tiny_inputs_round_trip() {
        for input in [&b""[..], b"x", b"up 1\n"] {
            for codec in Codec::ALL {
                let compressed = compress(codec, input);
                assert_eq!(decompress(codec, &compressed, input.len()), input, "{codec}");
            }
        }
    }

    #[test]
    fn zstd_levels_are_the_documented_ones() {
        assert_eq!(ZSTD_DEFAULT, zstd::DEFAULT_COMPRESSION_LEVEL);
        let input = data::metrics_text(SEED, 100 * 1024);
        assert!(compress(Codec::Zstd3, &input).len() < compress(Codec::Zstd1, &input).len());
    }

    #[test]
    #[should_panic(expected = "wrong length")]
    fn decompress_checks_the_length() {
        let input = data::json_logs(SEED, 1000);
        decompress(Codec::Snappy, &compress(Codec::Snappy, &input), 999);
    }

    #[test]
    fn only_brotli_lacks_reuse() {
        for codec in Codec::ALL {
            assert_eq!(Reusable::new(codec).is_some(), codec.supports_reuse(), "{codec}");
            assert_eq!(codec.supports_reuse(), codec != Codec::Brotli5);
        }
    }

    /// One context and one buffer per codec and size, fed metrics, then logs, then the metrics
    /// again: each output decompresses and equals the one-shot output (every format here is
    /// deterministic), and once the buffer has grown it is not reallocated.
    #[test]
    fn reused_context_matches_fresh_output() {
        for codec in Codec::ALL.into_iter().filter(|codec| codec.supports_reuse()) {
            for (label, len) in data::SIZES {
                let inputs = [data::metrics_text(SEED, len), data::json_logs(SEED, len), data::metrics_text(SEED, len)];
                let mut context = Reusable::new(codec).expect("supports reuse");
                assert_eq!(context.codec(), codec);
                let mut out = Vec::new();
                let mut buffer = None;
                for input in &inputs {
                    context.compress_into(input, &mut out);
                    assert_eq!(decompress(codec, &out, len), *input, "{codec} {label}");
                    assert!(out == compress(codec, input), "{codec} {label}: differs");
                    let address = out.as_ptr();
                    assert_eq!(*buffer.get_or_insert(address), address, "{codec} {label}");
                }
            }
        }
    }

    /// Prints the ratios (run with `--nocapture`); asserts only that every codec shrinks these
    /// payloads, since exact ratios are the libraries' business.
    #[test]
    fn every_codec_shrinks_the_payloads() {
        let payloads = payloads();
        print!("{:<14}", "payload");
        for codec in Codec::ALL {
            print!("{:>10}", codec.name());
        }
        println!();
        for (name, input) in &payloads {
            print!("{name:<14}");
            for codec in Codec::ALL {
                let compressed = compress(codec, input);
                assert!(compressed.len() < input.len(), "{codec} grew {name}");
                print!("{:>10.2}", input.len() as f64 / compressed.len() as f64);
            }
            println!();
        }
    }
}
