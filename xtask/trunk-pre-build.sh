#!/bin/sh
# trunk's pre_build hook (Trunk.toml). A plain `trunk serve` or `trunk build` runs offline with
# a pinned wasm-bindgen; when something it needs is missing, say so in one line, before cargo
# starts, and name the command that installs it. POSIX sh: runs wherever trunk does.
pin=$(sed -n 's/^wasm_bindgen *= *"\([^"]*\)".*/\1/p' Trunk.toml)
missing=""
add() { missing="${missing:+$missing, }$1"; }

sysroot=$(rustc --print sysroot 2>/dev/null)
[ -n "$sysroot" ] && [ -d "$sysroot/lib/rustlib/wasm32-unknown-unknown" ] ||
  add "the wasm32-unknown-unknown target"
found=$(wasm-bindgen --version 2>/dev/null | sed -n 's/^wasm-bindgen \([^ ]*\).*/\1/p')
[ "$found" = "$pin" ] || add "wasm-bindgen-cli $pin${found:+ (found $found)}"
cargo fetch --offline --quiet >/dev/null 2>&1 || add "the crates (cargo fetch)"

[ -z "$missing" ] && exit 0
echo "trunk: missing $missing: run \`cargo xtask serve\` once (it installs what is missing), then \`trunk serve\` works" >&2
exit 1
