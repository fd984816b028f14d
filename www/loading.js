// The loading state while the wasm downloads and compiles: trunk's `data-initializer` contract
// (trunk 0.21): the default export returns the callbacks trunk calls around `init`.
// Progress goes to #loading (role=status); the Rust UI takes over by setting #app[data-state]
// from "loading" to "running", which hides it (www/style.css).
// Content-Security-Policy violations are counted on #app (data-csp-violations) for the tests:
// the page must need nothing its policy refuses.
document.addEventListener("securitypolicyviolation", (event) => {
  const app = document.getElementById("app");
  if (!app) return;
  app.dataset.cspViolations = String(Number(app.dataset.cspViolations || 0) + 1);
  app.dataset.cspLast = `${event.violatedDirective} ${event.blockedURI}`;
});

// The crash panel's buttons work without the wasm module (which a panic has stopped).
document.addEventListener("click", (event) => {
  const id = event.target && event.target.id;
  if (id === "crash-reload") window.location.reload();
  if (id === "crash-copy") {
    const report = document.getElementById("crash-report");
    const button = event.target;
    const done = (word) => button.setAttribute("data-copied", word);
    if (navigator.clipboard) {
      navigator.clipboard.writeText(report.value).then(() => done("Copied"), () => done("Select the text and copy it"));
    } else {
      report.select();
      done("Select the text and copy it");
    }
  }
});

// The playground ships as two builds of one crate: the one every visitor loads has no WebGPU
// code; the other (burn's wgpu backend, three quarters of the bytes) loads only when the
// settings want WebGPU (src/ui/device/lazy.rs calls this). The trunk build names it in
// index.html: <meta name="firefly-webgpu-build" content="./webgpu-<hash>.js">. Importing it and
// running wasm-bindgen's init fetches its wasm beside it and calls its start function, which runs
// the page from the beginning. Here rather than in a wasm-bindgen snippet: this file's name
// carries a content hash, so a host may cache it for good.
window.fireflyLoadWebgpuBuild = async () => {
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
};

export default function loading() {
  const app = document.getElementById("app");
  const box = document.getElementById("loading");
  const text = document.getElementById("loading-text");
  const bar = document.getElementById("loading-bar");
  let failed = false;

  const say = (message) => {
    if (text) text.textContent = message;
  };
  const fail = (reason) => {
    if (failed) return;
    failed = true;
    window.removeEventListener("unhandledrejection", onRejection);
    // A panic in the playground's start already shows its own message: keep it.
    if (!app || app.dataset.state !== "loading") {
      if (box) box.hidden = true;
      return;
    }
    const detail = reason instanceof Error ? reason.message : String(reason);
    const message = `The playground could not load: ${detail}. Check the connection and reload the page.`;
    console.error(message, reason);
    if (box) box.classList.add("failed");
    if (bar) bar.hidden = true;
    say(message);
    app.dataset.state = "error";
    app.dataset.error = message;
  };
  // trunk's download loop does not report a broken connection; a rejection while loading does.
  const onRejection = (event) => fail(event.reason);

  return {
    onStart() {
      window.addEventListener("unhandledrejection", onRejection);
      say("Loading the playground… 0 %");
    },
    onProgress({ current, total }) {
      if (failed) return;
      const percent = total > 0 ? Math.min(100, Math.floor((100 * current) / total)) : 0;
      if (bar) bar.value = percent;
      say(percent < 100 ? `Loading the playground… ${percent} %` : "Starting the playground…");
    },
    onSuccess() {
      window.removeEventListener("unhandledrejection", onRejection);
      // The first build may already be fetching the WebGPU build (www/webgpu.js).
      if (app && app.dataset.loadingWebgpu) return;
      if (bar) bar.value = 100;
      say("Starting the playground…");
    },
    onFailure(reason) {
      fail(reason);
    },
  };
}
