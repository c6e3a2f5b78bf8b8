//! Deterministic, seeded generators of realistic benchmark payloads: Prometheus text exposition
//! and JSON log lines, made at run time so that no data blob is committed.
//!
//! # Determinism
//!
//! The same seed and length give byte-identical output on every run, platform and Rust version:
//! the generators draw only from [`SplitMix64`], use integer arithmetic only (no floating point,
//! whose formatting or `libm` functions could differ), and never look at the clock, the
//! environment or a randomly seeded hash map. Changing the generators changes the payloads, and
//! with them every recorded baseline of the suites that use them, so treat their output as a
//! stable format.

use std::fmt::Write as _;

/// Payload sizes the suites use, as `(label, bytes)`; the label goes into benchmark parameters.
pub const SIZES: [(&str, usize); 3] = [("10KB", 10 * 1024), ("100KB", 100 * 1024), ("1MB", 1024 * 1024)];

/// The splitmix64 generator (Steele, Lea and Flood 2014; constants as in Vigna's reference code).
///
/// Tiny, fast, and good enough for test data; written out here so that payloads never change
/// because a dependency changed its algorithm. Not for cryptography.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose whole future output is fixed by `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`; `n` must not be 0.
    ///
    /// Lemire's multiply-shift: no division, and its bias (under `n / 2^64`) is irrelevant here.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "SplitMix64::below(0)");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..hi`; `hi` must be greater than `lo`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    /// True with a probability of `percent` in 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// An index in `0..len`; `len` must not be 0.
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// A uniformly chosen element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.index(items.len())]
    }

    /// `base` moved up or down by at most `base / divisor`, so that a gauge wobbles around its level.
    fn wobble(&mut self, base: u64, divisor: u64) -> u64 {
        let spread = base / divisor;
        base - spread + self.below(2 * spread + 1)
    }
}

/// Cuts the generated text to exactly `target_len` bytes. The generators stop as soon as they
/// have at least that much, so only the last line is cut, possibly in its middle (all generated
/// text is ASCII, so no character is split).
fn exact_len(text: String, target_len: usize) -> Vec<u8> {
    let mut bytes = text.into_bytes();
    debug_assert!(bytes.len() >= target_len);
    bytes.truncate(target_len);
    bytes
}

/// Appends a number; `String` formatting cannot fail, hence the `expect`.
fn push_num(out: &mut String, n: u64) {
    write!(out, "{n}").expect("writing to a String cannot fail");
}

/// Appends `n` as lowercase hex, zero-padded to `width` digits (trace ids, pod name hashes).
fn push_hex(out: &mut String, n: u64, width: usize) {
    write!(out, "{n:0width$x}").expect("writing to a String cannot fail");
}

/// Appends a fixed-point number with `decimals` decimal places, trailing zeros dropped
/// (`12500, 3` is `12.5`), the way JSON loggers print a float.
fn push_fixed(out: &mut String, units: u64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    push_num(out, units / scale);
    let frac = units % scale;
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = decimals as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// Appends `units / 10^scale` the way Prometheus' Go client prints a sample value:
/// `strconv.FormatFloat(v, 'g', -1, 64)`, i.e. the shortest digits, in exponent form when the
/// exponent is below -4 or at least 6 (`2.4576e+07`, `2.0795e-05`, `1027`, `0.25`).
fn push_go_float(out: &mut String, mut units: u64, scale: u32) {
    if units == 0 {
        out.push('0');
        return;
    }
    let mut scale = i64::from(scale);
    // A float64 holds about 16 significant digits: never print more than 15.
    while units >= 1_000_000_000_000_000 || units.is_multiple_of(10) {
        units /= 10;
        scale -= 1;
    }
    let digits = units.to_string();
    let point = digits.len() as i64 - scale; // digits before the decimal point
    let exp = point - 1;
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        write!(out, "e{sign}{:02}", exp.abs()).expect("writing to a String cannot fail");
    } else if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
}

// ---------------------------------------------------------------------------------------------
// Prometheus text exposition
// ---------------------------------------------------------------------------------------------

/// Prometheus text exposition (version 0.0.4) as served by `/federate`: samples of several scrape
/// targets with their `instance` and `job` labels and a millisecond timestamp, for example
///
/// ```text
/// http_requests_total{method="GET",handler="/api/v1/query",code="200",instance="10.0.3.17:8080",job="api"} 1027 1700000000123
/// ```
///
/// About 60 metric families of the Go runtime, node_exporter, Prometheus itself, an HTTP/gRPC
/// service, Kubernetes, etcd, Redis, PostgreSQL, CoreDNS and the scrape loop: counters that grow
/// from one round to the next, gauges that wobble around a level, histograms (`_bucket{le=...}`,
/// `_sum`, `_count`) and summaries (`{quantile=...}`), values printed as the Go client prints
/// them. Targets are written one after another, round after round (15 s apart), so a payload
/// holds every family of a target before the next target starts, as a real scrape does.
/// `# HELP`/`# TYPE` lines come before a family's first appearance and then now and again.
///
/// The output is exactly `target_len` bytes: the last line is cut where the length runs out.
/// Same `seed`, same bytes; see the module documentation.
pub fn metrics_text(seed: u64, target_len: usize) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let targets = build_targets(&mut rng);
    let mut out = String::with_capacity(target_len + 1024);
    let mut described = vec![false; FAMILIES.len()];
    let mut round = 0;
    while out.len() < target_len {
        for index in shuffled(&mut rng, targets.len()) {
            write_scrape(&mut out, &mut rng, &targets[index], round, &mut described);
            if out.len() >= target_len {
                break;
            }
        }
        round += 1;
    }
    exact_len(out, target_len)
}

/// Unix time of the first scrape round, in milliseconds (2023-11-14T22:13:20Z).
const FIRST_SCRAPE_MS: u64 = 1_700_000_000_000;
/// Time between two scrape rounds: Prometheus' usual 15 s interval.
const SCRAPE_INTERVAL_MS: u64 = 15_000;

/// How a family is reported.
#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    /// `_bucket` lines at these upper bounds, then `+Inf`, `_sum` and `_count`.
    Histogram(&'static [Bucket]),
    /// Lines at these quantiles, then `_sum` and `_count`.
    Summary(&'static [&'static str]),
}

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram(_) => "histogram",
            Kind::Summary(_) => "summary",
        }
    }
}

/// A histogram bucket: its `le` label as printed, and its bound in nanoseconds.
#[derive(Clone, Copy)]
struct Bucket(&'static str, u64);

/// The shape of a family's values, so that numbers have the magnitudes real exporters report.
#[derive(Clone, Copy)]
enum Shape {
    /// A counter of events growing by up to this many per scrape.
    Events(u64),
    /// CPU seconds, kept in centiseconds.
    CpuSeconds,
    /// A counter of bytes.
    ByteCounter,
    /// A size in bytes, page aligned (memory, disk).
    Bytes,
    /// A gauge with a level below this bound.
    Level(u64),
    /// Always this value (`up`, `process_max_fds`).
    Const(u64),
    /// 0 or 1, fixed per series.
    Flag,
    /// A load average, kept in hundredths.
    Load,
    /// A Unix time in seconds with hundredths (boot and start times).
    UnixTime,
    /// A duration between these bounds in nanoseconds; for histograms and summaries the typical
    /// latency.
    Seconds(u64, u64),
}

/// A family's label sets.
#[derive(Clone, Copy)]
enum Labels {
    /// Only `instance` and `job`.
    None,
    /// Every combination of these values (a subset when there are too many).
    Product(&'static [(&'static str, &'static [&'static str])]),
    /// These label sets, pre-rendered, for labels whose values go together (a pod's namespace).
    Rows(&'static [&'static str]),
}

/// What an exporter module (node_exporter, the Go runtime, ...) contributes to a target.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Module {
    Go,
    Process,
    Scrape,
    Node,
    Prometheus,
    Http,
    Grpc,
    Kube,
    Container,
    Etcd,
    Redis,
    Postgres,
    Apiserver,
    CoreDns,
}

/// One metric family: everything needed to print its `# HELP`, `# TYPE` and sample lines.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    shape: Shape,
    labels: Labels,
    module: Module,
    /// At most this many series per target, to keep one target's scrape to a realistic size.
    max_series: usize,
}

/// Prometheus client_golang's default histogram buckets.
const DEFAULT_BUCKETS: &[Bucket] = &[
    Bucket("0.005", 5_000_000),
    Bucket("0.01", 10_000_000),
    Bucket("0.025", 25_000_000),
    Bucket("0.05", 50_000_000),
    Bucket("0.1", 100_000_000),
    Bucket("0.25", 250_000_000),
    Bucket("0.5", 500_000_000),
    Bucket("1", 1_000_000_000),
    Bucket("2.5", 2_500_000_000),
    Bucket("5", 5_000_000_000),
    Bucket("10", 10_000_000_000),
];

/// etcd's disk latency buckets: powers of two from 1 ms.
const ETCD_DISK_BUCKETS: &[Bucket] = &[
    Bucket("0.001", 1_000_000),
    Bucket("0.002", 2_000_000),
    Bucket("0.004", 4_000_000),
    Bucket("0.008", 8_000_000),
    Bucket("0.016", 16_000_000),
    Bucket("0.032", 32_000_000),
    Bucket("0.064", 64_000_000),
    Bucket("0.128", 128_000_000),
    Bucket("0.256", 256_000_000),
    Bucket("0.512", 512_000_000),
    Bucket("1.024", 1_024_000_000),
    Bucket("2.048", 2_048_000_000),
    Bucket("4.096", 4_096_000_000),
    Bucket("8.192", 8_192_000_000),
];

/// The quantiles of Go's garbage collection pause summary.
const GC_QUANTILES: &[&str] = &["0", "0.25", "0.5", "0.75", "1"];
/// The quantiles most summaries in Prometheus itself report.
const LATENCY_QUANTILES: &[&str] = &["0.5", "0.9", "0.99"];

/// Shorthand for the catalogue below: a family with up to 8 series per target.
const fn family(
    name: &'static str,
    help: &'static str,
    kind: Kind,
    shape: Shape,
    labels: Labels,
    module: Module,
) -> Family {
    Family { name, help, kind, shape, labels, module, max_series: 8 }
}

const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE"];
const API_HANDLERS: &[&str] = &[
    "/api/v1/query",
    "/api/v1/query_range",
    "/api/v1/push",
    "/api/v1/series",
    "/api/v1/users",
    "/healthz",
    "/metrics",
];
const GRPC_METHODS: &[&str] = &["Range", "Put", "Txn", "Watch", "LeaseKeepAlive"];
const GRPC_SERVICES: &[&str] = &["etcdserverpb.KV", "etcdserverpb.Watch", "etcdserverpb.Lease"];
const K8S_PODS: &[&str] = &[
    r#"namespace="ingest",pod="ingester-0",container="ingester""#,
    r#"namespace="ingest",pod="ingester-1",container="ingester""#,
    r#"namespace="ingest",pod="distributor-7d9f8b6c5-x2k4p",container="distributor""#,
    r#"namespace="query",pod="querier-5c8d7f9b4-q7wzt",container="querier""#,
    r#"namespace="query",pod="query-frontend-6b4f9d8c7-m3n8v",container="query-frontend""#,
    r#"namespace="kube-system",pod="coredns-5d78c9869d-9xk2r",container="coredns""#,
    r#"namespace="monitoring",pod="prometheus-k8s-0",container="prometheus""#,
    r#"namespace="monitoring",pod="node-exporter-h7t5w",container="node-exporter""#,
    r#"namespace="default",pod="api-6f7b9c5d8-2lq4z",container="api""#,
    r#"namespace="default",pod="api-6f7b9c5d8-8vj3n",container="api""#,
];

/// The metric catalogue, grouped by the exporter module that reports each family.
#[rustfmt::skip]
static FAMILIES: [Family; 61] = [
    // The Go runtime, reported by nearly every exporter.
    family("go_gc_duration_seconds", "A summary of the pause duration of garbage collection cycles.", Kind::Summary(GC_QUANTILES), Shape::Seconds(15_000, 900_000), Labels::None, Module::Go),
    family("go_goroutines", "Number of goroutines that currently exist.", Kind::Gauge, Shape::Level(600), Labels::None, Module::Go),
    family("go_info", "Information about the Go environment.", Kind::Gauge, Shape::Const(1), Labels::Product(&[("version", &["go1.21.5", "go1.22.4"])]), Module::Go),
    family("go_memstats_alloc_bytes", "Number of bytes allocated and still in use.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Go),
    family("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Go),
    family("go_memstats_mallocs_total", "Total number of mallocs.", Kind::Counter, Shape::Events(40_000), Labels::None, Module::Go),
    family("go_memstats_sys_bytes", "Number of bytes obtained from system.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Go),
    family("go_threads", "Number of OS threads created.", Kind::Gauge, Shape::Level(48), Labels::None, Module::Go),
    // The process collector.
    family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", Kind::Counter, Shape::CpuSeconds, Labels::None, Module::Process),
    family("process_max_fds", "Maximum number of open file descriptors.", Kind::Gauge, Shape::Const(1_048_576), Labels::None, Module::Process),
    family("process_open_fds", "Number of open file descriptors.", Kind::Gauge, Shape::Level(400), Labels::None, Module::Process),
    family("process_resident_memory_bytes", "Resident memory size in bytes.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Process),
    family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", Kind::Gauge, Shape::UnixTime, Labels::None, Module::Process),
    family("process_virtual_memory_bytes", "Virtual memory size in bytes.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Process),
    family("promhttp_metric_handler_requests_total", "Total number of scrapes by HTTP status code.", Kind::Counter, Shape::Events(2), Labels::Product(&[("code", &["200", "500", "503"])]), Module::Process),
    // node_exporter.
    Family { max_series: 16, ..family("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", Kind::Counter, Shape::CpuSeconds, Labels::Product(&[("cpu", &["0", "1"]), ("mode", &["idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"])]), Module::Node) },
    family("node_context_switches_total", "Total number of context switches.", Kind::Counter, Shape::Events(90_000), Labels::None, Module::Node),
    family("node_disk_read_bytes_total", "The total number of bytes read successfully.", Kind::Counter, Shape::ByteCounter, Labels::Product(&[("device", &["nvme0n1", "sda"])]), Module::Node),
    family("node_disk_written_bytes_total", "The total number of bytes written successfully.", Kind::Counter, Shape::ByteCounter, Labels::Product(&[("device", &["nvme0n1", "sda"])]), Module::Node),
    family("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", Kind::Gauge, Shape::Bytes, Labels::Rows(&[r#"device="/dev/nvme0n1p2",fstype="ext4",mountpoint="/""#, r#"device="/dev/nvme0n1p1",fstype="vfat",mountpoint="/boot/efi""#, r#"device="tmpfs",fstype="tmpfs",mountpoint="/run""#, r#"device="/dev/sda1",fstype="xfs",mountpoint="/var/lib/docker""#]), Module::Node),
    family("node_load1", "1m load average.", Kind::Gauge, Shape::Load, Labels::None, Module::Node),
    family("node_load15", "15m load average.", Kind::Gauge, Shape::Load, Labels::None, Module::Node),
    family("node_load5", "5m load average.", Kind::Gauge, Shape::Load, Labels::None, Module::Node),
    family("node_boot_time_seconds", "Node boot time, in unixtime.", Kind::Gauge, Shape::UnixTime, Labels::None, Module::Node),
    family("node_memory_Cached_bytes", "Memory information field Cached_bytes.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Node),
    family("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Node),
    family("node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Node),
    family("node_network_receive_bytes_total", "Network device statistic receive_bytes.", Kind::Counter, Shape::ByteCounter, Labels::Product(&[("device", &["eth0", "lo", "docker0", "veth3a9f1c2"])]), Module::Node),
    family("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", Kind::Counter, Shape::ByteCounter, Labels::Product(&[("device", &["eth0", "lo", "docker0", "veth3a9f1c2"])]), Module::Node),
    // Prometheus itself.
    family("net_conntrack_dialer_conn_attempted_total", "Total number of connections attempted by the given dialer a given name.", Kind::Counter, Shape::Events(3), Labels::Product(&[("dialer_name", &["alertmanager", "default", "kubernetes-pods", "node"])]), Module::Prometheus),
    family("prometheus_engine_query_duration_seconds", "Query timings", Kind::Summary(LATENCY_QUANTILES), Shape::Seconds(2_000, 40_000_000), Labels::Product(&[("slice", &["inner_eval", "prepare_time", "queue_time", "result_sort"])]), Module::Prometheus),
    family("prometheus_http_requests_total", "Counter of HTTP requests.", Kind::Counter, Shape::Events(30), Labels::Product(&[("code", &["200", "400", "503"]), ("handler", &["/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/federate", "/metrics"])]), Module::Prometheus),
    family("prometheus_rule_evaluation_duration_seconds", "The duration for a rule to execute.", Kind::Summary(LATENCY_QUANTILES), Shape::Seconds(50_000, 20_000_000), Labels::None, Module::Prometheus),
    family("prometheus_sd_discovered_targets", "Current number of discovered targets.", Kind::Gauge, Shape::Level(80), Labels::Product(&[("config", &["api", "kubernetes-pods", "node"]), ("name", &["scrape", "notify"])]), Module::Prometheus),
    family("prometheus_tsdb_compactions_total", "Total number of compactions that were executed for the partition.", Kind::Counter, Shape::Events(1), Labels::None, Module::Prometheus),
    family("prometheus_tsdb_head_samples_appended_total", "Total number of appended samples.", Kind::Counter, Shape::Events(200_000), Labels::Product(&[("type", &["float", "histogram"])]), Module::Prometheus),
    family("prometheus_tsdb_head_series", "Total number of series in the head block.", Kind::Gauge, Shape::Level(3_000_000), Labels::None, Module::Prometheus),
    // An HTTP API service.
    Family { max_series: 12, ..family("http_requests_total", "Total number of HTTP requests by method, handler and status code.", Kind::Counter, Shape::Events(600), Labels::Product(&[("method", HTTP_METHODS), ("handler", API_HANDLERS), ("code", &["200", "201", "400", "404", "500", "503"])]), Module::Http) },
    Family { max_series: 3, ..family("http_request_duration_seconds", "Histogram of HTTP request latencies.", Kind::Histogram(DEFAULT_BUCKETS), Shape::Seconds(800_000, 400_000_000), Labels::Product(&[("method", &["GET", "POST"]), ("handler", API_HANDLERS)]), Module::Http) },
    family("http_requests_in_flight", "Number of HTTP requests being served.", Kind::Gauge, Shape::Level(40), Labels::None, Module::Http),
    // gRPC servers (the API service and etcd).
    family("grpc_server_handled_total", "Total number of RPCs completed on the server, regardless of success or failure.", Kind::Counter, Shape::Events(900), Labels::Product(&[("grpc_code", &["OK", "Canceled", "DeadlineExceeded", "Unavailable"]), ("grpc_method", GRPC_METHODS), ("grpc_service", GRPC_SERVICES), ("grpc_type", &["unary", "bidi_stream"])]), Module::Grpc),
    Family { max_series: 2, ..family("grpc_server_handling_seconds", "Histogram of response latency of gRPC that had been application-level handled by the server.", Kind::Histogram(DEFAULT_BUCKETS), Shape::Seconds(300_000, 90_000_000), Labels::Product(&[("grpc_method", GRPC_METHODS), ("grpc_service", GRPC_SERVICES), ("grpc_type", &["unary"])]), Module::Grpc) },
    // kube-state-metrics.
    family("kube_deployment_status_replicas_available", "The number of available replicas per deployment.", Kind::Gauge, Shape::Level(7), Labels::Product(&[("namespace", &["default", "ingest", "query", "monitoring"]), ("deployment", &["api", "distributor", "querier", "query-frontend", "grafana"])]), Module::Kube),
    family("kube_pod_container_status_restarts_total", "The number of container restarts per container.", Kind::Counter, Shape::Events(1), Labels::Rows(K8S_PODS), Module::Kube),
    Family { max_series: 10, ..family("kube_pod_status_phase", "The pods current phase.", Kind::Gauge, Shape::Flag, Labels::Product(&[("namespace", &["default", "ingest", "kube-system"]), ("pod", &["api-6f7b9c5d8-2lq4z", "ingester-0", "coredns-5d78c9869d-9xk2r"]), ("phase", &["Failed", "Pending", "Running", "Succeeded", "Unknown"])]), Module::Kube) },
    // The kubelet's cAdvisor.
    family("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", Kind::Counter, Shape::CpuSeconds, Labels::Rows(K8S_PODS), Module::Container),
    family("container_memory_working_set_bytes", "Current working set in bytes.", Kind::Gauge, Shape::Bytes, Labels::Rows(K8S_PODS), Module::Container),
    // etcd.
    family("etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.", Kind::Histogram(ETCD_DISK_BUCKETS), Shape::Seconds(900_000, 30_000_000), Labels::None, Module::Etcd),
    family("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", Kind::Gauge, Shape::Bytes, Labels::None, Module::Etcd),
    family("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", Kind::Gauge, Shape::Const(1), Labels::None, Module::Etcd),
    // redis_exporter.
    family("redis_commands_processed_total", "commands_processed_total metric", Kind::Counter, Shape::Events(12_000), Labels::None, Module::Redis),
    family("redis_connected_clients", "connected_clients metric", Kind::Gauge, Shape::Level(300), Labels::None, Module::Redis),
    family("redis_keyspace_hits_total", "keyspace_hits_total metric", Kind::Counter, Shape::Events(8_000), Labels::None, Module::Redis),
    // postgres_exporter.
    family("pg_stat_activity_count", "number of connections in this state", Kind::Gauge, Shape::Level(60), Labels::Product(&[("datname", &["orders", "users", "postgres"]), ("state", &["active", "idle", "idle in transaction"])]), Module::Postgres),
    family("pg_stat_database_tup_fetched", "Number of rows fetched by queries in this database", Kind::Counter, Shape::Events(50_000), Labels::Product(&[("datname", &["orders", "users", "postgres"])]), Module::Postgres),
    family("pg_up", "Whether the last scrape of metrics from PostgreSQL was able to connect to the server (1 for yes, 0 for no).", Kind::Gauge, Shape::Const(1), Labels::None, Module::Postgres),
    // The Kubernetes API server.
    family("apiserver_request_duration_seconds", "Response latency distribution in seconds for each verb, resource and subresource.", Kind::Histogram(DEFAULT_BUCKETS), Shape::Seconds(2_000_000, 300_000_000), Labels::Product(&[("verb", &["GET", "LIST"]), ("resource", &["pods", "nodes", "configmaps", "leases"])]), Module::Apiserver),
    family("apiserver_request_total", "Counter of apiserver requests broken out for each verb, resource and HTTP response code.", Kind::Counter, Shape::Events(400), Labels::Product(&[("verb", &["GET", "LIST", "WATCH", "PATCH"]), ("resource", &["pods", "nodes", "configmaps", "leases"]), ("code", &["200", "201", "404", "409"])]), Module::Apiserver),
    // CoreDNS.
    family("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and family.", Kind::Counter, Shape::Events(700), Labels::Product(&[("server", &["dns://:53"]), ("zone", &["."]), ("proto", &["udp", "tcp"]), ("type", &["A", "AAAA", "SRV", "PTR"])]), Module::CoreDns),
    // Series Prometheus records itself for every scrape.
    family("scrape_duration_seconds", "Duration of the scrape.", Kind::Gauge, Shape::Seconds(2_000_000, 200_000_000), Labels::None, Module::Scrape),
    family("up", "1 if the target is reachable, 0 otherwise.", Kind::Gauge, Shape::Const(1), Labels::None, Module::Scrape),
];

/// A scrape job: its name, the port its targets listen on, and the modules they expose.
struct Job {
    name: &'static str,
    port: u16,
    modules: &'static [Module],
}

/// Jobs of a typical Kubernetes cluster's monitoring; most exporters are Go programs.
#[rustfmt::skip]
static JOBS: [Job; 10] = [
    Job { name: "node", port: 9100, modules: &[Module::Go, Module::Node, Module::Process, Module::Scrape] },
    Job { name: "prometheus", port: 9090, modules: &[Module::Go, Module::Prometheus, Module::Process, Module::Scrape] },
    Job { name: "api", port: 8080, modules: &[Module::Go, Module::Grpc, Module::Http, Module::Process, Module::Scrape] },
    Job { name: "etcd", port: 2379, modules: &[Module::Etcd, Module::Go, Module::Grpc, Module::Process, Module::Scrape] },
    Job { name: "kube-state-metrics", port: 8080, modules: &[Module::Go, Module::Kube, Module::Process, Module::Scrape] },
    Job { name: "kubelet", port: 10250, modules: &[Module::Container, Module::Go, Module::Process, Module::Scrape] },
    Job { name: "redis", port: 9121, modules: &[Module::Go, Module::Process, Module::Redis, Module::Scrape] },
    Job { name: "postgres", port: 9187, modules: &[Module::Go, Module::Postgres, Module::Process, Module::Scrape] },
    Job { name: "apiserver", port: 6443, modules: &[Module::Apiserver, Module::Go, Module::Process, Module::Scrape] },
    Job { name: "coredns", port: 9153, modules: &[Module::CoreDns, Module::Go, Module::Process, Module::Scrape] },
];

/// One scrape target and the series it exposes, fixed for the whole payload.
struct Target {
    /// Offset of this target's scrapes within each round, in milliseconds.
    phase_ms: u64,
    /// `(index into FAMILIES, series)`, in the order the target prints them.
    families: Vec<(usize, Vec<Series>)>,
}

/// One time series: its rendered labels and the parameters its values follow.
struct Series {
    /// `label="value",...,instance="...",job="..."`, without braces.
    labels: String,
    /// Counter value at round 0, or a gauge's level.
    base: u64,
    /// Counter increase per round.
    rate: u64,
    /// For histograms and summaries: the typical latency in nanoseconds.
    latency_ns: u64,
}

/// One to three node_exporters (there is one per machine) and five to nine distinct other jobs,
/// so that every payload mixes many exporters.
fn build_targets(rng: &mut SplitMix64) -> Vec<Target> {
    let nodes = rng.range(1, 4) as usize;
    let others = rng.range(5, JOBS.len() as u64) as usize;
    let mut jobs = vec![0; nodes];
    jobs.extend(shuffled(rng, JOBS.len() - 1).into_iter().take(others).map(|i| i + 1));
    jobs.into_iter().map(|job| build_target(rng, &JOBS[job])).collect()
}

/// A target of `job` at a random cluster-internal address.
fn build_target(rng: &mut SplitMix64, job: &Job) -> Target {
    let instance = format!("10.{}.{}.{}:{}", rng.below(4), rng.below(256), rng.range(2, 255), job.port);
    let suffix = format!(r#"instance="{instance}",job="{}""#, job.name);
    let families = FAMILIES
        .iter()
        .enumerate()
        .filter(|(_, family)| job.modules.contains(&family.module))
        .map(|(index, family)| (index, build_series(rng, family, &suffix)))
        .collect();
    Target { phase_ms: rng.below(SCRAPE_INTERVAL_MS), families }
}

/// The series one target exposes for `family`.
fn build_series(rng: &mut SplitMix64, family: &Family, suffix: &str) -> Vec<Series> {
    series_label_sets(rng, family)
        .into_iter()
        .map(|labels| {
            let labels = if labels.is_empty() { suffix.to_owned() } else { format!("{labels},{suffix}") };
            new_series(rng, family.shape, labels)
        })
        .collect()
}

/// The label sets (without instance and job) of one target's series of `family`: all of them,
/// or `max_series` distinct ones in catalogue order when there are more.
fn series_label_sets(rng: &mut SplitMix64, family: &Family) -> Vec<String> {
    let total = match family.labels {
        Labels::None => 1,
        Labels::Product(dims) => dims.iter().map(|(_, values)| values.len()).product(),
        Labels::Rows(rows) => rows.len(),
    };
    let mut chosen: Vec<usize> = (0..total).collect();
    while chosen.len() > family.max_series {
        let drop = rng.index(chosen.len());
        chosen.remove(drop);
    }
    chosen.into_iter().map(|index| label_set(family.labels, index)).collect()
}

/// The `index`th label set of `labels`; products count in mixed radix, last label fastest.
fn label_set(labels: Labels, mut index: usize) -> String {
    match labels {
        Labels::None => String::new(),
        Labels::Rows(rows) => rows[index].to_owned(),
        Labels::Product(dims) => {
            let mut parts = Vec::with_capacity(dims.len());
            for (name, values) in dims.iter().rev() {
                parts.push(format!(r#"{name}="{}""#, values[index % values.len()]));
                index /= values.len();
            }
            parts.reverse();
            parts.join(",")
        }
    }
}

/// A series whose parameters suit `shape`. Counters start as if they had been running for
/// hours to weeks, so that they have realistic magnitudes.
fn new_series(rng: &mut SplitMix64, shape: Shape, labels: String) -> Series {
    let uptime_rounds = rng.range(200, 200_000);
    let (rate, latency_ns) = match shape {
        Shape::Events(max) => (rng.range(0, max + 1), 0),
        Shape::CpuSeconds => (rng.range(1, 1_500), 0),
        Shape::ByteCounter => (rng.range(1_000, 80_000_000), 0),
        Shape::Seconds(lo, hi) => (rng.range(1, 300), rng.range(lo, hi)),
        _ => (0, 0),
    };
    let base = match shape {
        Shape::Bytes => page_count(rng) * 4096,
        Shape::Level(max) => rng.range(max / 10, max + 1),
        Shape::Const(value) => value,
        Shape::Flag => u64::from(rng.chance(40)),
        Shape::Load => rng.range(0, 600),
        Shape::UnixTime => 169_900_000_000 + rng.below(90_000_000),
        Shape::Seconds(..) => latency_ns,
        Shape::Events(_) | Shape::CpuSeconds | Shape::ByteCounter => rate * uptime_rounds,
    };
    Series { labels, base, rate, latency_ns }
}

/// A size in 4 KiB pages, log-uniform from 8 MB to 4 GB: memory and disk sizes spread over
/// orders of magnitude.
fn page_count(rng: &mut SplitMix64) -> u64 {
    let decade = [1_000, 10_000, 100_000][rng.index(3)];
    decade * rng.range(2, 10) + rng.below(decade)
}

/// `0..n` in random order (Fisher-Yates), the order targets are written in one round.
fn shuffled(rng: &mut SplitMix64, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    order
}

/// Writes one target's samples of one round, every family in turn.
fn write_scrape(out: &mut String, rng: &mut SplitMix64, target: &Target, round: u64, described: &mut [bool]) {
    let ts = FIRST_SCRAPE_MS + round * SCRAPE_INTERVAL_MS + target.phase_ms + rng.below(40);
    for (index, series) in &target.families {
        let family = &FAMILIES[*index];
        // Metadata before a family's first appearance, then occasionally, as when a payload
        // concatenates several scrape responses.
        if !described[*index] || rng.chance(8) {
            described[*index] = true;
            write_metadata(out, family);
        }
        let sample = Sample { out: &mut *out, family, ts };
        match family.kind {
            Kind::Counter | Kind::Gauge => sample.scalar(rng, series, round),
            Kind::Histogram(buckets) => sample.histogram(rng, series, round, buckets),
            Kind::Summary(quantiles) => sample.summary(rng, series, round, quantiles),
        }
    }
}

/// `# HELP` and `# TYPE` lines of a family.
fn write_metadata(out: &mut String, family: &Family) {
    let Family { name, help, .. } = family;
    let kind = family.kind.type_name();
    writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}").expect("writing to a String cannot fail");
}

/// Writes the sample lines of one family of one target at one timestamp.
struct Sample<'a> {
    out: &'a mut String,
    family: &'a Family,
    ts: u64,
}

impl Sample<'_> {
    /// One line: `name<suffix>{labels<extra>} value timestamp`.
    fn line(&mut self, suffix: &str, series: &Series, extra: &str, units: u64, scale: u32) {
        let out = &mut *self.out;
        out.push_str(self.family.name);
        out.push_str(suffix);
        out.push('{');
        out.push_str(&series.labels);
        out.push_str(extra);
        out.push_str("} ");
        push_go_float(out, units, scale);
        out.push(' ');
        push_num(out, self.ts);
        out.push('\n');
    }

    /// Counter and gauge lines.
    fn scalar(mut self, rng: &mut SplitMix64, series: &[Series], round: u64) {
        for s in series {
            let (units, scale) = scalar_value(rng, self.family.shape, s, round);
            self.line("", s, "", units, scale);
        }
    }

    /// Histogram lines: cumulative buckets, `+Inf`, `_sum` (in seconds) and `_count`.
    fn histogram(mut self, rng: &mut SplitMix64, series: &[Series], round: u64, buckets: &[Bucket]) {
        for s in series {
            let count = counter_value(rng, s, round);
            for Bucket(le, bound_ns) in buckets {
                let below = count * cumulative_permille(*bound_ns, s.latency_ns) / 1000;
                self.line("_bucket", s, &format!(r#",le="{le}""#), below, 0);
            }
            self.line("_bucket", s, r#",le="+Inf""#, count, 0);
            self.line("_sum", s, "", count * s.latency_ns, 9);
            self.line("_count", s, "", count, 0);
        }
    }

    /// Summary lines: one per quantile, growing with it, then `_sum` and `_count`.
    fn summary(mut self, rng: &mut SplitMix64, series: &[Series], round: u64, quantiles: &[&str]) {
        for s in series {
            for (i, quantile) in quantiles.iter().enumerate() {
                let i = i as u64;
                let value = rng.wobble(s.latency_ns * (4 + 3 * i * i) / 4, 20);
                self.line("", s, &format!(r#",quantile="{quantile}""#), value, 9);
            }
            let count = counter_value(rng, s, round);
            self.line("_sum", s, "", count * s.latency_ns, 9);
            self.line("_count", s, "", count, 0);
        }
    }
}

/// A counter at `round`: base plus rate per round plus jitter below half a round's increase,
/// which keeps it monotonic from one round to the next.
fn counter_value(rng: &mut SplitMix64, series: &Series, round: u64) -> u64 {
    series.base + series.rate * round + rng.below(series.rate / 2 + 1)
}

/// A counter or gauge sample as `(units, decimal places)`.
fn scalar_value(rng: &mut SplitMix64, shape: Shape, series: &Series, round: u64) -> (u64, u32) {
    match shape {
        Shape::Events(_) | Shape::ByteCounter => (counter_value(rng, series, round), 0),
        Shape::CpuSeconds => (counter_value(rng, series, round), 2),
        Shape::Bytes => (rng.wobble(series.base / 4096, 64) * 4096, 0),
        Shape::Level(_) => (rng.wobble(series.base, 20), 0),
        Shape::Const(_) | Shape::Flag => (series.base, 0),
        Shape::Load => (rng.wobble(series.base, 8), 2),
        Shape::UnixTime => (series.base, 2),
        Shape::Seconds(..) => (rng.wobble(series.base, 5), 9),
    }
}

/// Share of observations (per mille) at or below `bound_ns` when the typical one takes
/// `typical_ns`: a coarse bell on a log scale, non-decreasing in `bound_ns`, so that buckets are
/// cumulative as they must be.
fn cumulative_permille(bound_ns: u64, typical_ns: u64) -> u64 {
    const STEPS: [(u64, u64, u64); 7] = [
        // (bound * a <= typical * b) => permille
        (8, 1, 0),
        (4, 1, 10),
        (2, 1, 80),
        (1, 1, 400),
        (1, 2, 800),
        (1, 4, 950),
        (1, 8, 990),
    ];
    STEPS.iter().find(|(a, b, _)| bound_ns * a <= typical_ns * b).map_or(1000, |(_, _, permille)| *permille)
}

// ---------------------------------------------------------------------------------------------
// JSON logs
// ---------------------------------------------------------------------------------------------

/// Structured JSON log lines, one object per line, as services with zap/slog-style loggers write
/// them:
///
/// ```text
/// {"ts":"2026-11-21T10:00:00.123Z","level":"info","service":"ingester","instance":"ingester-2","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","msg":"flushed chunks","latency_ms":12.5,"tenant":"acme-prod","series":812,"chunks":2930,"bytes":1843200}
/// ```
///
/// Eight services and about twenty message kinds with their own fields (HTTP requests, pushes,
/// PromQL queries with escaped quotes, errors, retries, Kafka offsets), mostly `info` with some
/// `debug`, `warn` and `error`. Timestamps advance by a few milliseconds per line from
/// 2026-11-21T10:00:00Z, and requests reuse a recent trace id now and then, as related lines do.
///
/// The output is exactly `target_len` bytes: the last line is cut where the length runs out.
/// Same `seed`, same bytes; see the module documentation.
pub fn json_logs(seed: u64, target_len: usize) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    let mut state = LogState::new(&mut rng);
    let mut out = String::with_capacity(target_len + 1024);
    while out.len() < target_len {
        state.write_line(&mut out, &mut rng);
    }
    exact_len(out, target_len)
}

/// 2026-11-21T10:00:00Z as Unix time in milliseconds: the first log line's time.
const FIRST_LOG_MS: u64 = 1_795_255_200_000;

/// A kind of log message: who writes it, at which level, how often, and with which fields.
struct Message {
    service: usize,
    level: &'static str,
    weight: u64,
    msg: &'static str,
    fields: &'static [Field],
}

/// A message-specific field and how its value is drawn.
#[derive(Clone, Copy)]
enum Field {
    Method,
    Path,
    Status,
    Bytes,
    RemoteAddr,
    UserAgent,
    Tenant,
    Samples,
    Series,
    Chunks,
    Metric,
    Query,
    UserId,
    ClientId,
    Reason,
    Error,
    Upstream,
    Attempt,
    Blocks,
    DurationS,
    Partition,
    Offset,
    JobId,
}

const SERVICES: [&str; 8] =
    ["gateway", "distributor", "ingester", "querier", "compactor", "auth", "billing", "scheduler"];

/// The message catalogue; weights are relative frequencies.
#[rustfmt::skip]
static MESSAGES: [Message; 20] = [
    Message { service: 0, level: "info", weight: 300, msg: "request completed", fields: &[Field::Method, Field::Path, Field::Status, Field::Bytes, Field::RemoteAddr, Field::UserAgent] },
    Message { service: 0, level: "warn", weight: 12, msg: "slow request", fields: &[Field::Method, Field::Path, Field::Status, Field::RemoteAddr] },
    Message { service: 0, level: "debug", weight: 40, msg: "upstream selected", fields: &[Field::Path, Field::Upstream, Field::Attempt] },
    Message { service: 1, level: "info", weight: 150, msg: "push received", fields: &[Field::Tenant, Field::Samples, Field::Series] },
    Message { service: 1, level: "warn", weight: 15, msg: "push rejected", fields: &[Field::Tenant, Field::Samples, Field::Reason] },
    Message { service: 2, level: "info", weight: 70, msg: "flushed chunks", fields: &[Field::Tenant, Field::Series, Field::Chunks, Field::Bytes] },
    Message { service: 2, level: "debug", weight: 60, msg: "series created", fields: &[Field::Tenant, Field::Metric] },
    Message { service: 2, level: "error", weight: 6, msg: "failed to flush chunks", fields: &[Field::Tenant, Field::Error, Field::Attempt] },
    Message { service: 3, level: "info", weight: 110, msg: "query executed", fields: &[Field::Tenant, Field::Query, Field::Samples, Field::Status] },
    Message { service: 3, level: "warn", weight: 8, msg: "query exceeded soft limit", fields: &[Field::Tenant, Field::Query, Field::Samples] },
    Message { service: 3, level: "error", weight: 4, msg: "query failed", fields: &[Field::Tenant, Field::Query, Field::Error] },
    Message { service: 4, level: "info", weight: 15, msg: "compaction finished", fields: &[Field::Tenant, Field::Blocks, Field::DurationS] },
    Message { service: 4, level: "info", weight: 10, msg: "blocks marked for deletion", fields: &[Field::Tenant, Field::Blocks] },
    Message { service: 5, level: "info", weight: 100, msg: "token validated", fields: &[Field::UserId, Field::ClientId] },
    Message { service: 5, level: "warn", weight: 14, msg: "invalid token", fields: &[Field::ClientId, Field::Reason, Field::RemoteAddr] },
    Message { service: 6, level: "info", weight: 40, msg: "invoice event published", fields: &[Field::Tenant, Field::Partition, Field::Offset] },
    Message { service: 6, level: "error", weight: 5, msg: "upstream request failed", fields: &[Field::Upstream, Field::Error, Field::Attempt, Field::Status] },
    Message { service: 7, level: "debug", weight: 35, msg: "job dequeued", fields: &[Field::JobId, Field::Tenant, Field::Partition] },
    Message { service: 7, level: "info", weight: 25, msg: "job finished", fields: &[Field::JobId, Field::DurationS, Field::Status] },
    Message { service: 7, level: "warn", weight: 6, msg: "job retried", fields: &[Field::JobId, Field::Error, Field::Attempt] },
];

const PATHS: &[&str] = &[
    "/api/v1/query",
    "/api/v1/query_range",
    "/api/v1/push",
    "/api/v1/series",
    "/api/v1/labels",
    "/api/v1/alerts",
    "/api/v1/rules",
    "/healthz",
    "/metrics",
    "/static/js/main.9f3c2b1a.js",
];
const STATUSES: &[u64] =
    &[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201, 204, 304, 400, 401, 404, 429, 500, 502, 503];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Grafana/10.2.3",
    "Prometheus/2.48.1",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "python-requests/2.31.0",
    "kube-probe/1.28",
];
const TENANTS: &[&str] = &["acme-prod", "acme-staging", "globex", "initech", "umbrella-eu", "hooli", "tenant-0042"];
const METRIC_NAMES: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "node_cpu_seconds_total",
    "container_memory_working_set_bytes",
    "kube_pod_status_phase",
    "grpc_server_handled_total",
];
const QUERIES: &[&str] = &[
    r#"sum(rate(http_requests_total{job="api",code=~"5.."}[5m])) by (handler)"#,
    r#"histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{job="api"}[5m])) by (le))"#,
    r#"up{job="node"} == 0"#,
    "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
    r#"topk(10, count by (__name__)({__name__=~".+"}))"#,
    r#"sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="ingest"}[1m]))"#,
    r#"rate(node_cpu_seconds_total{mode!="idle"}[1m])"#,
];
const CLIENT_IDS: &[&str] = &["web-frontend", "mobile-ios", "mobile-android", "cli", "grafana", "terraform-provider"];
const REASONS: &[&str] = &[
    "token expired",
    "signature mismatch",
    "audience mismatch",
    "per-tenant ingestion rate limit exceeded",
    "max series per user exceeded",
];
const ERRORS: &[&str] = &[
    "context deadline exceeded",
    "connection reset by peer",
    "rpc error: code = Unavailable desc = transport is closing",
    "dial tcp 10.0.7.21:9095: connect: connection refused",
    "s3: SlowDown: Please reduce your request rate.",
    "unexpected EOF",
];
const UPSTREAMS: &[&str] = &[
    "billing-db:5432",
    "ledger.internal:8443",
    "kafka-2.kafka:9092",
    "ingester-1.ingester:9095",
    "payments-api.svc:443",
];

/// What stays the same between lines: the clock, pods, recent trace ids and Kafka offsets.
struct LogState {
    now_ms: u64,
    /// Per service, the names of its three pods.
    pods: Vec<[String; 3]>,
    /// Trace ids of requests in flight; lines reuse them now and then.
    traces: [u128; 8],
    /// The next Kafka offset of each of 32 partitions.
    offsets: [u64; 32],
    total_weight: u64,
}

impl LogState {
    fn new(rng: &mut SplitMix64) -> Self {
        let pods = SERVICES.iter().map(|service| pod_names(rng, service)).collect();
        let traces = std::array::from_fn(|_| random_u128(rng));
        let offsets = std::array::from_fn(|_| rng.range(1_000_000, 90_000_000));
        Self { now_ms: FIRST_LOG_MS, pods, traces, offsets, total_weight: MESSAGES.iter().map(|m| m.weight).sum() }
    }

    /// Writes one log line, ending in a newline.
    fn write_line(&mut self, out: &mut String, rng: &mut SplitMix64) {
        self.now_ms += rng.below(25);
        let message = self.pick_message(rng);
        out.push_str(r#"{"ts":""#);
        push_timestamp(out, self.now_ms);
        string_field(out, "level", message.level);
        string_field(out, "service", SERVICES[message.service]);
        let pods = &self.pods[message.service];
        string_field(out, "instance", &pods[rng.index(pods.len())]);
        let trace = self.trace_id(rng);
        write!(out, r#","trace_id":"{trace:032x}""#).expect("writing to a String cannot fail");
        if rng.chance(85) {
            key(out, "span_id");
            out.push('"');
            push_hex(out, rng.next_u64(), 16);
            out.push('"');
        }
        string_field(out, "msg", message.msg);
        key(out, "latency_ms");
        push_fixed(out, latency_us(rng), 3);
        for field in message.fields {
            self.write_field(out, rng, *field);
        }
        out.push_str("}\n");
    }

    /// A message drawn by weight.
    fn pick_message(&self, rng: &mut SplitMix64) -> &'static Message {
        let mut ticket = rng.below(self.total_weight);
        for message in &MESSAGES {
            if ticket < message.weight {
                return message;
            }
            ticket -= message.weight;
        }
        unreachable!("ticket below the total weight")
    }

    /// A recent trace id (30 %) or a new one that replaces a recent one.
    fn trace_id(&mut self, rng: &mut SplitMix64) -> u128 {
        let slot = rng.index(self.traces.len());
        if !rng.chance(30) {
            self.traces[slot] = random_u128(rng);
        }
        self.traces[slot]
    }

    /// Writes `,"name":value` for one message-specific field.
    fn write_field(&mut self, out: &mut String, rng: &mut SplitMix64, field: Field) {
        match field {
            Field::Method => string_field(out, "method", pick_method(rng)),
            Field::Path => string_field(out, "path", rng.pick(PATHS)),
            Field::Status => number_field(out, "status", rng.pick(STATUSES)),
            Field::Bytes => number_field(out, "bytes", rng.range(120, 2_000_000)),
            Field::RemoteAddr => remote_addr(out, rng),
            Field::UserAgent => string_field(out, "user_agent", rng.pick(USER_AGENTS)),
            Field::Tenant => string_field(out, "tenant", rng.pick(TENANTS)),
            Field::Samples => number_field(out, "samples", rng.range(1, 50_000)),
            Field::Series => number_field(out, "series", rng.range(1, 20_000)),
            Field::Chunks => number_field(out, "chunks", rng.range(1, 5_000)),
            Field::Metric => string_field(out, "metric", rng.pick(METRIC_NAMES)),
            Field::Query => string_field(out, "query", rng.pick(QUERIES)),
            Field::UserId => number_field(out, "user_id", rng.range(10_000, 990_000)),
            Field::ClientId => string_field(out, "client_id", rng.pick(CLIENT_IDS)),
            Field::Reason => string_field(out, "reason", rng.pick(REASONS)),
            Field::Error => string_field(out, "error", rng.pick(ERRORS)),
            Field::Upstream => string_field(out, "upstream", rng.pick(UPSTREAMS)),
            Field::Attempt => number_field(out, "attempt", rng.range(1, 6)),
            Field::Blocks => number_field(out, "blocks", rng.range(2, 13)),
            Field::DurationS => {
                key(out, "duration_s");
                push_fixed(out, rng.range(5, 90_000), 2);
            }
            Field::Partition => number_field(out, "partition", rng.below(32)),
            Field::Offset => self.offset(out, rng),
            Field::JobId => {
                key(out, "job_id");
                out.push_str("\"job-");
                push_hex(out, rng.next_u64() >> 32, 8);
                out.push('"');
            }
        }
    }

    /// The next offset of a random partition: offsets grow, as Kafka's do.
    fn offset(&mut self, out: &mut String, rng: &mut SplitMix64) {
        let partition = rng.index(self.offsets.len());
        self.offsets[partition] += rng.range(1, 400);
        number_field(out, "offset", self.offsets[partition]);
    }
}

/// Kubernetes-style pod names of a service: `<service>-<replicaset hash>-<5 chars>`.
fn pod_names(rng: &mut SplitMix64, service: &str) -> [String; 3] {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let replicaset = rng.next_u64() >> 28;
    std::array::from_fn(|_| {
        let id: String = (0..5).map(|_| char::from(rng.pick(ALPHABET))).collect();
        format!("{service}-{replicaset:x}-{id}")
    })
}

/// 128 random bits (a W3C trace id).
fn random_u128(rng: &mut SplitMix64) -> u128 {
    (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())
}

/// HTTP methods with GET dominating, as in real traffic.
fn pick_method(rng: &mut SplitMix64) -> &'static str {
    match rng.below(20) {
        0..=13 => "GET",
        14..=17 => "POST",
        18 => "PUT",
        _ => "DELETE",
    }
}

/// A request latency in microseconds: mostly fast, with a slow tail.
fn latency_us(rng: &mut SplitMix64) -> u64 {
    match rng.below(10) {
        0..=5 => rng.range(80, 10_000),
        6..=8 => rng.range(10_000, 250_000),
        _ => rng.range(250_000, 5_000_000),
    }
}

/// A client address out of a small pool of cluster and office IPs, on an ephemeral port.
fn remote_addr(out: &mut String, rng: &mut SplitMix64) {
    const CLIENTS: &[&str] = &[
        "10.0.3.17",
        "10.0.3.41",
        "10.0.7.21",
        "10.2.0.9",
        "172.16.4.12",
        "192.168.1.34",
        "203.0.113.7",
        "198.51.100.23",
    ];
    key(out, "remote_addr");
    out.push('"');
    out.push_str(rng.pick(CLIENTS));
    out.push(':');
    push_num(out, rng.range(32_768, 61_000));
    out.push('"');
}

/// Appends `,"name":` (every field but the first follows another).
fn key(out: &mut String, name: &str) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
}

/// Appends `,"name":"value"` with `value` JSON-escaped.
fn string_field(out: &mut String, name: &str, value: &str) {
    key(out, name);
    push_json_string(out, value);
}

/// Appends `,"name":value` for an integer.
fn number_field(out: &mut String, name: &str, value: u64) {
    key(out, name);
    push_num(out, value);
}

/// Appends a JSON string literal: quotes, backslashes and control characters escaped.
fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                write!(out, "\\u{:04x}", u32::from(c)).expect("writing to a String cannot fail");
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends an RFC 3339 UTC timestamp with milliseconds and the closing quote:
/// `2026-11-21T10:00:00.123Z"`.
fn push_timestamp(out: &mut String, unix_ms: u64) {
    let secs = unix_ms / 1000;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let day_secs = secs % 86_400;
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z\"",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60,
        unix_ms % 1000
    )
    .expect("writing to a String cannot fail");
}

/// The Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// restricted to dates after 1970).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Complete lines: everything before the last newline (the cut last line is left out).
    fn complete_lines(payload: &[u8]) -> Vec<&str> {
        let text = std::str::from_utf8(payload).expect("payloads are ASCII");
        let end = text.rfind('\n').expect("payload has a newline");
        text[..end].split('\n').collect()
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First outputs of Vigna's splitmix64.c seeded with 0.
        let mut rng = SplitMix64::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn splitmix64_helpers_stay_in_range() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..10_000 {
            assert!(rng.below(3) < 3);
            assert!((10..12).contains(&rng.range(10, 12)));
            assert!((90..=110).contains(&rng.wobble(100, 10)));
        }
        assert_eq!(rng.pick(&[5]), 5);
    }

    #[test]
    fn same_seed_gives_the_same_bytes() {
        for generate in [metrics_text, json_logs] {
            for len in [0, 1, 777, 100 * 1024] {
                assert_eq!(generate(3, len), generate(3, len));
            }
        }
    }

    #[test]
    fn different_seeds_give_different_bytes() {
        for generate in [metrics_text, json_logs] {
            assert_ne!(generate(1, 10 * 1024), generate(2, 10 * 1024));
        }
    }

    #[test]
    fn output_has_exactly_the_requested_length() {
        let lengths = [0, 1, 2, 100, 4095, 4096, 65_537];
        for len in lengths.into_iter().chain(SIZES.map(|(_, len)| len)) {
            assert_eq!(metrics_text(9, len).len(), len);
            assert_eq!(json_logs(9, len).len(), len);
        }
    }

    /// A shorter payload is a prefix of a longer one of the same seed: the length only decides
    /// where generation stops, so the sizes of a suite show the same data.
    #[test]
    fn shorter_payloads_are_prefixes_of_longer_ones() {
        for generate in [metrics_text, json_logs] {
            let long = generate(5, 200_000);
            for len in [10, 10 * 1024, 100 * 1024] {
                assert_eq!(generate(5, len), long[..len]);
            }
        }
    }

    #[test]
    fn go_floats_print_as_client_golang_does() {
        let cases = [
            (0, 0, "0"),
            (1027, 0, "1027"),
            (999_999, 0, "999999"),
            (1_048_576, 0, "1.048576e+06"),
            (24_576_000, 0, "2.4576e+07"),
            (169_960_208_162, 2, "1.69960208162e+09"),
            (150, 2, "1.5"),
            (25, 2, "0.25"),
            (1, 4, "0.0001"),
            (1, 5, "1e-05"),
            (20_795, 9, "2.0795e-05"),
            (u64::MAX, 0, "1.84467440737095e+19"),
        ];
        for (units, scale, expected) in cases {
            let mut out = String::new();
            push_go_float(&mut out, units, scale);
            assert_eq!(out, expected, "{units} / 10^{scale}");
        }
    }

    #[test]
    fn metrics_lines_are_valid_exposition() {
        let payload = metrics_text(11, 1024 * 1024);
        for line in complete_lines(&payload) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let kind = rest.split(' ').nth(1);
                assert!(matches!(kind, Some("counter" | "gauge" | "histogram" | "summary")), "{line}");
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, rest) = line.split_once("} ").expect(line);
            let (name, labels) = series.split_once('{').expect(line);
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{line}");
            assert!(labels.contains(",instance=\"10.") || labels.starts_with("instance=\"10."));
            assert!(labels.contains("\",job=\""), "{line}");
            let (value, ts) = rest.split_once(' ').expect(line);
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(ts.len() == 13 && ts.starts_with("17"), "{line}");
        }
    }

    #[test]
    fn metrics_mix_many_families_kinds_and_targets() {
        let payload = metrics_text(11, 1024 * 1024);
        let lines = complete_lines(&payload);
        let mut names: Vec<&str> = lines
            .iter()
            .filter(|line| !line.starts_with('#'))
            .map(|line| line.split('{').next().unwrap_or(line))
            .map(|name| name.trim_end_matches("_bucket"))
            .map(|name| name.trim_end_matches("_count").trim_end_matches("_sum"))
            .collect();
        names.sort_unstable();
        names.dedup();
        assert!(names.len() >= 40, "{} families: {names:?}", names.len());
        let text = String::from_utf8_lossy(&payload);
        assert!(text.contains(r#"le="+Inf"} "#));
        assert!(text.contains(r#"quantile="0.99""#));
        assert!(text.contains("e+0"), "Go exponent notation");
        let comments = lines.iter().filter(|line| line.starts_with('#')).count();
        assert!(comments * 10 < lines.len(), "{comments} of {} lines are comments", lines.len());
    }

    /// Buckets are cumulative and end with `+Inf` equal to `_count`.
    #[test]
    fn histogram_buckets_are_cumulative() {
        let payload = metrics_text(11, 1024 * 1024);
        let mut previous: Option<f64> = None;
        let mut checked = 0;
        for line in complete_lines(&payload) {
            let value = || line.split(' ').nth(1).and_then(|v| v.parse::<f64>().ok());
            if line.contains("_bucket{") {
                let value = value().expect(line);
                assert!(previous.is_none_or(|p| p <= value), "{line}");
                previous = if line.contains("le=\"+Inf\"") { None } else { Some(value) };
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} bucket lines");
    }

    #[test]
    fn log_lines_are_json_objects_with_the_common_fields() {
        let payload = json_logs(4, 100 * 1024);
        let lines = complete_lines(&payload);
        let mut messages = Vec::new();
        let mut previous_ts = String::new();
        for line in &lines {
            let value: serde_json::Value = serde_json::from_str(line).expect(line);
            let ts = value["ts"].as_str().expect(line);
            assert!(ts.starts_with("2026-11-21T10:0") && ts.ends_with('Z'), "{line}");
            assert!(*ts >= *previous_ts, "time goes forward: {line}");
            previous_ts = ts.to_owned();
            assert!(value["latency_ms"].is_f64() || value["latency_ms"].is_u64(), "{line}");
            let trace = value["trace_id"].as_str().expect(line);
            assert!(trace.len() == 32 && trace.bytes().all(|b| b.is_ascii_hexdigit()));
            for field in ["level", "service", "instance", "msg"] {
                assert!(value[field].is_string(), "{field} in {line}");
            }
            messages.push(value["msg"].as_str().expect(line).to_owned());
        }
        assert!(lines[0].starts_with(r#"{"ts":"2026-11-21T10:00:00."#));
        messages.sort_unstable();
        messages.dedup();
        assert!(messages.len() >= 15, "{messages:?}");
    }

    #[test]
    fn dates_convert_like_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(FIRST_LOG_MS / 86_400_000), (2026, 11, 21));
        let mut out = String::new();
        push_timestamp(&mut out, FIRST_LOG_MS + 3_723_004);
        assert_eq!(out, "2026-11-21T11:02:03.004Z\"");
    }

    #[test]
    fn fixed_point_drops_trailing_zeros() {
        for (units, expected) in [(12_500, "12.5"), (153_000, "153"), (842, "0.842"), (7, "0.007")] {
            let mut out = String::new();
            push_fixed(&mut out, units, 3);
            assert_eq!(out, expected);
        }
    }
}
