//! The pipeline suite's routine: an end-to-end metrics path from Prometheus text exposition to a
//! remote-write request body. Parse each sample line (a hand-written parser of the text format),
//! intern its label names (`lasso::Rodeo`), build a `WriteRequest` (the prost types of
//! [`crate::protobuf::prompb`]), encode it, and compress it with snappy's raw format, as the
//! remote-write protocol sends it.
//!
//! Two ways to run it: [`one_shot`], the naive function that builds everything afresh on every call,
//! and [`Pipeline`], which keeps every buffer (interner, series with their label strings, encoded and
//! compressed bytes, snappy's hash table) from one call to the next, so that once warm, a call over
//! the same shape of input allocates nothing. Both produce the same bytes.
//!
//! Each sample becomes one `TimeSeries` with one sample, as Prometheus' remote-write queue sends
//! them, with its labels sorted by name and `__name__` among them; labels with an empty value are
//! dropped (in Prometheus an empty label is an absent one).

use std::fmt;
use std::ops::Range;

use lasso::{Rodeo, Spur};
use prost::Message as _;

use crate::data;
use crate::protobuf::prompb::{Label, Sample, TimeSeries, WriteRequest};

/// The label that carries the metric name in remote write.
const NAME_LABEL: &str = "__name__";

/// A malformed line of text exposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line number, from 1; 0 for an error of [`parse_line`], which sees one line only.
    pub line: usize,
    /// Byte offset in the line where the problem is.
    pub column: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// A sample line without its labels (they go to [`parse_line`]'s callback).
#[derive(Debug, Clone, PartialEq)]
pub struct Point<'a> {
    /// The metric name.
    pub metric: &'a str,
    /// Where the metric name is in the line.
    pub metric_span: Range<usize>,
    /// The sample value (`NaN`, `+Inf` and `-Inf` included).
    pub value: f64,
    /// The timestamp in milliseconds since the Unix epoch, when the line has one.
    pub timestamp_ms: Option<i64>,
}

/// Parses one line of the Prometheus text format (version 0.0.4):
/// `metric_name [{label="value",...}] value [timestamp_ms]`. Returns `None` for a comment
/// (`# HELP`, `# TYPE` or any other) or a blank line. Each label is handed to `label` as its name
/// and the span of its value in `line` (between the quotes, still escaped: see [`unescape_into`]).
///
/// Blanks (spaces, tabs) may surround tokens, and a trailing comma may close the label set, as in
/// Prometheus' own parser; label values may hold any character, with `\\`, `\"` and `\n` escaped.
///
/// # Errors
///
/// A line that is not a valid sample line; its `line` field is 0.
pub fn parse_line<'a>(
    line: &'a str,
    mut label: impl FnMut(&'a str, Range<usize>),
) -> Result<Option<Point<'a>>, ParseError> {
    let bytes = line.as_bytes();
    let error = |column, reason| ParseError { line: 0, column, reason };
    let mut pos = skip_blanks(bytes, 0);
    if pos == bytes.len() || bytes[pos] == b'#' {
        return Ok(None);
    }
    let metric_start = pos;
    pos = scan_name(bytes, pos, true).ok_or(error(pos, "expected a metric name"))?;
    let metric_span = metric_start..pos;
    pos = skip_blanks(bytes, pos);
    if bytes.get(pos) == Some(&b'{') {
        pos = skip_blanks(bytes, pos + 1);
        while bytes.get(pos) != Some(&b'}') {
            let name_start = pos;
            pos = scan_name(bytes, pos, false).ok_or(error(pos, "expected a label name"))?;
            let name = &line[name_start..pos];
            pos = skip_blanks(bytes, pos);
            if bytes.get(pos) != Some(&b'=') {
                return Err(error(pos, "expected `=` after the label name"));
            }
            pos = skip_blanks(bytes, pos + 1);
            if bytes.get(pos) != Some(&b'"') {
                return Err(error(pos, "expected `\"` to open the label value"));
            }
            let value_start = pos + 1;
            pos = scan_quoted(bytes, value_start).map_err(|(column, reason)| error(column, reason))?;
            label(name, value_start..pos);
            pos = skip_blanks(bytes, pos + 1);
            match bytes.get(pos) {
                Some(b',') => pos = skip_blanks(bytes, pos + 1),
                Some(b'}') => {}
                _ => return Err(error(pos, "expected `,` or `}` after the label value")),
            }
        }
        pos = skip_blanks(bytes, pos + 1);
    }
    if pos == metric_span.end || pos == bytes.len() {
        return Err(error(pos, "expected a blank and the sample value"));
    }
    let value_end = scan_token(bytes, pos);
    let value = line[pos..value_end].parse::<f64>().map_err(|_| error(pos, "invalid sample value"))?;
    pos = skip_blanks(bytes, value_end);
    let mut timestamp_ms = None;
    if pos < bytes.len() {
        let end = scan_token(bytes, pos);
        timestamp_ms = Some(line[pos..end].parse::<i64>().map_err(|_| error(pos, "invalid timestamp"))?);
        pos = skip_blanks(bytes, end);
        if pos < bytes.len() {
            return Err(error(pos, "unexpected text after the timestamp"));
        }
    }
    Ok(Some(Point { metric: &line[metric_span.clone()], metric_span, value, timestamp_ms }))
}

/// The first position at or after `pos` that is not a space or a tab.
fn skip_blanks(bytes: &[u8], mut pos: usize) -> usize {
    while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
        pos += 1;
    }
    pos
}

/// The end of a blank-free token starting at `pos`.
fn scan_token(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && !matches!(bytes[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}

/// The end of a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`) or, without colons, of a label name,
/// starting at `pos`; `None` if there is none.
fn scan_name(bytes: &[u8], start: usize, colons: bool) -> Option<usize> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || (colons && b == b':');
    let mut pos = start;
    while pos < bytes.len() && allowed(bytes[pos]) {
        pos += 1;
    }
    (pos > start && !bytes[start].is_ascii_digit()).then_some(pos)
}

/// The position of the quote closing a label value that starts at `pos`, skipping escapes; or the
/// position and reason of an error.
fn scan_quoted(bytes: &[u8], mut pos: usize) -> Result<usize, (usize, &'static str)> {
    loop {
        match bytes.get(pos) {
            None => return Err((pos, "unterminated label value")),
            Some(b'"') => return Ok(pos),
            Some(b'\\') => match bytes.get(pos + 1) {
                Some(b'\\' | b'"' | b'n') => pos += 2,
                _ => return Err((pos, "invalid escape in label value (only \\\\, \\\" and \\n)")),
            },
            Some(_) => pos += 1,
        }
    }
}

/// Appends a label value as it was between its quotes (valid per [`parse_line`]) to `out`, with
/// its escapes resolved. Values without a backslash, i.e. nearly all, are copied in one go.
pub fn unescape_into(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        out.push(match rest.as_bytes()[at + 1] {
            b'n' => '\n',
            escaped => char::from(escaped),
        });
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
}

/// The labels of one point: interned name and the span of the value in its line.
type Pairs = Vec<(Spur, Range<usize>)>;

/// Parses `line` into `pairs` (cleared first): its labels with interned names, plus `__name__`
/// (interned as `name_key`), sorted by name, empty values dropped. Returns the point, or `None` for
/// a comment or blank line.
fn parse_point(
    line: &str,
    interner: &mut Rodeo,
    name_key: Spur,
    pairs: &mut Pairs,
) -> Result<Option<(f64, i64)>, ParseError> {
    pairs.clear();
    let parsed = parse_line(line, |name, span| {
        if !span.is_empty() {
            pairs.push((interner.get_or_intern(name), span));
        }
    })?;
    let Some(point) = parsed else { return Ok(None) };
    let error = |column, reason| ParseError { line: 0, column, reason };
    let timestamp = point.timestamp_ms.ok_or(error(line.len(), "sample without a timestamp"))?;
    pairs.push((name_key, point.metric_span));
    pairs.sort_unstable_by(|a, b| interner.resolve(&a.0).cmp(interner.resolve(&b.0)));
    if let Some(pair) = pairs.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        // At the later of the two values (the sort does not keep their order).
        return Err(error(pair[0].1.start.max(pair[1].1.start), "duplicate label name"));
    }
    Ok(Some((point.value, timestamp)))
}

/// Gives a parse error of line `index` (from 0) its line number.
fn at_line(index: usize) -> impl FnOnce(ParseError) -> ParseError {
    move |e| ParseError { line: index + 1, ..e }
}

/// The text of a request body as UTF-8, which the text format requires.
fn utf8(text: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(text).map_err(|e| ParseError {
        line: text[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1,
        column: 0,
        reason: "invalid UTF-8",
    })
}

/// The naive end-to-end path, as a function written for one call: a new interner, a new request with
/// new strings for every label, `encode_to_vec`, and a new snappy encoder and output.
///
/// # Errors
///
/// A malformed line, a sample without a timestamp, or a line with a duplicate label name.
pub fn one_shot(text: &[u8]) -> Result<Vec<u8>, ParseError> {
    let text = utf8(text)?;
    let mut interner = Rodeo::new();
    let name_key = interner.get_or_intern_static(NAME_LABEL);
    let mut request = WriteRequest::default();
    for (index, line) in text.lines().enumerate() {
        let mut pairs = Vec::new();
        let Some((value, timestamp)) =
            parse_point(line, &mut interner, name_key, &mut pairs).map_err(at_line(index))?
        else {
            continue;
        };
        let labels = pairs
            .iter()
            .map(|(key, span)| {
                let mut value = String::new();
                unescape_into(&line[span.clone()], &mut value);
                Label { name: interner.resolve(key).to_owned(), value }
            })
            .collect();
        request.timeseries.push(TimeSeries { labels, samples: vec![Sample { value, timestamp }] });
    }
    let encoded = request.encode_to_vec();
    Ok(snap::raw::Encoder::new().compress_vec(&encoded).expect("snappy compresses any input"))
}

/// The end-to-end path with every buffer kept from one [`Pipeline::push`] to the next: the
/// interner (names seen before are looked up, not stored), the request's series with their label
/// strings (overwritten in place; series beyond the current input are parked, not freed), the
/// scratch list of a line's labels, the encoded bytes, snappy's encoder with its hash table, and
/// the compressed bytes. Once these have grown to fit, a push allocates nothing.
pub struct Pipeline {
    interner: Rodeo,
    name_key: Spur,
    pairs: Pairs,
    request: WriteRequest,
    /// Series parked by a push with fewer points than the one before, for later pushes to reuse.
    spare: Vec<TimeSeries>,
    encoded: Vec<u8>,
    /// Boxed: the encoder holds its 2 KiB hash table for small inputs inline.
    encoder: Box<snap::raw::Encoder>,
    /// Sized for snappy's worst case; only its first `compressed_len` bytes are the output.
    compressed: Vec<u8>,
    compressed_len: usize,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Pipeline {
    /// A pipeline with empty buffers.
    pub fn new() -> Self {
        let mut interner = Rodeo::new();
        let name_key = interner.get_or_intern_static(NAME_LABEL);
        Self {
            interner,
            name_key,
            pairs: Vec::new(),
            request: WriteRequest::default(),
            spare: Vec::new(),
            encoded: Vec::new(),
            encoder: Box::new(snap::raw::Encoder::new()),
            compressed: Vec::new(),
            compressed_len: 0,
        }
    }

    /// Turns `text` into the snappy-compressed `WriteRequest` of its samples, the same bytes as
    /// [`one_shot`].
    ///
    /// # Errors
    ///
    /// As [`one_shot`]. The pipeline stays usable.
    pub fn push(&mut self, text: &[u8]) -> Result<&[u8], ParseError> {
        let text = utf8(text)?;
        let mut used = 0;
        for (index, line) in text.lines().enumerate() {
            let point =
                parse_point(line, &mut self.interner, self.name_key, &mut self.pairs).map_err(at_line(index))?;
            let Some((value, timestamp)) = point else { continue };
            if used == self.request.timeseries.len() {
                self.request.timeseries.push(self.spare.pop().unwrap_or_default());
            }
            let series = &mut self.request.timeseries[used];
            used += 1;
            fill_labels(&mut series.labels, &self.pairs, &self.interner, line);
            series.samples.clear();
            series.samples.push(Sample { value, timestamp });
        }
        self.spare.extend(self.request.timeseries.drain(used..));

        prost_encode_into(&self.request, &mut self.encoded);
        let max = snap::raw::max_compress_len(self.encoded.len());
        if self.compressed.len() < max {
            self.compressed.resize(max, 0);
        }
        self.compressed_len =
            self.encoder.compress(&self.encoded, &mut self.compressed).expect("the output has snappy's maximum size");
        Ok(&self.compressed[..self.compressed_len])
    }

    /// The request the last push built.
    pub fn request(&self) -> &WriteRequest {
        &self.request
    }

    /// The encoded (uncompressed) request of the last push.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }
}

/// Overwrites `labels` with `pairs`, reusing the existing `Label`s and their strings' capacity.
fn fill_labels(labels: &mut Vec<Label>, pairs: &[(Spur, Range<usize>)], interner: &Rodeo, line: &str) {
    labels.truncate(pairs.len());
    for (i, (key, span)) in pairs.iter().enumerate() {
        if i == labels.len() {
            labels.push(Label::default());
        }
        let label = &mut labels[i];
        label.name.clear();
        label.name.push_str(interner.resolve(key));
        label.value.clear();
        unescape_into(&line[span.clone()], &mut label.value);
    }
}

/// Encodes into a kept buffer (cleared, capacity kept).
fn prost_encode_into(request: &WriteRequest, out: &mut Vec<u8>) {
    out.clear();
    request.encode(out).expect("a Vec grows to fit any message");
}

/// Text exposition holding exactly `points` sample lines: the start of [`data::metrics_text`] up to
/// the end of its `points`-th sample line, with the `# HELP` and `# TYPE` lines among them.
pub fn exposition(seed: u64, points: usize) -> Vec<u8> {
    let mut len = 256 * points + 4096;
    loop {
        let text = data::metrics_text(seed, len);
        let mut seen = 0;
        let mut start = 0;
        for (at, _) in text.iter().enumerate().filter(|(_, b)| **b == b'\n') {
            if seen == points {
                break;
            }
            if text[start] != b'#' {
                seen += 1;
            }
            start = at + 1;
        }
        if seen == points {
            return text[..start].to_vec();
        }
        len *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: u64 = 3;

    /// A parsed line with its labels, unescaped.
    type Parsed<'a> = (Point<'a>, Vec<(&'a str, String)>);

    /// Parses one line, collecting its labels unescaped.
    fn parse(line: &str) -> Result<Option<Parsed<'_>>, ParseError> {
        let mut labels = Vec::new();
        let point = parse_line(line, |name, span| {
            let mut value = String::new();
            unescape_into(&line[span], &mut value);
            labels.push((name, value));
        })?;
        Ok(point.map(|p| (p, labels)))
    }

    fn decode(compressed: &[u8]) -> WriteRequest {
        let encoded = snap::raw::Decoder::new().decompress_vec(compressed).unwrap();
        WriteRequest::decode(&encoded[..]).unwrap()
    }

    #[test]
    fn parses_a_generated_line() {
        let line = r#"http_requests_total{method="GET",handler="/api/v1/query",code="200",instance="10.0.3.17:8080",job="api"} 1027 1700000000123"#;
        let (point, labels) = parse(line).unwrap().unwrap();
        assert_eq!(point.metric, "http_requests_total");
        assert_eq!(point.metric_span, 0..19);
        assert_eq!(point.value, 1027.0);
        assert_eq!(point.timestamp_ms, Some(1_700_000_000_123));
        let names: Vec<&str> = labels.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["method", "handler", "code", "instance", "job"]);
        assert_eq!(labels[3].1, "10.0.3.17:8080");
    }

    #[test]
    fn parses_the_edge_cases_of_the_format() {
        // Escaped quote, backslash and newline; `}`, `,`, `=` and blanks inside a value.
        let (_, labels) = parse(r#"m{a="x\"y",b="c:\\d",c="1\n2",d="} ,= x"} 1 2"#).unwrap().unwrap();
        let values: Vec<&str> = labels.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(values, ["x\"y", "c:\\d", "1\n2", "} ,= x"]);
        // Blanks around tokens, a trailing comma, an empty value.
        let (point, labels) = parse("  up { job = \"a\" , x=\"\", } \t1e-05   17  ").unwrap().unwrap();
        assert_eq!((point.metric, point.metric_span, point.value, point.timestamp_ms), ("up", 2..4, 1e-05, Some(17)));
        assert_eq!(labels, [("job", "a".to_owned()), ("x", String::new())]);
        // No labels, no timestamp, Go's special values and exponents.
        let (point, labels) = parse("go_goroutines 42").unwrap().unwrap();
        assert_eq!((point.value, point.timestamp_ms, labels.len()), (42.0, None, 0));
        assert!(parse("x{} NaN").unwrap().unwrap().0.value.is_nan());
        assert_eq!(parse("x +Inf -1").unwrap().unwrap().0.value, f64::INFINITY);
        assert_eq!(parse("x -Inf").unwrap().unwrap().0.value, f64::NEG_INFINITY);
        // No blank needed between the label set and the value, as in Prometheus' parser.
        assert_eq!(parse("x{a=\"b\"}7").unwrap().unwrap().0.value, 7.0);
        assert_eq!(parse("x 1.048576e+06").unwrap().unwrap().0.value, 1_048_576.0);
        assert_eq!(parse("ns:rule:rate5m 0.25").unwrap().unwrap().0.metric, "ns:rule:rate5m");
        // Comments and blank lines.
        for line in ["", "   ", "# HELP up 1 if the target is reachable.", "# TYPE up gauge", "#"] {
            assert_eq!(parse(line).unwrap(), None, "{line:?}");
        }
    }

    #[test]
    fn rejects_malformed_lines() {
        let cases = [
            ("1up 1", 0, "expected a metric name"),
            ("{a=\"b\"} 1", 0, "expected a metric name"),
            ("up", 2, "expected a blank and the sample value"),
            ("up{a=\"b\"}", 9, "expected a blank and the sample value"),
            ("up{a=\"b} 1", 10, "unterminated label value"),
            (r#"up{a="b\t"} 1"#, 7, "invalid escape in label value (only \\\\, \\\" and \\n)"),
            ("up{a=b} 1", 5, "expected `\"` to open the label value"),
            ("up{a \"b\"} 1", 5, "expected `=` after the label name"),
            ("up{a=\"b\" c=\"d\"} 1", 9, "expected `,` or `}` after the label value"),
            ("up{a=\"b\",,} 1", 9, "expected a label name"),
            ("up{a-b=\"c\"} 1", 4, "expected `=` after the label name"),
            ("up{a=\"b\"", 8, "expected `,` or `}` after the label value"),
            ("up one", 3, "invalid sample value"),
            ("up 1 1.5", 5, "invalid timestamp"),
            ("up 1 2 3", 7, "unexpected text after the timestamp"),
        ];
        for (line, column, reason) in cases {
            assert_eq!(parse(line).unwrap_err(), ParseError { line: 0, column, reason }, "{line}");
        }
    }

    #[test]
    fn unescapes_values() {
        for (raw, expected) in [("", ""), ("plain", "plain"), (r"a\\b", r"a\b"), (r#"\"q\""#, "\"q\""), (r"\n", "\n")] {
            let mut out = String::from(">");
            unescape_into(raw, &mut out);
            assert_eq!(out, format!(">{expected}"));
        }
    }

    #[test]
    fn exposition_has_exactly_the_requested_points() {
        for points in [1, 10, 100, 1000] {
            let text = String::from_utf8(exposition(SEED, points)).unwrap();
            assert!(text.ends_with('\n'));
            let samples = text.lines().filter(|line| !line.starts_with('#')).count();
            assert_eq!(samples, points);
            assert!(text.lines().any(|line| line.starts_with("# TYPE")));
            assert!(String::from_utf8(exposition(SEED, points + 1)).unwrap().starts_with(&text));
        }
        assert!(exposition(SEED, 0).is_empty());
    }

    /// Every generated line parses, and the request holds each point with sorted labels, `__name__`
    /// among them, its value and timestamp.
    #[test]
    fn builds_the_request_of_generated_text() {
        let text = exposition(SEED, 1000);
        let request = decode(&one_shot(&text).unwrap());
        assert_eq!(request.timeseries.len(), 1000);
        let lines = std::str::from_utf8(&text).unwrap().lines().filter(|line| !line.starts_with('#'));
        for (series, line) in request.timeseries.iter().zip(lines) {
            let (point, mut labels) = parse(line).unwrap().unwrap();
            labels.push((NAME_LABEL, point.metric.to_owned()));
            labels.sort();
            let expected: Vec<Label> =
                labels.into_iter().map(|(name, value)| Label { name: name.to_owned(), value }).collect();
            assert_eq!(series.labels, expected, "{line}");
            assert_eq!(series.samples, [Sample { value: point.value, timestamp: point.timestamp_ms.unwrap() }]);
        }
    }

    /// Every line of a 1 MB payload parses (all families, kinds and targets), and `+Inf`,
    /// quantile and exponent values come through.
    #[test]
    fn every_generated_line_parses() {
        let text = data::metrics_text(SEED, 1024 * 1024);
        let end = text.iter().rposition(|&b| b == b'\n').unwrap() + 1;
        let request = decode(&one_shot(&text[..end]).unwrap());
        assert!(request.timeseries.len() > 7000, "{}", request.timeseries.len());
        let values = request.timeseries.iter().flat_map(|s| &s.labels).map(|l| l.value.as_str());
        let values: std::collections::HashSet<&str> = values.collect();
        assert!(values.contains("+Inf") && values.contains("0.99") && values.contains("idle in transaction"));
        assert!(request.timeseries.iter().any(|s| s.samples[0].value == 1_048_576.0));
    }

    #[test]
    fn duplicate_labels_and_empty_values() {
        let text = b"up{job=\"a\"} 1 5\n# TYPE x gauge\nx{a=\"1\",b=\"2\",a=\"3\"} 1 5\n";
        let expected = ParseError { line: 3, column: 17, reason: "duplicate label name" };
        assert_eq!(one_shot(text).unwrap_err(), expected);
        assert_eq!(Pipeline::new().push(text).unwrap_err(), expected);
        let text = b"x{__name__=\"y\"} 1 5\n";
        assert_eq!(one_shot(text).unwrap_err().reason, "duplicate label name");

        let request = decode(&one_shot(b"x{a=\"\",b=\"\\\"\"} 2 5\n").unwrap());
        let labels: Vec<(&str, &str)> =
            request.timeseries[0].labels.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect();
        assert_eq!(labels, [("__name__", "x"), ("b", "\"")]);
    }

    #[test]
    fn rejects_missing_timestamps_and_invalid_utf8() {
        let error = one_shot(b"# c\nup 1 5\nup 1\n").unwrap_err();
        assert_eq!(error, ParseError { line: 3, column: 4, reason: "sample without a timestamp" });
        let error = Pipeline::new().push(b"up 1 5\nup{a=\"\xff\"} 1 5\n").unwrap_err();
        assert_eq!(error, ParseError { line: 2, column: 0, reason: "invalid UTF-8" });
    }

    /// The steady state gives the one-shot bytes whatever came before it (more points, fewer,
    /// other label sets), and, over the same input again, keeps every buffer where it was.
    #[test]
    fn steady_state_matches_one_shot() {
        let mut pipeline = Pipeline::new();
        for (seed, points) in [(SEED, 100), (SEED, 10), (SEED + 1, 1000), (SEED, 0), (SEED, 100), (SEED, 100)] {
            let text = exposition(seed, points);
            let expected = one_shot(&text).unwrap();
            assert!(pipeline.push(&text).unwrap() == expected, "{points} points");
            assert_eq!(pipeline.request().timeseries.len(), points);
            assert_eq!(*pipeline.request(), decode(&expected));
            assert_eq!(pipeline.encoded(), pipeline.request().encode_to_vec());
        }
        let text = exposition(SEED, 100);
        let before = buffer_addresses(&pipeline);
        pipeline.push(&text).unwrap();
        assert_eq!(buffer_addresses(&pipeline), before);
    }

    /// Addresses of the pipeline's buffers, down to every label string.
    fn buffer_addresses(pipeline: &Pipeline) -> Vec<usize> {
        let mut addresses = vec![
            pipeline.encoded.as_ptr() as usize,
            pipeline.compressed.as_ptr() as usize,
            pipeline.request.timeseries.as_ptr() as usize,
            pipeline.pairs.as_ptr() as usize,
        ];
        for series in &pipeline.request.timeseries {
            addresses.push(series.labels.as_ptr() as usize);
            addresses.push(series.samples.as_ptr() as usize);
            for label in &series.labels {
                addresses.extend([label.name.as_ptr() as usize, label.value.as_ptr() as usize]);
            }
        }
        addresses
    }

    #[test]
    fn output_compresses() {
        let text = exposition(SEED, 1000);
        let mut pipeline = Pipeline::new();
        let compressed = pipeline.push(&text).unwrap().len();
        let encoded = pipeline.encoded().len();
        assert!(compressed * 3 < encoded, "{compressed} of {encoded}");
        assert!(encoded > text.len() / 2, "{encoded} of {}", text.len());
    }
}
