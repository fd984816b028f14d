// Stand-in page logic (see index.html): fakes training, growth, keys, buttons, backends, bench.
const app = document.getElementById('app');
const hash = new URLSearchParams(location.hash.slice(1));
const growEvery = Math.max(1, parseInt(hash.get('grow-every') || '5', 10));
const UNIT_CAP = 64;
const s = { state: 'loading', backend: 'cpu', epoch: 0, units: 4, growths: 0, lineage: 0 };

function publish() {
  app.dataset.state = s.state;
  app.dataset.backend = s.backend;
  app.dataset.epoch = String(s.epoch);
  app.dataset.units = String(s.units);
  app.dataset.baselineUnits = '4';
  app.dataset.growths = String(s.growths);
  app.dataset.lineage = String(s.lineage);
  document.getElementById('play').textContent = s.state === 'running' ? 'Pause' : 'Play';
  draw();
}

function draw() {
  for (const id of ['heatmap', 'network', 'curves', 'figure3']) {
    const c = document.getElementById(id).getContext('2d');
    c.fillStyle = '#000';
    c.fillRect(0, 0, 300, 200);
    c.fillStyle = `hsl(${(s.epoch * 7) % 360} 80% 60%)`;
    for (let i = 0; i < s.units; i++) c.fillRect(10 + (i % 16) * 16, 10 + Math.floor(i / 16) * 16, 12, 12);
    c.fillStyle = '#fff';
    c.fillText(`${id} epoch ${s.epoch}`, 10, 190);
  }
}

function grow() {
  if (s.units + 2 > UNIT_CAP) return;
  s.units += 2;
  s.growths += 1;
  s.lineage += 2; // one split + one new unit
}

function epoch() {
  s.epoch += 1;
  if (s.epoch % growEvery === 0) grow();
}

function toggle() {
  if (s.state === 'running') s.state = 'paused';
  else if (s.state === 'paused') s.state = 'running';
  publish();
}
function step() { if (s.state === 'paused') { epoch(); publish(); } }
function growNow() { grow(); publish(); }
function reset() { s.epoch = 0; s.units = 4; s.growths = 0; s.lineage = 0; publish(); }
function sheet() {
  const el = document.getElementById('shortcuts');
  el.hidden = !el.hidden;
}

document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const actions = { ' ': toggle, s: step, g: growNow, r: reset, '?': sheet };
  const action = actions[e.key];
  if (action) { e.preventDefault(); action(); }
});
document.getElementById('play').addEventListener('click', toggle);
document.getElementById('step').addEventListener('click', step);
document.getElementById('grow').addEventListener('click', growNow);
document.getElementById('reset').addEventListener('click', reset);

async function webgpuAdapter() {
  if (!navigator.gpu) return null;
  try { return await navigator.gpu.requestAdapter(); } catch { return null; }
}

async function bench(hasGpu) {
  const started = performance.now();
  await new Promise((r) => setTimeout(r, 1500));
  const result = { cpu_epochs_per_s: 10, webgpu_epochs_per_s: hasGpu ? 3.3 : null,
                   seconds: (performance.now() - started) / 1000, note: 'stand-in "numbers"' };
  app.dataset.bench = JSON.stringify(result);
}

async function main() {
  publish();
  // A module instantiated from a .wasm file: fails unless the server sends application/wasm.
  await WebAssembly.instantiateStreaming(fetch('./tiny.wasm'));
  const adapter = hash.get('backend') === 'cpu' ? null : await webgpuAdapter();
  s.backend = adapter ? 'webgpu' : 'cpu';
  if (!adapter && hash.get('backend') !== 'cpu') {
    const note = document.getElementById('backend-note');
    note.textContent = 'WebGPU is not available in this browser: training on the CPU.';
    note.hidden = false;
  }
  if (hash.has('bench')) {
    s.state = 'running';
    publish();
    await bench(Boolean(adapter));
    return;
  }
  s.state = 'running';
  publish();
  setInterval(() => {
    if (s.state === 'running') { epoch(); publish(); }
  }, adapter ? 300 : 100);
}

main().catch((err) => {
  app.dataset.state = 'error';
  app.dataset.error = String(err && err.message ? err.message : err);
});
