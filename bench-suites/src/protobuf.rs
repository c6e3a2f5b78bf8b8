//! The Prometheus remote-write `WriteRequest` the protobuf suite encodes and decodes, declared for
//! two libraries: [`prompb`] for prost (`#[derive(prost::Message)]` structs written by hand as
//! prost-build would generate them, so no protoc and no build script) and [`quick`] for
//! quick-protobuf (`MessageRead`/`MessageWrite` impls written by hand as pb-rs generates them, with
//! label strings borrowed from the input), plus a deterministic generator of realistic requests.
//!
//! The messages follow prometheus/prompb's `types.proto` and `remote.proto`, restricted to the fields
//! remote write 1.0 sends for float samples: `WriteRequest.timeseries = 1`, `TimeSeries.labels = 1`
//! and `samples = 2`, `Label.name = 1` and `value = 2`, `Sample.value = 1` (double) and
//! `timestamp = 2` (int64). Exemplars, native histograms and metadata are left out; both decoders
//! skip them as unknown fields. A request body is the bare message, not length-delimited.
//!
//! These are benchmark routines, not a general API: an encoding error means the suite itself is
//! broken, so the encoders panic on one; the decoders return the library's error.

use std::borrow::Cow;

use prost::Message as _;
use quick_protobuf::{BytesReader, MessageRead as _, MessageWrite as _, Writer};

use crate::data::SplitMix64;

/// The remote-write messages as prost types, as prost-build generates them from prompb's protos
/// (field for field, with the same attributes).
pub mod prompb {
    /// A batch of samples, the body of one remote-write request (before snappy compression).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct WriteRequest {
        #[prost(message, repeated, tag = "1")]
        pub timeseries: Vec<TimeSeries>,
    }

    /// One series: its labels, sorted by name with `__name__` among them, and its samples in time
    /// order.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TimeSeries {
        #[prost(message, repeated, tag = "1")]
        pub labels: Vec<Label>,
        #[prost(message, repeated, tag = "2")]
        pub samples: Vec<Sample>,
    }

    /// A label pair.
    #[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
    pub struct Label {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }

    /// A float sample at a Unix time in milliseconds.
    #[derive(Clone, Copy, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(double, tag = "1")]
        pub value: f64,
        #[prost(int64, tag = "2")]
        pub timestamp: i64,
    }
}

/// The remote-write messages as quick-protobuf types, as pb-rs generates them from prompb's protos
/// for proto3: strings are `Cow<str>`, so that a decoded request borrows every label from the input
/// buffer instead of allocating a `String` for each (quick-protobuf's selling point); scalar fields
/// at their default value and empty strings are not written, as proto3 requires and prost does too.
pub mod quick {
    use std::borrow::Cow;

    use quick_protobuf::sizeofs::{sizeof_len, sizeof_varint};
    use quick_protobuf::{BytesReader, MessageRead, MessageWrite, Result, Writer, WriterBackend};

    /// See [`super::prompb::WriteRequest`].
    #[derive(Debug, Default, PartialEq, Clone)]
    pub struct WriteRequest<'a> {
        pub timeseries: Vec<TimeSeries<'a>>,
    }

    /// See [`super::prompb::TimeSeries`].
    #[derive(Debug, Default, PartialEq, Clone)]
    pub struct TimeSeries<'a> {
        pub labels: Vec<Label<'a>>,
        pub samples: Vec<Sample>,
    }

    /// See [`super::prompb::Label`].
    #[derive(Debug, Default, PartialEq, Clone)]
    pub struct Label<'a> {
        pub name: Cow<'a, str>,
        pub value: Cow<'a, str>,
    }

    /// See [`super::prompb::Sample`].
    #[derive(Debug, Default, PartialEq, Clone, Copy)]
    pub struct Sample {
        pub value: f64,
        pub timestamp: i64,
    }

    // Tags are `field << 3 | wire type`: 10 and 18 are fields 1 and 2 length-delimited, 9 is field
    // 1 as fixed64 (double), 16 is field 2 as varint (int64).

    impl<'a> MessageRead<'a> for WriteRequest<'a> {
        fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
            let mut msg = Self::default();
            while !r.is_eof() {
                match r.next_tag(bytes)? {
                    10 => msg.timeseries.push(r.read_message::<TimeSeries>(bytes)?),
                    t => r.read_unknown(bytes, t)?,
                }
            }
            Ok(msg)
        }
    }

    impl MessageWrite for WriteRequest<'_> {
        fn get_size(&self) -> usize {
            self.timeseries.iter().map(|s| 1 + sizeof_len(s.get_size())).sum::<usize>()
        }

        fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
            for s in &self.timeseries {
                w.write_with_tag(10, |w| w.write_message(s))?;
            }
            Ok(())
        }
    }

    impl<'a> MessageRead<'a> for TimeSeries<'a> {
        fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
            let mut msg = Self::default();
            while !r.is_eof() {
                match r.next_tag(bytes)? {
                    10 => msg.labels.push(r.read_message::<Label>(bytes)?),
                    18 => msg.samples.push(r.read_message::<Sample>(bytes)?),
                    t => r.read_unknown(bytes, t)?,
                }
            }
            Ok(msg)
        }
    }

    impl MessageWrite for TimeSeries<'_> {
        fn get_size(&self) -> usize {
            self.labels.iter().map(|s| 1 + sizeof_len(s.get_size())).sum::<usize>()
                + self.samples.iter().map(|s| 1 + sizeof_len(s.get_size())).sum::<usize>()
        }

        fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
            for s in &self.labels {
                w.write_with_tag(10, |w| w.write_message(s))?;
            }
            for s in &self.samples {
                w.write_with_tag(18, |w| w.write_message(s))?;
            }
            Ok(())
        }
    }

    impl<'a> MessageRead<'a> for Label<'a> {
        fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
            let mut msg = Self::default();
            while !r.is_eof() {
                match r.next_tag(bytes)? {
                    10 => msg.name = r.read_string(bytes).map(Cow::Borrowed)?,
                    18 => msg.value = r.read_string(bytes).map(Cow::Borrowed)?,
                    t => r.read_unknown(bytes, t)?,
                }
            }
            Ok(msg)
        }
    }

    impl MessageWrite for Label<'_> {
        fn get_size(&self) -> usize {
            let field = |s: &str| if s.is_empty() { 0 } else { 1 + sizeof_len(s.len()) };
            field(&self.name) + field(&self.value)
        }

        fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
            if !self.name.is_empty() {
                w.write_with_tag(10, |w| w.write_string(&self.name))?;
            }
            if !self.value.is_empty() {
                w.write_with_tag(18, |w| w.write_string(&self.value))?;
            }
            Ok(())
        }
    }

    impl<'a> MessageRead<'a> for Sample {
        fn from_reader(r: &mut BytesReader, bytes: &'a [u8]) -> Result<Self> {
            let mut msg = Self::default();
            while !r.is_eof() {
                match r.next_tag(bytes)? {
                    9 => msg.value = r.read_double(bytes)?,
                    16 => msg.timestamp = r.read_int64(bytes)?,
                    t => r.read_unknown(bytes, t)?,
                }
            }
            Ok(msg)
        }
    }

    impl MessageWrite for Sample {
        fn get_size(&self) -> usize {
            (if self.value == 0f64 { 0 } else { 1 + 8 })
                + if self.timestamp == 0 { 0 } else { 1 + sizeof_varint(self.timestamp as u64) }
        }

        fn write_message<W: WriterBackend>(&self, w: &mut Writer<W>) -> Result<()> {
            if self.value != 0f64 {
                w.write_with_tag(9, |w| w.write_double(self.value))?;
            }
            if self.timestamp != 0 {
                w.write_with_tag(16, |w| w.write_int64(self.timestamp))?;
            }
            Ok(())
        }
    }
}

impl<'a> quick::WriteRequest<'a> {
    /// The same request as quick-protobuf messages, borrowing every string of `request`.
    pub fn borrowing(request: &'a prompb::WriteRequest) -> Self {
        let timeseries = request
            .timeseries
            .iter()
            .map(|series| quick::TimeSeries {
                labels: series
                    .labels
                    .iter()
                    .map(|label| quick::Label { name: Cow::Borrowed(&label.name), value: Cow::Borrowed(&label.value) })
                    .collect(),
                samples: series
                    .samples
                    .iter()
                    .map(|sample| quick::Sample { value: sample.value, timestamp: sample.timestamp })
                    .collect(),
            })
            .collect();
        Self { timeseries }
    }

    /// The same request as prost messages, every string copied.
    pub fn to_prost(&self) -> prompb::WriteRequest {
        let timeseries = self
            .timeseries
            .iter()
            .map(|series| prompb::TimeSeries {
                labels: series
                    .labels
                    .iter()
                    .map(|label| prompb::Label { name: label.name.to_string(), value: label.value.to_string() })
                    .collect(),
                samples: series
                    .samples
                    .iter()
                    .map(|sample| prompb::Sample { value: sample.value, timestamp: sample.timestamp })
                    .collect(),
            })
            .collect();
        prompb::WriteRequest { timeseries }
    }
}

/// prost's one-shot encoding: `encode_to_vec` sizes a new `Vec` exactly (`encoded_len`) and fills it.
pub fn prost_encode(request: &prompb::WriteRequest) -> Vec<u8> {
    request.encode_to_vec()
}

/// prost encoding into a kept buffer: cleared, capacity kept, so that once it has grown to fit,
/// later calls allocate nothing.
///
/// # Panics
///
/// Never in practice: a `Vec` grows as needed, so prost's capacity check cannot fail.
pub fn prost_encode_into(request: &prompb::WriteRequest, out: &mut Vec<u8>) {
    out.clear();
    request.encode(out).expect("a Vec grows to fit any message");
}

/// prost decoding: every label becomes two owned `String`s.
///
/// # Errors
///
/// If `bytes` is not a valid `WriteRequest`.
pub fn prost_decode(bytes: &[u8]) -> Result<prompb::WriteRequest, prost::DecodeError> {
    prompb::WriteRequest::decode(bytes)
}

/// quick-protobuf's one-shot encoding of a bare message, as its `serialize_into_vec` does it but
/// without the length prefix that function writes (a remote-write body has none): a new `Vec` of
/// exactly `get_size()` bytes, filled through the `std::io::Write` backend.
pub fn quick_encode(request: &quick::WriteRequest<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(request.get_size());
    quick_write(request, &mut out);
    out
}

/// quick-protobuf encoding into a kept buffer: cleared, capacity kept.
pub fn quick_encode_into(request: &quick::WriteRequest<'_>, out: &mut Vec<u8>) {
    out.clear();
    quick_write(request, out);
}

/// Appends the bare message to `out`.
fn quick_write(request: &quick::WriteRequest<'_>, out: &mut Vec<u8>) {
    request.write_message(&mut Writer::new(out)).expect("writing to a Vec cannot fail");
}

/// quick-protobuf decoding of a bare message: labels borrow from `bytes` (`Cow::Borrowed`), so only
/// the `Vec`s of series, labels and samples are allocated.
///
/// # Errors
///
/// If `bytes` is not a valid `WriteRequest`.
pub fn quick_decode(bytes: &[u8]) -> quick_protobuf::Result<quick::WriteRequest<'_>> {
    quick::WriteRequest::from_reader(&mut BytesReader::from_bytes(bytes), bytes)
}

// ---------------------------------------------------------------------------------------------
// Request generator
// ---------------------------------------------------------------------------------------------

/// Samples per series: the few a remote-write shard batches per series when it sends every few
/// scrapes (here three scrapes, 15 s apart).
pub const SAMPLES_PER_SERIES: usize = 3;

/// Unix time of the first sample, in milliseconds (2023-11-14T22:13:20Z, as in `data::metrics_text`).
const FIRST_SAMPLE_MS: i64 = 1_700_000_000_000;
/// Time between two samples of a series: Prometheus' usual scrape interval.
const SCRAPE_INTERVAL_MS: i64 = 15_000;

/// Values of the external labels (`global.external_labels`) Prometheus adds to every series it sends.
const CLUSTERS: &[&str] = &["prod-eu-west-1", "prod-us-east-1", "staging-eu-west-1"];
const REPLICAS: &[&str] = &["prometheus-k8s-0", "prometheus-k8s-1"];

/// How a family's samples move from one scrape to the next.
#[derive(Clone, Copy)]
enum Kind {
    /// A counter growing by up to this many units per scrape, printed with this many decimals.
    Counter(u64, u32),
    /// A gauge below this many units, printed with this many decimals.
    Gauge(u64, u32),
}

/// A metric family: its name, the job and port of the targets exposing it, its own labels (on top
/// of `__name__`, `cluster`, `instance`, `job` and `replica`) with their possible values.
struct Family {
    name: &'static str,
    job: &'static str,
    port: u16,
    labels: &'static [(&'static str, &'static [&'static str])],
    kind: Kind,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE"];
const HANDLERS: &[&str] = &["/api/v1/query", "/api/v1/query_range", "/api/v1/push", "/api/v1/series", "/healthz"];
const NAMESPACES: &[&str] = &["default", "ingest", "query", "monitoring", "kube-system"];
const PODS: &[&str] = &["api-6f7b9c5d8-2lq4z", "ingester-0", "querier-5c8d7f9b4-q7wzt", "coredns-5d78c9869d-9xk2r"];

/// The families series are drawn from: with the five common labels, every series has 5 to 8.
#[rustfmt::skip]
static FAMILIES: [Family; 12] = [
    Family { name: "http_requests_total", job: "api", port: 8080, labels: &[("code", &["200", "201", "400", "404", "500", "503"]), ("handler", HANDLERS), ("method", METHODS)], kind: Kind::Counter(600, 0) },
    Family { name: "http_request_duration_seconds_bucket", job: "api", port: 8080, labels: &[("handler", HANDLERS), ("le", &["0.005", "0.025", "0.1", "0.5", "1", "2.5", "+Inf"]), ("method", METHODS)], kind: Kind::Counter(400, 0) },
    Family { name: "grpc_server_handled_total", job: "etcd", port: 2379, labels: &[("grpc_code", &["OK", "Canceled", "DeadlineExceeded", "Unavailable"]), ("grpc_method", &["Range", "Put", "Txn", "Watch", "LeaseKeepAlive"]), ("grpc_service", &["etcdserverpb.KV", "etcdserverpb.Watch", "etcdserverpb.Lease"])], kind: Kind::Counter(900, 0) },
    Family { name: "node_cpu_seconds_total", job: "node", port: 9100, labels: &[("cpu", &["0", "1", "2", "3"]), ("mode", &["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"])], kind: Kind::Counter(1500, 2) },
    Family { name: "node_filesystem_avail_bytes", job: "node", port: 9100, labels: &[("device", &["/dev/nvme0n1p2", "/dev/sda1", "tmpfs"]), ("mountpoint", &["/", "/var/lib/docker", "/run"])], kind: Kind::Gauge(400_000_000_000, 0) },
    Family { name: "node_network_receive_bytes_total", job: "node", port: 9100, labels: &[("device", &["eth0", "lo", "docker0", "veth3a9f1c2"])], kind: Kind::Counter(80_000_000, 0) },
    Family { name: "container_memory_working_set_bytes", job: "kubelet", port: 10250, labels: &[("container", &["api", "ingester", "querier", "coredns"]), ("namespace", NAMESPACES), ("pod", PODS)], kind: Kind::Gauge(8_000_000_000, 0) },
    Family { name: "kube_pod_status_phase", job: "kube-state-metrics", port: 8080, labels: &[("namespace", NAMESPACES), ("phase", &["Failed", "Pending", "Running", "Succeeded", "Unknown"])], kind: Kind::Gauge(2, 0) },
    Family { name: "apiserver_request_total", job: "apiserver", port: 6443, labels: &[("code", &["200", "201", "404", "409"]), ("resource", &["pods", "nodes", "configmaps", "leases"]), ("verb", &["GET", "LIST", "WATCH", "PATCH"])], kind: Kind::Counter(400, 0) },
    Family { name: "process_resident_memory_bytes", job: "api", port: 8080, labels: &[], kind: Kind::Gauge(2_000_000_000, 0) },
    Family { name: "go_goroutines", job: "prometheus", port: 9090, labels: &[], kind: Kind::Gauge(600, 0) },
    Family { name: "scrape_duration_seconds", job: "redis", port: 9121, labels: &[], kind: Kind::Gauge(200_000_000, 9) },
];

/// A remote-write request of `series` series with [`SAMPLES_PER_SERIES`] samples each: series of the
/// families above at random targets and label values, labels sorted by name as Prometheus sends
/// them. Same `seed`, same request.
pub fn write_request(seed: u64, series: usize) -> prompb::WriteRequest {
    let mut rng = SplitMix64::new(seed);
    let cluster = rng.pick(CLUSTERS);
    let replica = rng.pick(REPLICAS);
    let timeseries = (0..series).map(|_| time_series(&mut rng, cluster, replica)).collect();
    prompb::WriteRequest { timeseries }
}

/// One series of a random family, at a random target.
fn time_series(rng: &mut SplitMix64, cluster: &str, replica: &str) -> prompb::TimeSeries {
    let family = &FAMILIES[rng.index(FAMILIES.len())];
    let instance = format!("10.{}.{}.{}:{}", rng.below(4), rng.below(256), rng.range(2, 255), family.port);
    let mut labels = vec![
        label("__name__", family.name),
        label("cluster", cluster),
        label("instance", &instance),
        label("job", family.job),
        label("replica", replica),
    ];
    labels.extend(family.labels.iter().map(|(name, values)| label(name, rng.pick(values))));
    labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));

    let first_ms = FIRST_SAMPLE_MS + rng.below(SCRAPE_INTERVAL_MS as u64) as i64;
    let (mut units, step, decimals) = match family.kind {
        Kind::Counter(rate, decimals) => (rate * rng.range(200, 200_000), rate, decimals),
        Kind::Gauge(max, decimals) => (rng.range(max / 10, max + 1), 0, decimals),
    };
    let samples = (0..SAMPLES_PER_SERIES as i64)
        .map(|i| {
            units += rng.below(step + 1);
            // Both operands are exact in f64 and the division is correctly rounded: deterministic.
            let value = units as f64 / 10u64.pow(decimals) as f64;
            prompb::Sample { value, timestamp: first_ms + i * SCRAPE_INTERVAL_MS }
        })
        .collect();
    prompb::TimeSeries { labels, samples }
}

fn label(name: &str, value: &str) -> prompb::Label {
    prompb::Label { name: name.to_owned(), value: value.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: u64 = 7;
    const SIZES: [usize; 4] = [0, 10, 100, 1000];

    #[test]
    fn same_seed_gives_the_same_request() {
        assert_eq!(write_request(SEED, 100), write_request(SEED, 100));
        assert_ne!(write_request(SEED, 100), write_request(SEED + 1, 100));
    }

    #[test]
    fn requests_look_like_prometheus_remote_write() {
        let request = write_request(SEED, 1000);
        assert_eq!(request.timeseries.len(), 1000);
        let mut families = std::collections::BTreeSet::new();
        for series in &request.timeseries {
            assert!((5..=8).contains(&series.labels.len()), "{series:?}");
            assert_eq!(series.labels[0].name, "__name__");
            families.insert(series.labels[0].value.as_str());
            assert!(series.labels.windows(2).all(|w| w[0].name < w[1].name), "sorted, unique: {series:?}");
            assert!(series.labels.iter().all(|l| !l.value.is_empty()));
            assert_eq!(series.samples.len(), SAMPLES_PER_SERIES);
            assert!(series.samples.windows(2).all(|w| w[0].timestamp + SCRAPE_INTERVAL_MS == w[1].timestamp));
            assert!(series.samples.iter().all(|s| s.value.is_finite() && s.value >= 0.0));
        }
        assert_eq!(families.len(), FAMILIES.len());
        let labels: usize = request.timeseries.iter().map(|s| s.labels.len()).sum();
        assert!(labels > 6000 && labels < 7000, "about 6.5 labels per series: {labels}");
    }

    /// The two libraries write the very same bytes, and each decodes the other's output back to
    /// the original request.
    #[test]
    fn prost_and_quick_protobuf_agree_byte_for_byte() {
        for series in SIZES {
            let request = write_request(SEED, series);
            let quick_request = quick::WriteRequest::borrowing(&request);
            let prost_bytes = prost_encode(&request);
            let quick_bytes = quick_encode(&quick_request);
            assert!(prost_bytes == quick_bytes, "{series} series");
            assert_eq!(prost_bytes.len(), request.encoded_len());
            assert_eq!(quick_bytes.len(), quick_request.get_size());
            assert_eq!(prost_decode(&quick_bytes).unwrap(), request);
            assert_eq!(quick_decode(&prost_bytes).unwrap(), quick_request);
            assert_eq!(quick_decode(&prost_bytes).unwrap().to_prost(), request);
        }
    }

    #[test]
    fn encoded_sizes_are_realistic() {
        // About 180 bytes of labels and 3 x 20 bytes of samples per series.
        let len = prost_encode(&write_request(SEED, 1000)).len();
        assert!((200_000..300_000).contains(&len), "{len}");
        assert!(prost_encode(&write_request(SEED, 0)).is_empty());
    }

    /// Reused buffers give the one-shot bytes and keep their allocation.
    #[test]
    fn encoding_into_a_reused_buffer_matches_fresh_encoding() {
        let mut prost_out = Vec::new();
        let mut quick_out = Vec::new();
        for series in [1000, 10, 100, 1000] {
            let request = write_request(SEED, series);
            let quick_request = quick::WriteRequest::borrowing(&request);
            prost_encode_into(&request, &mut prost_out);
            quick_encode_into(&quick_request, &mut quick_out);
            assert!(prost_out == prost_encode(&request));
            assert!(quick_out == prost_out);
        }
        let (prost_ptr, quick_ptr) = (prost_out.as_ptr(), quick_out.as_ptr());
        let request = write_request(SEED, 100);
        prost_encode_into(&request, &mut prost_out);
        quick_encode_into(&quick::WriteRequest::borrowing(&request), &mut quick_out);
        assert_eq!((prost_out.as_ptr(), quick_out.as_ptr()), (prost_ptr, quick_ptr));
    }

    /// quick-protobuf's decoded labels point into the input buffer: no string is copied.
    #[test]
    fn quick_protobuf_decode_borrows_every_label() {
        let bytes = prost_encode(&write_request(SEED, 100));
        let range = bytes.as_ptr_range();
        let decoded = quick_decode(&bytes).unwrap();
        for label in decoded.timeseries.iter().flat_map(|s| &s.labels) {
            for text in [&label.name, &label.value] {
                let Cow::Borrowed(s) = text else { panic!("{text} was copied") };
                assert!(range.contains(&s.as_ptr()), "{s} is not in the input");
            }
        }
    }

    /// Fields a later prompb adds (exemplars, histograms) are skipped, and zero values (absent on
    /// the wire in proto3) decode as zero.
    #[test]
    fn unknown_fields_and_defaults_decode() {
        let request = prompb::WriteRequest {
            timeseries: vec![prompb::TimeSeries {
                labels: vec![label("__name__", "up"), label("job", "")],
                samples: vec![
                    prompb::Sample { value: 0.0, timestamp: 0 },
                    prompb::Sample { value: 1.0, timestamp: -5 },
                ],
            }],
        };
        let mut bytes = prost_encode(&request);
        // WriteRequest field 3 (metadata), length-delimited, 2 bytes; and field 7 as a varint.
        bytes.extend_from_slice(&[26, 2, 0xAB, 0xCD, 56, 0x96, 0x01]);
        assert_eq!(prost_decode(&bytes).unwrap(), request);
        assert_eq!(quick_decode(&bytes).unwrap().to_prost(), request);
        assert!(quick_encode(&quick::WriteRequest::borrowing(&request)) == prost_encode(&request));
    }

    #[test]
    fn truncated_input_is_an_error() {
        let bytes = prost_encode(&write_request(SEED, 10));
        let cut = &bytes[..bytes.len() - 3];
        assert!(prost_decode(cut).is_err());
        assert!(quick_decode(cut).is_err());
    }
}
