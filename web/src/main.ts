// The page: starts the machine worker, wires the console, the controls and the
// live panel to it. No guest code runs here; this thread only draws and relays.

import * as Comlink from 'comlink';
import guests from 'virtual:emu-guests';
import type { GuestEntry } from '../guest-images';
import { discardKept, keepImage, listKept, loadKept } from './disk-store.js';
import { JitView } from './jit-view.js';
import { LivePanel } from './panel.js';
import { MMU_MODELS, parseMmuModel, type MmuModelName } from '../../mmu/model.js';
import type { BackendId, BackendInfo, BootRequest, ImageBytes, MachineEvent, MachineWorker, Sample } from './protocol.js';
import './style.css';
import { createConsole } from './terminal.js';

const SAMPLE_MS = 1000;
const PROMPT_TAIL = 64;
/** The guest selector's value while an image from the user's disk runs. */
const FROM_DISK = '__disk';

function $<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing from index.html`);
  return e as T;
}

const ui = {
  guest: $<HTMLSelectElement>('guest'),
  open: $<HTMLButtonElement>('open'),
  pause: $<HTMLButtonElement>('pause'),
  reset: $<HTMLButtonElement>('reset'),
  snapSave: $<HTMLButtonElement>('snap-save'),
  snapLoad: $<HTMLButtonElement>('snap-load'),
  fSnapshot: $<HTMLInputElement>('f-snapshot'),
  backend: $<HTMLSelectElement>('backend'),
  mmu: $<HTMLSelectElement>('mmu'),
  status: $<HTMLElement>('status'),
  statusText: $<HTMLElement>('status-text'),
  guestName: $<HTMLElement>('guest-name'),
  dialog: $<HTMLDialogElement>('open-dialog'),
  form: $<HTMLFormElement>('open-form'),
  fKernel: $<HTMLInputElement>('f-kernel'),
  fInitrd: $<HTMLInputElement>('f-initrd'),
  fDisk: $<HTMLInputElement>('f-disk'),
  fDiskIf: $<HTMLSelectElement>('f-disk-if'),
  fDiskKeep: $<HTMLInputElement>('f-disk-keep'),
  fDiskKept: $<HTMLSelectElement>('f-disk-kept'),
  fDiskDiscard: $<HTMLButtonElement>('f-disk-discard'),
  fCmdline: $<HTMLInputElement>('f-cmdline'),
  fMemory: $<HTMLInputElement>('f-memory'),
};

const machineWorker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const worker = Comlink.wrap<MachineWorker>(machineWorker);

// ---- What tests and the benchmark read (window.__emu).

/** When the current guest's prompt first appeared (performance.now() ms), or null. */
let promptAt: number | null = null;
let expectedPrompt: string | null = null;
let tail = '';
const decoder = new TextDecoder();

const terminal = createConsole($('terminal'), (bytes) => { void worker.input(bytes); });
const panel = new LivePanel();
const jitView = new JitView(worker, $);

function onSerial(bytes: Uint8Array): void {
  terminal.write(bytes);
  if (expectedPrompt && promptAt === null) {
    tail = (tail + decoder.decode(bytes, { stream: true })).slice(-PROMPT_TAIL);
    if (tail.includes(expectedPrompt)) promptAt = performance.now();
  }
}

type UiState = Sample['state'] | 'error' | 'loading';
let uiState: UiState = 'idle';

function setState(state: UiState, text?: string): void {
  uiState = state;
  ui.status.dataset.state = state;
  ui.statusText.textContent = text ?? state;
  const live = state === 'running' || state === 'paused';
  ui.pause.disabled = !live;
  ui.pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
  ui.reset.disabled = !(live || state === 'stopped');
  ui.backend.disabled = !live;
  ui.snapSave.disabled = !live;
}

function onEvent(e: MachineEvent): void {
  if (e.kind === 'message') terminal.note(e.text);
  else if (e.kind === 'exit') {
    // A guest that powers off through isa-debug-exit chose its status; that is not an error.
    const clean = e.status === 0 || e.reason.startsWith('isa-debug-exit');
    terminal.note(`emu: the machine powered off (status ${e.status}): ${e.reason}`, clean ? 'info' : 'warn');
    setState('stopped', 'powered off');
  } else {
    terminal.note(e.text, 'error');
    setState('error', 'error');
  }
}

// ---- Booting.

let backends: BackendInfo[] = [];

/** The backend the user picked in the selector; kept across guest changes. */
let chosenBackend: BackendId | null = null;

function preferredBackend(): BackendId {
  const asked = chosenBackend ?? new URLSearchParams(location.search).get('accel');
  const ok = (n: string | null): n is BackendId => backends.some((b) => b.name === n && b.available);
  if (ok(asked)) return asked;
  return ok('jit') ? 'jit' : 'interp';
}

/** The memory model: ?mmu= (direct, shadow, nested, nested-2m) until the selector picks another. */
let chosenMmu: MmuModelName = 'direct';

function readMmuQuery(): void {
  const asked = new URLSearchParams(location.search).get('mmu');
  if (asked === null) return;
  const m = parseMmuModel(asked);
  if (m === null) terminal.note(`emu: ?mmu=${asked}: unknown memory model; choose ${MMU_MODELS.join(', ')} (running with direct)`, 'warn');
  else chosenMmu = m;
}

/** The last boot request (without backend and model), booted again when the memory model changes. */
let lastRequest: { req: Omit<BootRequest, 'accel' | 'mmu'>; prompt: string | null; about: string } | null = null;

async function fetchImage(name: string, url: string): Promise<ImageBytes> {
  const res = await fetch(new URL(url, document.baseURI));
  if (!res.ok) throw new Error(`${name}: could not load it (HTTP ${res.status}); rebuild the guest and reload`);
  return { name, bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function fileImage(file: File): Promise<ImageBytes> {
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

async function boot(req: Omit<BootRequest, 'accel' | 'mmu'>, prompt: string | null, about = ''): Promise<void> {
  lastRequest = { req, prompt, about };
  setState('loading', `booting ${req.label}`);
  ui.guestName.textContent = about ? `${req.label} · ${about}` : req.label;
  expectedPrompt = prompt;
  promptAt = null;
  tail = '';
  terminal.clear();
  panel.restart();
  panel.setMachine(req.label, req.memoryMiB);
  const full: BootRequest = { ...req, accel: preferredBackend(), mmu: chosenMmu };
  ui.backend.value = full.accel;
  ui.mmu.value = full.mmu;
  try {
    // Copies, not transfers: the images stay here to boot again under another memory model.
    await worker.boot(full);
    setState('running');
  } catch (e) {
    terminal.note(`emu: ${(e as Error).message}`, 'error');
    setState('error', 'cannot boot');
  }
  terminal.term.focus();
}

async function bootGuest(g: GuestEntry): Promise<void> {
  try {
    setState('loading', `loading ${g.label}`);
    const kernel = await fetchImage(g.kernel.name, g.kernel.url);
    const initrd = g.initrd ? await fetchImage(g.initrd.name, g.initrd.url) : undefined;
    await boot({ label: g.label, kernel, initrd, cmdline: g.cmdline, memoryMiB: g.memoryMiB }, g.prompt ?? null, g.description);
  } catch (e) {
    terminal.note(`emu: ${(e as Error).message}`, 'error');
    setState('error', 'cannot boot');
  }
}

// ---- Controls.

function fillGuests(): void {
  for (const g of guests) {
    const o = new Option(g.label, g.id);
    o.title = g.description;
    ui.guest.add(o);
  }
  if (guests.length === 0) ui.guest.add(new Option('no guest images built', ''));
  const fromDisk = new Option('image from disk', FROM_DISK);
  fromDisk.hidden = true;
  ui.guest.add(fromDisk);
  ui.guest.disabled = guests.length === 0;
}

function fillBackends(): void {
  ui.backend.replaceChildren();
  const labels: Record<BackendId, string> = { interp: 'interpreter', jit: 'JIT', kvm: 'KVM' };
  for (const b of backends) {
    const o = new Option(b.available ? labels[b.name] : `${labels[b.name]} (unavailable)`, b.name);
    o.disabled = !b.available;
    if (b.why) o.title = b.why;
    ui.backend.add(o);
  }
}

ui.guest.addEventListener('change', () => {
  const g = guests.find((x) => x.id === ui.guest.value);
  if (g) void bootGuest(g);
});

ui.pause.addEventListener('click', async () => {
  if (uiState === 'paused') { await worker.resume(); setState('running'); }
  else { await worker.pause(); setState('paused'); }
  terminal.term.focus();
});

ui.reset.addEventListener('click', async () => {
  promptAt = null;
  tail = '';
  await worker.reset();
  setState('running');
  terminal.term.focus();
});

ui.backend.addEventListener('change', async () => {
  const err = await worker.setBackend(ui.backend.value as BackendId);
  if (err) terminal.note(`emu: ${err}`, 'warn');
  else chosenBackend = ui.backend.value as BackendId;
  await refresh();
  terminal.term.focus();
});

// ---- Snapshots: the same file format as the CLI's (machine/snapshot-format.ts).

ui.snapSave.addEventListener('click', async () => {
  try {
    const bytes = await worker.saveSnapshot();
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${(ui.guestName.textContent ?? 'emu').split(' ')[0] || 'emu'}.emusnap`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    terminal.note(`emu: saved a snapshot (${(bytes.length / 1048576).toFixed(1)} MiB); resume it here or with emu -incoming file:${a.download}`);
  } catch (e) {
    terminal.note(`emu: could not save a snapshot: ${(e as Error).message}`, 'error');
  }
  terminal.term.focus();
});

ui.snapLoad.addEventListener('click', () => ui.fSnapshot.click());
ui.fSnapshot.addEventListener('change', async () => {
  const file = ui.fSnapshot.files?.[0];
  ui.fSnapshot.value = '';
  if (!file) return;
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const r = await worker.loadSnapshot(Comlink.transfer(bytes, [bytes.buffer]));
    panel.restart();
    terminal.note(`emu: resumed ${file.name} (${r.memoryMiB} MiB of RAM, ${r.paused ? 'paused' : 'running'})`);
    setState(r.paused ? 'paused' : 'running');
  } catch (e) {
    terminal.note(`emu: cannot load ${file.name}: ${(e as Error).message}`, 'error');
  }
  terminal.term.focus();
});

ui.mmu.addEventListener('change', async () => {
  const m = parseMmuModel(ui.mmu.value);
  if (m === null || !lastRequest) return;
  chosenMmu = m;
  const { req, prompt, about } = lastRequest;
  // A kept disk boots again as last saved, not as it was attached.
  const disk = req.disk?.keep ? { ...req.disk, bytes: (await loadKept(req.disk.keep)).bytes } : req.disk;
  void boot({ ...req, disk }, prompt, about);
});

// ---- Disks kept in this browser (disk-store.ts).

async function fillKept(select = ''): Promise<void> {
  ui.fDiskKept.replaceChildren(new Option('none', ''));
  try {
    for (const k of await listKept()) {
      ui.fDiskKept.add(new Option(`${k.key} (${(k.size / 1024).toFixed(0)} KiB, ${k.interface}, saved ${new Date(k.savedAt).toLocaleString()})`, k.key));
    }
  } catch (e) {
    terminal.note(`emu: cannot list the disks kept in this browser: ${(e as Error).message}`, 'warn');
  }
  ui.fDiskKept.value = select;
  ui.fDiskDiscard.disabled = ui.fDiskKept.value === '';
}

// One disk: a kept one or a file. (autocomplete=off on the form: Chromium would otherwise restore a reloaded page's file choice.)
ui.fDiskKept.addEventListener('change', () => {
  ui.fDiskDiscard.disabled = ui.fDiskKept.value === '';
  if (ui.fDiskKept.value) ui.fDisk.value = '';
});
ui.fDisk.addEventListener('change', () => { if (ui.fDisk.files?.length) { ui.fDiskKept.value = ''; ui.fDiskDiscard.disabled = true; } });
ui.fDiskDiscard.addEventListener('click', async () => {
  const key = ui.fDiskKept.value;
  if (!key) return;
  await discardKept(key);
  terminal.note(`emu: discarded the kept disk ${key}`);
  await fillKept();
});

/** The disk the dialog asks for: a chosen file (stored first when "keep" is on), or a kept one. */
async function dialogDisk(): Promise<BootRequest['disk']> {
  const file = ui.fDisk.files?.[0];
  const iface = ui.fDiskIf.value === 'ide' ? 'ide' as const : 'virtio' as const;
  if (file) {
    const image = await fileImage(file);
    if (!ui.fDiskKeep.checked) return { ...image, interface: iface };
    await keepImage({ key: file.name, size: image.bytes.length, interface: iface }, image.bytes);
    terminal.note(`emu: ${file.name} is kept in this browser; what the guest flushes survives a reload (Open image… > Discard forgets it)`);
    return { ...image, interface: iface, keep: file.name };
  }
  const key = ui.fDiskKept.value;
  if (!key) return undefined;
  const { info, bytes } = await loadKept(key);
  return { name: key, bytes, interface: info.interface, keep: key };
}

ui.open.addEventListener('click', () => {
  void fillKept(ui.fDiskKept.value);
  ui.dialog.showModal();
});
ui.form.addEventListener('submit', (ev) => {
  const submitter = (ev as SubmitEvent).submitter as HTMLButtonElement | null;
  if (submitter?.value !== 'boot') return;
  const kernelFile = ui.fKernel.files?.[0];
  if (!kernelFile) return;
  const initrdFile = ui.fInitrd.files?.[0];
  const memoryMiB = Math.max(2, Math.min(3072, Number(ui.fMemory.value) || 256));
  void (async () => {
    const kernel = await fileImage(kernelFile);
    const initrd = initrdFile ? await fileImage(initrdFile) : undefined;
    let disk: BootRequest['disk'];
    try {
      disk = await dialogDisk();
    } catch (e) {
      terminal.note(`emu: cannot attach the disk: ${(e as Error).message}`, 'error');
      return;
    }
    ui.guest.value = FROM_DISK;
    await boot({ label: kernelFile.name, kernel, initrd, disk, cmdline: ui.fCmdline.value.trim() || undefined, memoryMiB }, null, 'from your disk');
  })();
});

// ---- The live panel, about once a second.

async function refresh(): Promise<void> {
  const s = await worker.sample();
  panel.update(s);
  await jitView.refresh();
  if (s.backend !== ui.backend.value) ui.backend.value = s.backend;
  if (uiState === 'running' || uiState === 'paused') {
    if (s.state === 'stopped') setState('stopped', 'powered off');
    else setState(s.state, s.state === 'running' ? `running on ${s.backend}` : s.state);
  }
}

// ---- Start.

async function start(): Promise<void> {
  window.addEventListener('error', (e) => terminal.note(`emu (page): ${e.message}`, 'error'));
  // The worker failed to load or died (a syntax error in a stale build, out of memory): say so.
  machineWorker.addEventListener('error', (e) => {
    terminal.note(`emu: the machine worker stopped: ${e.message || 'it could not be loaded'}; reload the page`, 'error');
    setState('error', 'worker stopped');
  });
  await worker.connect(Comlink.proxy(onSerial), Comlink.proxy(onEvent));
  backends = await worker.backends();
  fillGuests();
  fillBackends();
  for (const m of MMU_MODELS) ui.mmu.add(new Option(m, m));
  readMmuQuery();
  ui.mmu.value = chosenMmu;
  setInterval(() => { void refresh(); }, SAMPLE_MS);

  const asked = new URLSearchParams(location.search).get('guest');
  const first = guests.find((g) => g.id === asked) ?? guests.find((g) => g.id === 'tinyos') ?? guests[0];
  if (!first) {
    terminal.note('emu: no guest image is built in this checkout.', 'warn');
    terminal.note('Build tinyos (npm run build:guests) and reload, or boot your own kernel with "Open image…".');
    setState('idle', 'no guest');
    return;
  }
  ui.guest.value = first.id;
  await bootGuest(first);
}

declare global {
  interface Window {
    __emu: { screen(): string; promptAt(): number | null; ips(): number; state(): string; keptText(key: string, bytes: number): Promise<string> };
  }
}
window.__emu = {
  screen: () => terminal.text(),
  promptAt: () => promptAt,
  ips: () => panel.ips,
  state: () => uiState,
  /** The first bytes of a kept disk as stored in IndexedDB, as Latin-1 text. */
  keptText: async (key, bytes) => String.fromCharCode(...(await loadKept(key)).bytes.subarray(0, bytes)),
};

void start();
