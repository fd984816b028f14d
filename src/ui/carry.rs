//! Carrying the runs over a reload that decides the backend again. The backend is chosen for
//! the network the page opens with; when a growing network's widest layer reaches
//! [`crate::probe::decide_again_at`] that choice is stale, and a choice can only be made from
//! the start of a page (the build without WebGPU code hands over to the other build before
//! anything listens). So the page saves every run ([`crate::playground::Playground::save_state`])
//! in the tab's session storage under its link, and reloads; the page that starts under the
//! same link within [`MAX_AGE_MS`] takes the state, decides for the grown network, and puts the
//! runs back ([`crate::playground::Playground::resume`]).

use serde::{Deserialize, Serialize};

use crate::playground::SavedState;

/// The session-storage key.
const KEY: &str = "firefly-playground-carry";
/// How old a carried state may be when a page starts: a reload takes a few seconds (the WebGPU
/// build's 2.3 MB on a slow line, longer); an older one is left from a reload that never
/// finished and is not the run a person opens now.
const MAX_AGE_MS: f64 = 120_000.0;

#[derive(Serialize, Deserialize)]
struct Carried {
    /// The link the runs were saved under (without `#`).
    hash: String,
    /// When (`Date.now()`, ms).
    at: f64,
    state: SavedState,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The most epoch records carried, all runs together (about 120 bytes each in JSON): a long run
/// over ten seeds (20 runs) keeps up to 400,000, over 40 MB, past any session storage's quota.
const MAX_RECORDS: usize = 20_000;

/// Saves `state` for the page that starts next under `hash`, its histories thinned to
/// [`MAX_RECORDS`]. An error (no session storage, as in some sandboxed frames, or a state over
/// its quota) says why; nothing is then carried.
pub fn store(hash: &str, state: SavedState) -> Result<(), String> {
    let storage = storage().ok_or("this page has no session storage")?;
    let carried = Carried {
        hash: hash.to_string(),
        at: js_sys::Date::now(),
        state: state.bounded(MAX_RECORDS),
    };
    let text = serde_json::to_string(&carried).map_err(|e| e.to_string())?;
    storage
        .set_item(KEY, &text)
        .map_err(|e| format!("the session storage refused the runs: {e:?}"))
}

/// The state carried for a page under `hash`, if a reload left one (it stays stored until
/// [`clear`]: the build that hands the page over leaves it to the other).
pub fn peek(hash: &str) -> Option<SavedState> {
    let text = storage()?.get_item(KEY).ok().flatten()?;
    let carried: Carried = serde_json::from_str(&text).ok()?;
    let fresh = (0.0..MAX_AGE_MS).contains(&(js_sys::Date::now() - carried.at));
    (carried.hash == hash && fresh).then_some(carried.state)
}

/// Forgets any carried state.
pub fn clear() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
}
