/**
 * The in-browser DISCO demo: open a photo, colorize it on this device, edit its anchors (move,
 * add, remove, recolor from the modeler's palette or any color), compare, download, and export the
 * anchors in the `--anchors-file` format of `disco colorize`.
 *
 * URL parameters: `?demo=1` opens the first bundled photo at once; `?backend=webgpu|webgl|wasm|cpu`
 * forces a backend (default: the first that works, in that order).
 */
import './style.css';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { BROWSER_BACKEND_CHOICES, selectBackend, type BackendChoice, type BackendInfo, type BackendName } from '@disco/runtime';
import { DEFAULT_MODEL, loadPretrainedFeatures, registerFrozenNetwork, resolveStoredConfig, type DiscoModelJson } from '@disco/colorize';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { DiscoEngine, type ImagePixels, type VariantResult } from './engine.js';
import { baseName, hintsJson, parseHints, type HintAnchor, type HintScale } from './hints.js';

/** Every embedded model's two files as asset URLs; the page runs {@link DEFAULT_MODEL}, the CLI's default. */
const EMBEDDED = import.meta.glob<string>('disco-assets/models/*/{disco-model.json,weights.bin}', { query: '?url', import: 'default', eager: true });

/** The asset URL of one file of the default model. */
function defaultModelUrl(file: 'disco-model.json' | 'weights.bin'): string {
  const key = Object.keys(EMBEDDED).find((k) => k.endsWith(`/models/${DEFAULT_MODEL}/${file}`));
  if (!key) throw new Error(`demo: the embedded model '${DEFAULT_MODEL}' has no ${file}`);
  return EMBEDDED[key]!;
}

// tiny-pf's frozen InceptionV3: nsfwjs' files, served beside the page by the Vite plugin of
// nsfw-inception.ts (dev and build); fetched from there on the first model that needs them.
registerFrozenNetwork('nsfw-inception', () => new URL('nsfw-inception/model.json', document.baseURI).href);

/** Longest side a photo is worked on; larger photos are downscaled (anchors are exported in the file's own pixels). */
const MAX_SIDE = 1280;

interface Photo {
  name: string;
  url: string;
  kind: 'grey' | 'color';
}

// The bundled photos: the grey demo images of @disco/colorize (colorization inputs), then a few
// color photos (see photos/LICENSES.md).
const greyPhotos = import.meta.glob<string>('disco-assets/demo/grey/*.{jpg,png}', { query: '?url', import: 'default', eager: true });
const colorPhotos = import.meta.glob<string>('../photos/*.{jpg,png}', { query: '?url', import: 'default', eager: true });
const PHOTOS: Photo[] = [
  ...Object.entries(greyPhotos).map(([path, url]) => ({ name: baseName(path), url, kind: 'grey' as const })),
  ...Object.entries(colorPhotos).map(([path, url]) => ({ name: baseName(path), url, kind: 'color' as const })),
];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  status: $<HTMLParagraphElement>('status'),
  facts: $<HTMLParagraphElement>('facts'),
  file: $<HTMLInputElement>('file'),
  checkpoint: $<HTMLInputElement>('checkpoint'),
  drop: $<HTMLDivElement>('drop'),
  photos: $<HTMLUListElement>('photos'),
  editor: $<HTMLElement>('editor'),
  stage: $<HTMLDivElement>('stage'),
  result: $<HTMLCanvasElement>('result'),
  before: $<HTMLCanvasElement>('before'),
  split: $<HTMLDivElement>('split'),
  anchors: $<HTMLDivElement>('anchors'),
  compare: $<HTMLInputElement>('compare'),
  compareWith: $<HTMLSelectElement>('compare-with'),
  anchorInfo: $<HTMLParagraphElement>('anchor-info'),
  paletteBlock: $<HTMLDivElement>('palette-block'),
  palette: $<HTMLDivElement>('palette'),
  picker: $<HTMLInputElement>('picker'),
  remove: $<HTMLButtonElement>('remove'),
  add: $<HTMLButtonElement>('add'),
  download: $<HTMLButtonElement>('download'),
  reset: $<HTMLButtonElement>('reset'),
  exportBtn: $<HTMLButtonElement>('export'),
  importInput: $<HTMLInputElement>('import'),
  cli: $<HTMLElement>('cli'),
  diverseSection: $<HTMLElement>('diverse-section'),
  diverse: $<HTMLDivElement>('diverse'),
};

interface OpenImage {
  name: string;
  original: ImagePixels;
  grey: Uint8ClampedArray;
  /** Input-file pixels per working pixel. */
  scale: HintScale;
  /** The file itself: the download is composed at its full resolution. */
  blob: Blob;
  diverse: VariantResult[];
}

const state = {
  engine: null as DiscoEngine | null,
  backend: null as BackendInfo | null,
  /** The model's files: the embedded model folder, or a published checkpoint the user gave. */
  files: null as { kind: 'folder'; json: DiscoModelJson; weights: ArrayBuffer } | { kind: 'checkpoint'; name: string; bytes: Uint8Array } | null,
  image: null as OpenImage | null,
  base: 0 as 0 | 1 | 2,
  anchors: [] as HintAnchor[],
  selected: null as number | null,
  result: null as Uint8ClampedArray | null,
  renders: 0,
  rendering: false,
  pending: false,
  editStart: 0,
  /** Counts opened photos, so that a result computed for an earlier one is dropped. */
  generation: 0,
  /** The anchor whose color the free picker last set (its value is then left alone). */
  pickerAnchor: null as number | null,
};

// ---------------------------------------------------------------------------------------------
// Status and facts

function setStatus(text: string, kind: 'ok' | 'busy' | 'error' = 'ok'): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', kind === 'error');
  ui.status.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  document.body.dataset.state = kind === 'busy' ? 'busy' : kind === 'error' ? 'error' : state.image ? 'ready' : 'idle';
}

const facts: Record<string, string> = {};
function setFact(key: string, value: string, ms?: number): void {
  facts[key] = value;
  if (ms !== undefined) document.body.dataset[`${key}Ms`] = String(Math.round(ms));
  ui.facts.textContent = Object.values(facts).join(' · ');
}

const ms = (t: number) => (t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${Math.round(t)} ms`);

// ---------------------------------------------------------------------------------------------
// Backend and model

const WASM_PATHS = { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded } as const;

async function startBackend(choice: BackendChoice): Promise<BackendInfo> {
  const info = await selectBackend({ backend: choice, wasmPaths: WASM_PATHS, log: (line) => console.info(line) });
  state.backend = info;
  document.body.dataset.backend = info.name;
  // "webgl: software renderer only (ANGLE …)" → "webgl (software renderer only)".
  const reasons = info.skipped.map((s) => {
    const [name, ...rest] = s.split(': ');
    return `${name} (${rest.join(': ').replace(/\s*\(.*$/, '')})`;
  });
  const fell = reasons.length > 0 ? ` — fell back from ${reasons.join(', ')}` : '';
  setFact('backend', `backend ${info.name}${fell}`);
  ui.facts.title = info.skipped.join('\n');
  return info;
}

async function loadModel(): Promise<void> {
  const t0 = performance.now();
  if (!state.files) {
    const [json, weights] = await Promise.all([fetchOk(defaultModelUrl('disco-model.json')).then((r) => r.json() as Promise<DiscoModelJson>), fetchOk(defaultModelUrl('weights.bin')).then((r) => r.arrayBuffer())]);
    state.files = { kind: 'folder', json, weights };
    document.body.dataset.model = DEFAULT_MODEL;
  }
  state.engine?.dispose();
  state.engine = null;
  const files = state.files;
  if (files.kind === 'folder') await loadPretrainedFeatures(resolveStoredConfig(files.json.config));
  state.engine = files.kind === 'folder' ? DiscoEngine.fromFiles(files.json, files.weights) : DiscoEngine.fromCheckpoint(files.bytes, files.name);
  setFact('model', `model ${files.kind === 'folder' ? `${DEFAULT_MODEL}: ` : ''}${state.engine.describeModel()}`);
  setFact('load', `model loaded in ${ms(performance.now() - t0)}`, performance.now() - t0);
}

/** Whether a dropped or picked file is a PyTorch checkpoint rather than a photo (by name). */
const isCheckpointName = (name: string) => /\.(pth|pt|ckpt)(\.tar)?$|\.tar$/i.test(name);

/** Reads a file in chunks into one buffer, reporting progress (a checkpoint is ~172 MB). */
async function readWithProgress(f: File, label: string): Promise<Uint8Array> {
  const out = new Uint8Array(f.size);
  const reader = f.stream().getReader();
  let at = 0;
  let shown = -1;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out.set(value, at);
    at += value.length;
    const pct = Math.floor((100 * at) / Math.max(1, f.size));
    if (pct !== shown && pct % 5 === 0) {
      shown = pct;
      setStatus(`${label}: reading ${pct} % of ${(f.size / 2 ** 20).toFixed(0)} MB…`, 'busy');
    }
  }
  return out;
}

/**
 * Uses a published DISCO checkpoint (`torch.save`, the authors' released weights) as the model:
 * read, converted into the `paper` model, and the open photo colorized again with it.
 */
async function useCheckpoint(f: File): Promise<void> {
  const t0 = performance.now();
  const previous = state.files;
  try {
    await ready;
    const bytes = await readWithProgress(f, f.name);
    setStatus(`${f.name}: converting the weights (43 M parameters)…`, 'busy');
    await new Promise((r) => setTimeout(r, 0)); // let the status paint
    state.files = { kind: 'checkpoint', name: f.name, bytes };
    await loadModel();
    setStatus(`Using ${f.name}: the published DISCO model (${ms(performance.now() - t0)}).${state.image ? ' Colorizing the open photo again…' : ' Open a photo.'}`);
    if (state.image) {
      const img = state.image;
      await openPixels(img.original, img.scale, img.name, img.blob);
    }
  } catch (e) {
    state.files = previous;
    if (previous) await loadModel();
    setStatus(`Could not use ${f.name}: ${(e as Error).message}`, 'error');
  }
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`could not load ${url} (${r.status})`);
  return r;
}

/** The backends after `name` in the browser order, for a retry when a run fails on `name`. */
function laterBackends(name: BackendName): BackendName[] {
  const order = BROWSER_BACKEND_CHOICES.filter((c): c is BackendName => c !== 'auto');
  return order.slice(order.indexOf(name) + 1);
}

// ---------------------------------------------------------------------------------------------
// Opening a photo

/** The image's RGBA pixels drawn at `width × height`, transparent pixels over white (as the CLI's readImage does, alpha: 'white'). */
function drawOverWhite(bmp: ImageBitmap, width: number, height: number): Uint8ClampedArray {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bmp, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height).data;
}

async function decode(blob: Blob): Promise<{ pixels: ImagePixels; scale: HintScale }> {
  const bmp = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const f = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
  const width = Math.max(1, Math.round(bmp.width * f));
  const height = Math.max(1, Math.round(bmp.height * f));
  const rgba = drawOverWhite(bmp, width, height);
  const scale = { y: bmp.height / height, x: bmp.width / width };
  bmp.close();
  return { pixels: { width, height, rgba }, scale };
}

async function openBlob(blob: Blob, name: string): Promise<void> {
  try {
    await ready;
    const { pixels, scale } = await decode(blob);
    await openPixels(pixels, scale, name, blob);
  } catch (e) {
    setStatus(`Could not open ${name}: ${(e as Error).message}`, 'error');
  }
}

async function openPixels(pixels: ImagePixels, scale: HintScale, name: string, blob: Blob): Promise<void> {
  const t0 = performance.now();
  setStatus(`Colorizing ${name}…`, 'busy');
  try {
    let opened: { diverse: VariantResult[]; grey: Uint8ClampedArray } | null = null;
    for (;;) {
      try {
        opened = await state.engine!.open(pixels);
        break;
      } catch (e) {
        // A backend that initialised but cannot run the model (a missing kernel, lost context):
        // fall back to the next one, as at start-up.
        const next = laterBackends(state.backend!.name)[0];
        if (!next) throw e;
        console.warn(`DISCO on ${state.backend!.name} failed (${(e as Error).message}); retrying on ${next}`);
        await startBackend(next);
        await loadModel();
      }
    }
    state.generation++;
    state.image = { name, original: pixels, grey: opened.grey, scale, blob, diverse: opened.diverse };
    const firstMs = performance.now() - t0;
    useVariant(0, false);
    ui.editor.hidden = false;
    ui.diverseSection.hidden = false;
    drawDiverse();
    setFact('first', `first colorization ${ms(firstMs)}`, firstMs);
    const shrunk = scale.x !== 1 || scale.y !== 1 ? ` (worked on at ${pixels.width}×${pixels.height}; anchors export in the file's pixels)` : '';
    setStatus(`${name}: colorized in ${ms(firstMs)}${shrunk}. ${state.anchors.length} anchors.`);
    updateCli();
  } catch (e) {
    setStatus(`Could not colorize ${name}: ${(e as Error).message}`, 'error');
    console.error(e);
  }
}

async function openPhoto(p: Photo): Promise<void> {
  const r = await fetchOk(p.url);
  await openBlob(await r.blob(), p.name);
}

// ---------------------------------------------------------------------------------------------
// Drawing

function paint(canvas: HTMLCanvasElement, rgba: Uint8ClampedArray, width: number, height: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
}

function drawResult(): void {
  const img = state.image;
  if (!img || !state.result) return;
  paint(ui.result, state.result, img.original.width, img.original.height);
  drawBefore();
}

function drawBefore(): void {
  const img = state.image;
  if (!img) return;
  const src = ui.compareWith.value === 'grey' ? img.grey : img.original.rgba;
  paint(ui.before, src, img.original.width, img.original.height);
  const v = Number(ui.compare.value);
  ui.before.style.clipPath = `inset(0 ${100 - v}% 0 0)`;
  ui.split.style.display = v > 0 && v < 100 ? 'block' : 'none';
  ui.split.style.left = `${v}%`;
  ui.compare.setAttribute('aria-valuetext', `${v}% ${ui.compareWith.value === 'grey' ? 'grey input' : 'original'}, ${100 - v}% colorized`);
}

function drawDiverse(): void {
  const img = state.image;
  if (!img) return;
  ui.diverse.replaceChildren();
  const names = ['most probable colors', 'far from T = 0', 'far from T = 0 and 1'];
  for (const r of img.diverse) {
    const fig = document.createElement('figure');
    fig.classList.toggle('current', r.variant === state.base);
    const c = document.createElement('canvas');
    c.setAttribute('role', 'img');
    c.setAttribute('aria-label', `Result T = ${r.variant}`);
    paint(c, r.rgba, img.original.width, img.original.height);
    const cap = document.createElement('figcaption');
    cap.textContent = `T = ${r.variant}: ${names[r.variant]}`;
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `Edit from T = ${r.variant}`;
    b.setAttribute('aria-pressed', String(r.variant === state.base));
    b.dataset.variant = String(r.variant);
    b.addEventListener('click', () => {
      useVariant(r.variant, true);
      drawDiverse();
      setStatus(`Editing from T = ${r.variant}: ${state.anchors.length} anchors.`);
    });
    fig.append(c, cap, b);
    ui.diverse.append(fig);
  }
}

/** The lightness a marker or swatch is drawn at: the image's there, kept within 35–85 so that it stays visible. */
function shownLightness(lightness: number): number {
  return Math.min(85, Math.max(35, lightness));
}

function hexOf(ab: readonly [number, number], lightness: number): string {
  const [rgb] = state.engine!.labToRgbBytes([[lightness, ab[0], ab[1]]]);
  return `#${rgb!.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

function describeAnchor(i: number): string {
  const a = state.anchors[i]!;
  const [r, c] = state.engine!.tokenOf(a.row, a.col);
  return `Anchor ${i + 1}: row ${Math.round(a.row)}, column ${Math.round(a.col)} (superpixel ${r}, ${c}); color a ${fmt(a.ab[0])}, b ${fmt(a.ab[1])}`;
}

/** Brings the anchor buttons in line with the state (reusing elements keeps keyboard focus). */
function drawAnchors(): void {
  const img = state.image;
  if (!img) return;
  const buttons = Array.from(ui.anchors.children) as HTMLButtonElement[];
  for (let i = buttons.length; i < state.anchors.length; i++) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'anchor';
    ui.anchors.append(b);
    buttons.push(b);
  }
  for (let i = state.anchors.length; i < buttons.length; i++) buttons[i]!.remove();
  const colors = state.engine!.labToRgbBytes(state.anchors.map((a) => [shownLightness(state.engine!.lightnessAt(a.row, a.col)), a.ab[0], a.ab[1]] as const));
  state.anchors.forEach((a, i) => {
    const b = buttons[i]!;
    b.dataset.index = String(i);
    b.dataset.row = String(a.row);
    b.dataset.col = String(a.col);
    b.style.left = `${(a.col / img.original.width) * 100}%`;
    b.style.top = `${(a.row / img.original.height) * 100}%`;
    b.style.background = `rgb(${colors[i]!.join(', ')})`;
    b.setAttribute('aria-label', describeAnchor(i));
    b.setAttribute('aria-pressed', String(state.selected === i));
  });
  drawPanel();
}

function drawPanel(): void {
  const i = state.selected;
  ui.remove.disabled = i == null;
  if (i == null || !state.anchors[i]) {
    ui.anchorInfo.textContent = state.anchors.length === 0 ? 'No anchors: the model places its own (as the CLI does for an empty list). Click the image to add one.' : 'None selected — click an anchor, or the image to add one.';
    ui.paletteBlock.hidden = true;
    return;
  }
  const a = state.anchors[i]!;
  ui.anchorInfo.textContent = describeAnchor(i);
  ui.paletteBlock.hidden = false;
  const L = state.engine!.lightnessAt(a.row, a.col);
  const entries = state.engine!.palette(a.row, a.col);
  const swatches = state.engine!.labToRgbBytes(entries.map((p) => [shownLightness(L), p.ab[0], p.ab[1]] as const));
  ui.palette.replaceChildren(
    ...entries.map((p, k) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'swatch';
      b.style.background = `rgb(${swatches[k]!.join(', ')})`;
      const pct = `${(p.probability * 100).toFixed(p.probability < 0.1 ? 1 : 0)}%`;
      const label = document.createElement('span');
      label.textContent = pct;
      b.append(label);
      b.setAttribute('aria-label', `Color ${k + 1}: a ${fmt(p.ab[0])}, b ${fmt(p.ab[1])}, probability ${pct}`);
      b.setAttribute('aria-pressed', String(Math.hypot(p.ab[0] - a.ab[0], p.ab[1] - a.ab[1]) < 1e-6));
      b.addEventListener('click', () => edit(() => (state.anchors[i]!.ab = [p.ab[0], p.ab[1]]), `Anchor ${i + 1} recolored from the palette.`));
      return b;
    }),
  );
  // The picker shows the anchor's color at the image's lightness there, except while it is the
  // source of the edit (rewriting it then would fight the user's own choice).
  if (state.pickerAnchor !== i) ui.picker.value = hexOf(a.ab, L);
}

// ---------------------------------------------------------------------------------------------
// Editing

function useVariant(v: 0 | 1 | 2, announce: boolean): void {
  const img = state.image!;
  const r = img.diverse[v]!;
  state.base = v;
  state.anchors = r.anchors.map((a) => ({ row: a.row, col: a.col, ab: [a.ab[0], a.ab[1]] }));
  state.selected = null;
  state.result = r.rgba;
  state.renders++;
  document.body.dataset.renders = String(state.renders);
  drawResult();
  drawAnchors();
  if (announce) updateCli();
}

/** Applies a change to the anchors, then recolorizes (coalescing edits made while a run is going). */
function edit(change: () => void, message: string, fromPicker = false): void {
  if (!state.image) return;
  change();
  state.pickerAnchor = fromPicker ? state.selected : null;
  state.editStart = performance.now();
  drawAnchors();
  setStatus(message, 'busy');
  void rerender(message);
}

async function rerender(message: string): Promise<void> {
  if (state.rendering) {
    state.pending = true;
    return;
  }
  state.rendering = true;
  try {
    do {
      state.pending = false;
      const t0 = performance.now();
      const generation = state.generation;
      const rgba = await state.engine!.render(state.anchors);
      // A photo opened meanwhile: this result belongs to the previous one.
      if (generation !== state.generation) continue;
      state.result = rgba;
      drawResult();
      const runMs = performance.now() - t0;
      const editMs = performance.now() - state.editStart;
      state.renders++;
      document.body.dataset.renders = String(state.renders);
      document.body.dataset.tensors = String(tf.memory().numTensors);
      setFact('edit', `last edit → result ${ms(editMs)} (model ${ms(runMs)})`, editMs);
    } while (state.pending);
    setStatus(message);
  } catch (e) {
    setStatus(`Recolorizing failed: ${(e as Error).message}`, 'error');
    console.error(e);
  } finally {
    state.rendering = false;
  }
}

function select(i: number | null): void {
  state.selected = i;
  state.pickerAnchor = null;
  drawAnchors();
}

/** Image pixel under a pointer event, clamped inside the image. */
function pixelAt(e: PointerEvent): { row: number; col: number } {
  const img = state.image!;
  const r = ui.anchors.getBoundingClientRect();
  const col = Math.floor(((e.clientX - r.left) / r.width) * img.original.width);
  const row = Math.floor(((e.clientY - r.top) / r.height) * img.original.height);
  return { row: Math.min(img.original.height - 1, Math.max(0, row)), col: Math.min(img.original.width - 1, Math.max(0, col)) };
}

function addAnchor(row: number, col: number): void {
  // A new anchor starts with the modeler's most probable color at its superpixel.
  const top = state.engine!.palette(row, col)[0];
  edit(() => {
    state.anchors.push({ row, col, ab: top ? [top.ab[0], top.ab[1]] : [0, 0] });
    state.selected = state.anchors.length - 1;
  }, `Anchor ${state.anchors.length + 1} added.`);
  focusAnchor(state.anchors.length - 1);
}

function removeAnchor(i: number): void {
  edit(() => {
    state.anchors.splice(i, 1);
    state.selected = null;
  }, `Anchor ${i + 1} removed; ${state.anchors.length - 1} left.`);
  if (state.anchors.length > 0) focusAnchor(Math.min(i, state.anchors.length - 1));
  else ui.add.focus();
}

function focusAnchor(i: number): void {
  (ui.anchors.children[i] as HTMLButtonElement | undefined)?.focus();
}

let drag: { index: number; pointerId: number; x: number; y: number; moved: boolean } | null = null;
let pendingAdd: { pointerId: number; x: number; y: number } | null = null;

ui.anchors.addEventListener('pointerdown', (e) => {
  if (!state.image || e.button !== 0) return;
  const target = (e.target as HTMLElement).closest<HTMLButtonElement>('.anchor');
  if (target) {
    e.preventDefault();
    target.focus();
    target.setPointerCapture(e.pointerId);
    drag = { index: Number(target.dataset.index), pointerId: e.pointerId, x: e.clientX, y: e.clientY, moved: false };
    target.classList.add('dragging');
  } else {
    pendingAdd = { pointerId: e.pointerId, x: e.clientX, y: e.clientY };
  }
});

ui.anchors.addEventListener('pointermove', (e) => {
  if (!drag || e.pointerId !== drag.pointerId) return;
  if (!drag.moved && Math.hypot(e.clientX - drag.x, e.clientY - drag.y) < 4) return;
  drag.moved = true;
  const p = pixelAt(e);
  const a = state.anchors[drag.index]!;
  a.row = p.row;
  a.col = p.col;
  state.selected = drag.index;
  drawAnchors();
});

function endDrag(e: PointerEvent): void {
  if (drag && e.pointerId === drag.pointerId) {
    const { index, moved } = drag;
    (ui.anchors.children[index] as HTMLElement | undefined)?.classList.remove('dragging');
    drag = null;
    if (moved && e.type === 'pointerup') edit(() => (state.selected = index), `Anchor ${index + 1} moved.`);
    else select(index);
    return;
  }
  if (pendingAdd && e.pointerId === pendingAdd.pointerId) {
    const near = Math.hypot(e.clientX - pendingAdd.x, e.clientY - pendingAdd.y) < 6;
    pendingAdd = null;
    if (near && e.type === 'pointerup') {
      const p = pixelAt(e);
      addAnchor(p.row, p.col);
    }
  }
}
// Enter or Space on a focused anchor (a click with no pointer) selects it.
ui.anchors.addEventListener('click', (e) => {
  const target = (e.target as HTMLElement).closest<HTMLButtonElement>('.anchor');
  if (target && e.detail === 0) select(Number(target.dataset.index));
});
ui.anchors.addEventListener('pointerup', endDrag);
ui.anchors.addEventListener('pointercancel', endDrag);

ui.anchors.addEventListener('keydown', (e) => {
  const target = (e.target as HTMLElement).closest<HTMLButtonElement>('.anchor');
  if (!target || !state.image) return;
  const i = Number(target.dataset.index);
  const img = state.image.original;
  const size = state.engine!.model.config.imageSize;
  const S = state.engine!.model.config.cellSize;
  // Shift moves by one superpixel of the model grid, else by a quarter of one.
  const cellY = (S * img.height) / size;
  const cellX = (S * img.width) / size;
  const k = e.shiftKey ? 1 : 0.25;
  const moves: Record<string, [number, number]> = { ArrowUp: [-cellY * k, 0], ArrowDown: [cellY * k, 0], ArrowLeft: [0, -cellX * k], ArrowRight: [0, cellX * k] };
  const m = moves[e.key];
  if (m) {
    e.preventDefault();
    edit(() => {
      const a = state.anchors[i]!;
      a.row = Math.min(img.height - 1, Math.max(0, Math.round(a.row + m[0])));
      a.col = Math.min(img.width - 1, Math.max(0, Math.round(a.col + m[1])));
      state.selected = i;
    }, `Anchor ${i + 1} moved.`);
  } else if (e.key === 'Delete' || e.key === 'Backspace') {
    e.preventDefault();
    removeAnchor(i);
  } else if (e.key === 'Escape') {
    select(null);
  }
});

// ---------------------------------------------------------------------------------------------
// Panel, compare, files

ui.picker.addEventListener('input', () => {
  const i = state.selected;
  if (i == null) return;
  const hex = ui.picker.value;
  const ab = state.engine!.abOfRgbBytes(parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16));
  edit(() => (state.anchors[i]!.ab = ab), `Anchor ${i + 1} set to ${hex}.`, true);
});
ui.remove.addEventListener('click', () => state.selected != null && removeAnchor(state.selected));
ui.add.addEventListener('click', () => {
  const img = state.image?.original;
  if (img) addAnchor(Math.floor(img.height / 2), Math.floor(img.width / 2));
});
ui.compare.addEventListener('input', drawBefore);
ui.compareWith.addEventListener('change', drawBefore);

ui.reset.addEventListener('click', () => {
  if (!state.image) return;
  useVariant(state.base, true);
  setStatus(`Anchors reset to the model's own (T = ${state.base}).`);
});

function stem(): string {
  return (state.image?.name ?? 'photo').replace(/\.[^.]+$/, '');
}

function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The file's own pixels, 8-bit RGB at full resolution (alpha over white, as {@link decode}). */
async function fullRgb(blob: Blob): Promise<{ data: Uint8Array; width: number; height: number }> {
  const bmp = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const { width, height } = bmp;
  const rgba = drawOverWhite(bmp, width, height);
  bmp.close();
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgba.length; i += 3, j += 4) {
    data[i] = rgba[j]!;
    data[i + 1] = rgba[j + 1]!;
    data[i + 2] = rgba[j + 2]!;
  }
  return { data, width, height };
}

/**
 * The download: the result at the file's full resolution. A photo worked on smaller (longer side
 * above MAX_SIDE) gets the model's ab upsampled onto its own full-resolution L, as the CLI does.
 */
async function downloadResult(): Promise<void> {
  const img = state.image;
  if (!img) return;
  const name = `${stem()}_disco.png`;
  if (img.scale.x === 1 && img.scale.y === 1) {
    ui.result.toBlob((b) => b && save(b, name), 'image/png');
    return;
  }
  setStatus(`Composing ${name} at full resolution…`, 'busy');
  try {
    const full = await fullRgb(img.blob);
    const rgb = state.engine!.renderFull(full, state.anchors);
    const rgba = new Uint8ClampedArray(full.width * full.height * 4);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgba[j] = rgb[i]!;
      rgba[j + 1] = rgb[i + 1]!;
      rgba[j + 2] = rgb[i + 2]!;
      rgba[j + 3] = 255;
    }
    const canvas = document.createElement('canvas');
    canvas.width = full.width;
    canvas.height = full.height;
    canvas.getContext('2d')!.putImageData(new ImageData(rgba, full.width, full.height), 0, 0);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('the browser could not encode the PNG');
    save(blob, name);
    setStatus(`${name}: ${full.width}×${full.height}, the file's full resolution.`);
  } catch (e) {
    setStatus(`Could not compose the full-resolution download: ${(e as Error).message}`, 'error');
    console.error(e);
  }
}

ui.download.addEventListener('click', () => void downloadResult());

function anchorsFileName(): string {
  return `${stem()}_anchors.json`;
}

function updateCli(): void {
  const name = state.image?.name ?? 'photo.png';
  ui.cli.textContent = `npx disco colorize ${name} -o out --anchors-file ${anchorsFileName()}`;
}

ui.exportBtn.addEventListener('click', () => {
  const img = state.image;
  if (!img) return;
  save(new Blob([hintsJson(img.name, state.anchors, img.scale)], { type: 'application/json' }), anchorsFileName());
  updateCli();
  setStatus(`Exported ${state.anchors.length} anchors as ${anchorsFileName()}.`);
});

ui.importInput.addEventListener('change', async () => {
  const f = ui.importInput.files?.[0];
  ui.importInput.value = '';
  const img = state.image;
  if (!f || !img) return;
  try {
    const { key, anchors } = parseHints(await f.text(), img.name, img.scale);
    const H = img.original.height;
    const W = img.original.width;
    const outside = anchors.findIndex((a) => a.row < 0 || a.col < 0 || a.row >= H || a.col >= W);
    if (outside >= 0) throw new Error(`anchor ${outside + 1} lies outside the ${W}×${H} image`);
    edit(() => {
      state.anchors = anchors;
      state.selected = null;
    }, `Imported ${anchors.length} anchors from '${key}' of ${f.name}.`);
  } catch (e) {
    setStatus(`Could not import ${f.name}: ${(e as Error).message}`, 'error');
  }
});

ui.file.addEventListener('change', () => {
  const f = ui.file.files?.[0];
  if (f) void (isCheckpointName(f.name) ? useCheckpoint(f) : openBlob(f, f.name));
});

ui.checkpoint.addEventListener('change', () => {
  const f = ui.checkpoint.files?.[0];
  ui.checkpoint.value = '';
  if (f) void useCheckpoint(f);
});

for (const ev of ['dragenter', 'dragover'] as const) {
  ui.drop.addEventListener(ev, (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
}
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void (isCheckpointName(f.name) ? useCheckpoint(f) : openBlob(f, f.name));
});

for (const p of PHOTOS) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.setAttribute('aria-label', `Open ${p.name} (${p.kind === 'grey' ? 'grey photo' : 'color photo'})`);
  const im = document.createElement('img');
  im.src = p.url;
  im.alt = '';
  im.width = 64;
  im.height = 64;
  const cap = document.createElement('span');
  cap.textContent = p.name.replace(/\.[^.]+$/, '');
  b.append(im, cap);
  b.addEventListener('click', () => void openPhoto(p));
  li.append(b);
  ui.photos.append(li);
}

// ---------------------------------------------------------------------------------------------
// Start-up

const params = new URLSearchParams(location.search);

async function start(): Promise<void> {
  const requested = params.get('backend') ?? 'auto';
  if (!BROWSER_BACKEND_CHOICES.includes(requested as BackendChoice)) throw new Error(`unknown backend '${requested}'; valid: ${BROWSER_BACKEND_CHOICES.join(', ')}`);
  await startBackend(requested as BackendChoice);
  await loadModel();
}

const ready = start();
ready.then(
  () => {
    setStatus('Ready: open a photo.');
    if (params.get('demo') === '1' && PHOTOS[0]) void openPhoto(PHOTOS[0]);
  },
  (e: unknown) => {
    setStatus(`Could not start: ${(e as Error).message}`, 'error');
    console.error(e);
  },
);
