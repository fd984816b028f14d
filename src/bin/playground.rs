//! The browser playground's entry point: trunk builds this binary for wasm32 and the page loads
//! it. On native targets it only says where to look.

#[cfg(target_arch = "wasm32")]
fn main() {
    firefly_playground::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "the playground runs in a browser: `cargo xtask serve`, then open http://127.0.0.1:8080/"
    );
}
