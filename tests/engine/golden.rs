//! The backend check recorded natively: `tests/golden/backend_check.json` holds the native Flex
//! run of [`backend_check`]; this test keeps it true, and the browser tests compare the wasm CPU
//! and WebGPU runs against the same file. Regenerate with `UPDATE_GOLDEN=1 cargo test --release`.

use firefly_playground::experiment::{BackendCheck, backend_check};

use crate::support::{block, device};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/backend_check.json"
);

#[test]
fn native_run_matches_the_golden_file() {
    let check = block(backend_check(&device(), || async {})).expect("backend check");
    assert!(check.losses.len() == 12 && check.losses.iter().all(|l| l.is_finite()));
    assert!(
        check.losses[11] < check.losses[0],
        "training lowered the loss"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&check).expect("json");
        std::fs::write(GOLDEN, text + "\n").expect("write golden file");
    }
    let text = std::fs::read_to_string(GOLDEN).expect("golden file exists");
    let golden: BackendCheck = serde_json::from_str(&text).expect("golden file parses");
    check
        .compare(&golden, 1e-5)
        .expect("native run matches the golden file");
}
