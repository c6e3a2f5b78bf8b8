//! Curated benchmark suites (placeholder while the compression suite is written).
