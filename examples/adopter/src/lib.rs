//! A small library to benchmark: splitting a log line into key=value fields.

/// Splits `line` into `key=value` pairs separated by spaces; values may be double-quoted.
pub fn fields(line: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while let Some(eq) = rest.find('=') {
        let key = &rest[..eq];
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            (&quoted[..end], quoted.get(end + 1..).unwrap_or(""))
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        out.push((key, value));
        rest = next.trim_start();
    }
    out
}

/// Like [`fields`], but owned: one allocation per key and value.
pub fn fields_owned(line: &str) -> Vec<(String, String)> {
    fields(line).into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_quoted_and_bare_values() {
        let f = super::fields(r#"level=info msg="hello world" took=12ms"#);
        assert_eq!(f, vec![("level", "info"), ("msg", "hello world"), ("took", "12ms")]);
    }
}
