#!/bin/sh
# trunk's post_build hook (Trunk.toml): moves every inline <script> of the built index.html into
# its own file beside it (named by its checksum and length in hex, like trunk's hashed files), so that the page runs under the strict
# Content-Security-Policy it declares (script-src 'self' 'wasm-unsafe-eval': no inline script).
# trunk writes its loader inline; this runs on every trunk build (xtask test, serve and dist,
# and a plain `trunk serve`). POSIX sh and awk: runs wherever trunk does.
set -eu
dir="${TRUNK_STAGING_DIR:?run by trunk}"
# First the WebGPU build, which index.html names in a meta tag.
sh xtask/trunk-webgpu-build.sh
html="$dir/index.html"
[ -f "$html" ] || exit 0
tmp="$dir/.inline-script"
awk -v dir="$dir" -v tmp="$tmp" '
  function flush_script(attrs, body,    cmd, sum, name) {
    # trunk serve fills these placeholders in the page it sends, but not in a file: the
    # live-reload script gets the address of the page itself (the same server) here.
    # (No apostrophe anywhere in this program: it sits in single quotes.)
    gsub(/\047[{][{]__TRUNK_ADDRESS__[}][}]\047/, "window.location.host", body)
    gsub(/\047[{][{]__TRUNK_WS_BASE__[}][}]\047/, "\"/\"", body)
    printf "%s", body > tmp
    close(tmp)
    cmd = "cksum < \"" tmp "\""
    cmd | getline sum
    close(cmd)
    split(sum, parts, " ")
    name = sprintf("%08x%08x-inline.js", parts[1], parts[2])
    system("mv \"" tmp "\" \"" dir "/" name "\"")
    return "<script" attrs " src=\"./" name "\"></script>"
  }
  { text = text $0 "\n" }
  END {
    out = ""
    while (match(text, /<script[^>]*>/)) {
      open = substr(text, RSTART, RLENGTH)
      out = out substr(text, 1, RSTART - 1)
      text = substr(text, RSTART + RLENGTH)
      close_at = index(text, "</script>")
      if (close_at == 0) { out = out open; continue }
      body = substr(text, 1, close_at - 1)
      text = substr(text, close_at + 9)
      if (open ~ /[ \t]src=/ || body ~ /^[ \t\n]*$/) {
        out = out open body "</script>"
      } else {
        attrs = substr(open, 8, length(open) - 8)
        out = out flush_script(attrs, body)
      }
    }
    printf "%s", out text
  }
' "$html" > "$html.new"
mv "$html.new" "$html"
