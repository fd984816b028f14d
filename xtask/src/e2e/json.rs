//! JSON for the WebDriver wire protocol and the page's reports: serde_json's value under the name
//! the checks use, and the few helpers they share.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub use serde_json::json;

/// A JSON value (`get`, `as_str`, `as_f64`, `as_bool`, `From<&str>`, `Display` as compact text).
pub type Json = serde_json::Value;

/// Parses a whole JSON text (surrounding whitespace allowed).
pub fn parse(text: &str) -> Result<Json, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
}

/// The items of an array; none for any other value.
pub fn items(value: &Json) -> &[Json] {
    value.as_array().map_or(&[], Vec::as_slice)
}

pub fn strings(value: &Json) -> Vec<&str> {
    items(value).iter().filter_map(Json::as_str).collect()
}

/// Item `i` of an array as text; "" when it is missing or not text.
pub fn str_at(value: &Json, i: usize) -> &str {
    items(value).get(i).and_then(Json::as_str).unwrap_or_default()
}

/// Item `i` of an array as a number; NaN when it is missing or not a number.
pub fn num_at(value: &Json, i: usize) -> f64 {
    items(value).get(i).and_then(Json::as_f64).unwrap_or(f64::NAN)
}

/// Decodes standard base64 with `=` padding (WebDriver's screenshots, the files a page sends).
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    STANDARD.decode(text).map_err(|e| format!("invalid base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_webdriver_answers() {
        let text = r#" {"value": {"sessionId": "ab12", "list": [1, -2.5e2, null, "x\u00e9"]}} "#;
        let value = parse(text).unwrap();
        let value = value.get("value").unwrap();
        assert_eq!(value.get("sessionId").and_then(Json::as_str), Some("ab12"));
        let list = items(value.get("list").unwrap());
        assert_eq!(list[1].as_f64(), Some(-250.0));
        assert_eq!(list[3].as_str(), Some("xé"));
        assert!(items(value.get("sessionId").unwrap()).is_empty());
        assert!(parse("[1,]").is_err());
        assert_eq!(json!({"n": 3, "s": "a\"b"}).to_string(), r#"{"n":3,"s":"a\"b"}"#);
    }

    #[test]
    fn decodes_base64() {
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert!(base64_decode("Zm9v!").is_err());
    }
}
