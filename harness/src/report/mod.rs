//! Rendering results for people. Reporters format what they are given; they never measure or decide.

pub mod chart;
pub mod export;
pub mod factors;
pub mod html;
pub mod noise;
pub mod summary;
pub mod table;
pub mod verdicts;

use crate::model::ThroughputRate;

/// Nanoseconds with a unit that keeps 3-4 significant digits: `0.42 ns`, `12.3 µs`, `1.20 s`.
pub fn format_ns(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", sig3(v))
}

/// Bytes in binary units: `300 B`, `1.5 KiB`, `12.0 MiB`.
pub fn format_bytes(b: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if b < 1024.0 {
        return format!("{} B", trim_float(b));
    }
    let mut v = b;
    let mut unit = "B";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{} {unit}", sig3(v))
}

/// A count with thousands separators, rounded to a whole number from 1,000 up, and with up to two
/// decimals below: `1,234,567`, `63,221` (from 63,221.2), `2.5`.
pub fn format_count(x: f64) -> String {
    if x.fract() != 0.0 && x.abs() < 1e3 {
        return trim_float(x);
    }
    let s = format!("{:.0}", x);
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// `512.3 MB/s` (decimal, as compression benchmarks usually report) or `1.25 M elem/s`.
pub fn format_rate(rate: ThroughputRate) -> String {
    match rate {
        ThroughputRate::BytesPerSec(b) => {
            let (v, unit) = if b >= 1e9 {
                (b / 1e9, "GB/s")
            } else if b >= 1e6 {
                (b / 1e6, "MB/s")
            } else {
                (b / 1e3, "kB/s")
            };
            format!("{} {unit}", sig3(v))
        }
        ThroughputRate::ElementsPerSec(e) => {
            let (v, unit) = if e >= 1e9 {
                (e / 1e9, "G")
            } else if e >= 1e6 {
                (e / 1e6, "M")
            } else if e >= 1e3 {
                (e / 1e3, "k")
            } else {
                (e, "")
            };
            format!("{} {unit}elem/s", sig3(v))
        }
    }
}

/// Three significant digits, at least one decimal below 100.
pub(crate) fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_scale() {
        assert_eq!(format_ns(0.42), "0.42 ns");
        assert_eq!(format_ns(12_345.0), "12.3 µs");
        assert_eq!(format_ns(1.2e9), "1.20 s");
        assert_eq!(format_bytes(300.0), "300 B");
        assert_eq!(format_bytes(1536.0), "1.50 KiB");
        assert_eq!(format_count(1_234_567.0), "1,234,567");
        assert_eq!(format_count(2.5), "2.5");
        assert_eq!(
            (format_count(63_221.2), format_count(999.25), format_count(-1_698.6)),
            ("63,221".into(), "999.25".into(), "-1,699".into())
        );
        assert_eq!(format_count(3.0), "3");
        assert_eq!(format_rate(ThroughputRate::BytesPerSec(512.3e6)), "512 MB/s");
    }
}
