// The playground ships as two builds of one crate: the one every visitor loads has no WebGPU
// code; the other (burn's wgpu backend, three quarters of the bytes) loads only when the
// settings want WebGPU (src/ui/device/lazy.rs). The trunk build names it in index.html:
// <meta name="firefly-webgpu-build" content="./webgpu-<hash>/firefly_playground.js">.

export function hasWebgpu() {
  return typeof navigator !== "undefined" && !!navigator.gpu;
}

// Imports the WebGPU build and runs it: wasm-bindgen's init fetches its wasm beside its
// JavaScript and calls its start function, which runs the page from the beginning.
export async function loadWebgpuBuild() {
  const meta = document.querySelector('meta[name="firefly-webgpu-build"]');
  if (!meta || !meta.content) throw new Error("this site was built without its WebGPU module");
  const app = document.getElementById("app");
  if (app) app.dataset.loadingWebgpu = "1";
  const text = document.getElementById("loading-text");
  if (text) text.textContent = "Loading the WebGPU code…";
  const bar = document.getElementById("loading-bar");
  if (bar) bar.removeAttribute("value");
  const build = await import(new URL(meta.content, document.baseURI).href);
  await build.default();
}
