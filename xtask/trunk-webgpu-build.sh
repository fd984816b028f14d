#!/bin/sh
# Part of trunk's post_build hook (xtask/trunk-post-build.sh): builds the page's WebGPU build
# beside the one trunk built. trunk builds the crate without WebGPU code (what every visitor
# loads); this builds it again with `--features wgpu` (burn's wgpu backend, three quarters of
# the bytes) into `webgpu-<checksum>.js` and `_bg.wasm` and names it in index.html's
# `firefly-webgpu-build` meta tag, which www/loading.js reads when the settings want WebGPU.
# Same target dir and cargo profile as trunk's build (`FIREFLY_CARGO_PROFILE`, set by xtask:
# `dist` for `cargo xtask dist`; `release` otherwise). `FIREFLY_WEBGPU_FEATURES` gives its features (default `wgpu`; `wgpu,fusion` for
# burn's kernel fusion). POSIX sh: runs wherever trunk does.
set -eu
dir="${TRUNK_STAGING_DIR:?run by trunk}"
html="$dir/index.html"
profile="${FIREFLY_CARGO_PROFILE:-release}"
target="${CARGO_TARGET_DIR:-target}"
features="${FIREFLY_WEBGPU_FEATURES:-wgpu}"
echo "trunk hook: building the WebGPU build (--features $features, profile $profile; the first time takes several minutes)" >&2
cargo build --offline --lib --target wasm32-unknown-unknown --features "$features" \
  --profile "$profile"
wasm="$target/wasm32-unknown-unknown/$profile/firefly_playground.wasm"
# Named by the content of the wasm it comes from, as trunk names its files, so a host may cache
# them for good: webgpu-<hash>.js and webgpu-<hash>_bg.wasm.
name="webgpu-$(cksum < "$wasm" | awk '{ printf "%08x%08x", $1, $2 }')"
rm -f "$dir"/webgpu-*
wasm-bindgen --target web --no-typescript --out-dir "$dir" --out-name "$name" "$wasm"
meta="<meta name=\"firefly-webgpu-build\" content=\"./$name.js\">"
awk -v meta="$meta" '/<\/head>/ && !done { print "  " meta; done = 1 } { print }' "$html" > "$html.new"
mv "$html.new" "$html"
