#!/bin/sh
# Part of trunk's post_build hook (xtask/trunk-post-build.sh): builds the page's WebGPU build
# beside the one trunk built. trunk builds the crate without WebGPU code (what every visitor
# loads); this builds it again with `--features wgpu` (burn's wgpu backend, three quarters of
# the bytes) into `webgpu-<checksum>/` and names it in index.html's `firefly-webgpu-build` meta
# tag, which www/webgpu.js reads when the settings want WebGPU. Same target dir and cargo
# profile as trunk's build (`FIREFLY_CARGO_PROFILE`, set by `cargo xtask dist`; `release`
# otherwise). `FIREFLY_WEBGPU_FEATURES` gives its features (default `wgpu`; `wgpu,fusion` for
# burn's kernel fusion). POSIX sh: runs wherever trunk does.
set -eu
dir="${TRUNK_STAGING_DIR:?run by trunk}"
html="$dir/index.html"
profile="${FIREFLY_CARGO_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-target}"
features="${FIREFLY_WEBGPU_FEATURES:-wgpu}"
cargo build --offline --quiet --lib --target wasm32-unknown-unknown --features "$features" \
  --profile "$profile"
work="$dir/.webgpu-build"
rm -rf "$work"
wasm-bindgen --target web --no-typescript --out-dir "$work" \
  "$target/wasm32-unknown-unknown/$profile/firefly_playground.wasm"
sum=$(cksum < "$work/firefly_playground_bg.wasm" | awk '{ printf "%08x%08x", $1, $2 }')
rm -rf "$dir/webgpu-$sum"
mv "$work" "$dir/webgpu-$sum"
meta="<meta name=\"firefly-webgpu-build\" content=\"./webgpu-$sum/firefly_playground.js\">"
awk -v meta="$meta" '/<\/head>/ && !done { print "  " meta; done = 1 } { print }' "$html" > "$html.new"
mv "$html.new" "$html"
