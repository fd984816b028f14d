//! Subresource-integrity values (`sha384-<base64>`), as trunk writes them into `index.html`:
//! `cargo xtask dist` changes the wasm after trunk and must put the new value in its place.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha384};

/// The `integrity` attribute value of `bytes`: `sha384-` and the base64 of their SHA-384.
pub fn integrity(bytes: &[u8]) -> String {
    format!("sha384-{}", STANDARD.encode(Sha384::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_is_sha384_in_base64() {
        // The value `openssl dgst -sha384 -binary | base64` gives for "abc" (FIPS 180-4's vector).
        assert_eq!(
            integrity(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
        assert_eq!(
            integrity(b""),
            "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
        );
    }
}
