// Live migration: pre-copy rounds of RAM while the guest runs, with the pages it
// writes in the meantime found through GuestMemory.dirtyPages (watched pages
// take the TLB's write slow path, as code pages do, and the memory write path
// marks them; KVM logs its own through Backend.dirtyLog: KVM_GET_DIRTY_LOG), then
// stop-and-copy of what is left with the devices and CPU once it fits the downtime
// limit. Platform-neutral: the transport is a ByteChannel.
//
// Stream: messages of u8 type, u32 length, payload.
//   H  hello: f64 RAM bytes, u32 vCPUs, u32 version
//   R  RAM batch: u32 count, then per page u32 index, u8 kind (0 zero, 1 data), 4096 bytes if data
//   S  -snapshot overlay sectors, in rounds beside RAM's (migrate-disks.ts)
//   D  the rest: snapshot sections (run state, CPU records, devices) without RAM
// The destination answers one message: K (loaded, the source may stop for good)
// or F with a one-line reason (the source carries on).

import { SECTOR_SIZE } from '../devices/block.js';
import { DIRTY_WATCHED, DIRTY_WRITTEN } from '../mmu/memory.js';
import type { Machine, MachineRunState } from './machine.js';
import { MSG_DISK, OverlayReceiver, OverlaySender, mergeWork, sectorCount, type DiskWork } from './migrate-disks.js';
import { applySections, machineSections, PAGE_SIZE } from './snapshot.js';
import { concat, packSections, SnapshotError, SNAPSHOT_VERSION, unpackSections } from './snapshot-format.js';

export interface ByteChannel {
  /** Resolves once the bytes are handed to the transport (its back-pressure applied). */
  write(bytes: Uint8Array): Promise<void>;
  /** The next bytes, or null at the end of the stream. */
  read(): Promise<Uint8Array | null>;
  close(): void;
}

export interface MigrationParams {
  /** Longest the guest may stay stopped for the last copy (QEMU's downtime-limit, ms). */
  downtimeLimitMs: number;
  /** Bytes per second, 0 for no limit (QEMU's max-bandwidth). */
  maxBandwidth: number;
}

export interface MigrationStats {
  status: 'none' | 'setup' | 'active' | 'cancelling' | 'completed' | 'failed' | 'cancelled';
  startedAt: number;
  totalTimeMs: number;
  downtimeMs: number;
  /** Guest RAM bytes, bytes sent so far, and what the last dirty-log read left to send. */
  total: number;
  transferred: number;
  remaining: number;
  /** Pages sent with their contents, and pages sent as "all zero". */
  normalPages: number;
  zeroPages: number;
  /** Pre-copy rounds, including the final stop-and-copy (QEMU's dirty-sync-count). */
  rounds: number;
  /** Pages written per second during the last round. */
  dirtyRate: number;
  /** Pages sent in the stop-and-copy. */
  finalPages: number;
  /** -snapshot overlay sectors sent (or received), and their bytes on the wire. */
  diskSectors: number;
  diskBytes: number;
  error: string | null;
}

export function newMigrationStats(): MigrationStats {
  return {
    status: 'none', startedAt: 0, totalTimeMs: 0, downtimeMs: 0, total: 0, transferred: 0, remaining: 0,
    normalPages: 0, zeroPages: 0, rounds: 0, dirtyRate: 0, finalPages: 0, diskSectors: 0, diskBytes: 0, error: null,
  };
}

export interface OutgoingHooks {
  cancelled(): boolean;
  /** Stop the guest for the last copy. */
  stopGuest(): void;
  wasRunning: boolean;
}

const MSG_HELLO = 0x48, MSG_RAM = 0x52, MSG_DEVICES = 0x44, MSG_OK = 0x4b, MSG_FAIL = 0x46;
const BATCH_PAGES = 256;
const MAX_ROUNDS = 30;
const MAX_MESSAGE = 64 << 20;
/** How long the stopped source waits for the destination's answer before it runs the guest again. */
const ACK_TIMEOUT_MS = 30_000;

function message(type: number, payload: Uint8Array): Uint8Array {
  const m = new Uint8Array(5 + payload.length);
  m[0] = type;
  new DataView(m.buffer).setUint32(1, payload.length, true);
  m.set(payload, 5);
  return m;
}

/** Reads whole messages from a channel. */
class MessageReader {
  private buf: Uint8Array = new Uint8Array(0);
  constructor(private readonly ch: ByteChannel) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n) {
      const more = await this.ch.read();
      if (!more) return false;
      this.buf = this.buf.length ? concat([this.buf, more]) : more;
    }
    return true;
  }

  async next(): Promise<{ type: number; payload: Uint8Array } | null> {
    if (!(await this.fill(5))) return null;
    const type = this.buf[0];
    const len = new DataView(this.buf.buffer, this.buf.byteOffset + 1, 4).getUint32(0, true);
    if (len > MAX_MESSAGE) throw new SnapshotError(`migration stream is corrupt: a ${len}-byte message`);
    if (!(await this.fill(5 + len))) throw new SnapshotError('the migration connection closed in the middle of a message');
    const payload = this.buf.slice(5, 5 + len);
    this.buf = this.buf.subarray(5 + len);
    return { type, payload };
  }
}

// ---- Source.

/** Read and re-arm the dirty log: the pages written since the last call (KVM's log folded in first). */
function takeDirty(m: Machine): number[] {
  const dirty = m.memory.dirtyPages;
  for (const v of m.vcpus) v.backend.dirtyLog?.sync(dirty);
  const out: number[] = [];
  for (let p = 0; p < dirty.length; p++) {
    if (dirty[p] & DIRTY_WRITTEN) { out.push(p); dirty[p] = DIRTY_WATCHED; }
  }
  return out;
}

function isZero(words: Int32Array, page: number): boolean {
  for (let i = page * (PAGE_SIZE / 4), end = i + PAGE_SIZE / 4; i < end; i++) if (words[i] !== 0) return false;
  return true;
}

/** One RAM batch message for `pages`, counting into `stats`. */
function ramBatch(m: Machine, pages: readonly number[], from: number, to: number, stats: MigrationStats): Uint8Array {
  const words = new Int32Array(m.memory.buffer, 0, m.memory.ramSize / 4);
  const ram = m.memory.u8;
  let size = 4;
  for (let i = from; i < to; i++) size += 5 + (isZero(words, pages[i]) ? 0 : PAGE_SIZE);
  const body = new Uint8Array(size);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, to - from, true);
  let at = 4;
  for (let i = from; i < to; i++) {
    const p = pages[i];
    dv.setUint32(at, p, true);
    if (isZero(words, p)) { body[at + 4] = 0; at += 5; stats.zeroPages++; continue; }
    body[at + 4] = 1;
    body.set(ram.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE), at + 5);
    at += 5 + PAGE_SIZE;
    stats.normalPages++;
  }
  return message(MSG_RAM, body);
}

/** Send one message of a pre-copy round; the guest runs after it (each write yields to the event loop). */
async function sendPaced(ch: ByteChannel, msg: Uint8Array, stats: MigrationStats, hooks: OutgoingHooks, params: MigrationParams): Promise<void> {
  if (hooks.cancelled()) throw new Error('migration cancelled');
  const t0 = performance.now();
  await ch.write(msg);
  stats.transferred += msg.length;
  // A socket write may complete without an event-loop turn: let the guest's run loop have one.
  await new Promise((r) => setImmediate(r));
  if (params.maxBandwidth > 0) {
    const wait = (msg.length / params.maxBandwidth) * 1000 - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** Send `pages`, then the overlay sectors in `disks`, in batches. */
async function sendRound(m: Machine, ch: ByteChannel, pages: readonly number[], overlays: OverlaySender, disks: DiskWork, stats: MigrationStats, hooks: OutgoingHooks, params: MigrationParams): Promise<void> {
  for (let i = 0; i < pages.length; i += BATCH_PAGES) {
    await sendPaced(ch, ramBatch(m, pages, i, Math.min(pages.length, i + BATCH_PAGES), stats), stats, hooks, params);
  }
  for (const payload of overlays.payloads(disks)) {
    const msg = message(MSG_DISK, payload);
    await sendPaced(ch, msg, stats, hooks, params);
    stats.diskSectors += new DataView(payload.buffer).getUint32(4, true);
    stats.diskBytes += msg.length;
  }
}

/**
 * Migrate `m` over `ch`. On success the guest is stopped for good (the caller
 * marks it postmigrate); on any failure it throws with the guest still running
 * (or restarted) and nothing lost.
 */
export async function migrateOut(m: Machine, ch: ByteChannel, params: MigrationParams, stats: MigrationStats, hooks: OutgoingHooks): Promise<void> {
  const mem = m.memory;
  const pageCount = mem.ramSize / PAGE_SIZE;
  const reader = new MessageReader(ch);
  const reply = reader.next();
  reply.catch(() => {});
  const overlays = new OverlaySender(m);
  stats.total = mem.ramSize;
  const hello = new Uint8Array(16);
  const hv = new DataView(hello.buffer);
  hv.setFloat64(0, mem.ramSize, true);
  hv.setUint32(8, m.vcpus.length, true);
  hv.setUint32(12, SNAPSHOT_VERSION, true);
  try {
    await ch.write(message(MSG_HELLO, hello));
    // Arm the dirty logs (and drop TLB entries made before them), so every later write is seen.
    mem.dirtyPages.fill(DIRTY_WATCHED);
    for (const v of m.vcpus) { v.backend.invalidateCode?.(); v.backend.dirtyLog?.start(); }
    let pages: number[] = Array.from({ length: pageCount }, (_, i) => i);
    let disks = overlays.start();
    let bytesPerMs = 0;
    for (;;) {
      stats.rounds++;
      const t0 = performance.now();
      const sentBefore = stats.transferred;
      await sendRound(m, ch, pages, overlays, disks, stats, hooks, params);
      const ms = Math.max(performance.now() - t0, 0.001);
      bytesPerMs = (stats.transferred - sentBefore) / ms;
      pages = takeDirty(m);
      disks = overlays.takeWritten();
      stats.remaining = pages.length * PAGE_SIZE + sectorCount(disks) * SECTOR_SIZE;
      stats.dirtyRate = Math.round((pages.length / ms) * 1000);
      const expectedMs = bytesPerMs > 0 ? (pages.length * (PAGE_SIZE + 5) + sectorCount(disks) * (SECTOR_SIZE + 8)) / bytesPerMs : Infinity;
      if (expectedMs <= params.downtimeLimitMs || stats.rounds >= MAX_ROUNDS) break;
    }
    // Stop-and-copy: what is still dirty, then the devices and the CPU.
    const t0 = performance.now();
    hooks.stopGuest();
    const queued = new Set(pages);
    for (const p of takeDirty(m)) if (!queued.has(p)) pages.push(p);
    disks = mergeWork(disks, overlays.takeWritten());
    stats.rounds++;
    stats.finalPages = pages.length;
    await sendRound(m, ch, pages, overlays, disks, stats, { ...hooks, cancelled: () => false }, { ...params, maxBandwidth: 0 });
    const sections = machineSections(m, !hooks.wasRunning);
    overlays.emptySections(sections);
    const rest = message(MSG_DEVICES, packSections(sections));
    await ch.write(rest);
    stats.transferred += rest.length;
    stats.remaining = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = await Promise.race([reply, new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`the destination did not confirm within ${ACK_TIMEOUT_MS / 1000} s`)), ACK_TIMEOUT_MS);
    })]).finally(() => clearTimeout(timer));
    stats.downtimeMs = performance.now() - t0;
    if (!answer) throw new Error('the destination closed the connection before confirming');
    if (answer.type === MSG_FAIL) throw new Error(`the destination refused the guest: ${new TextDecoder().decode(answer.payload)}`);
    if (answer.type !== MSG_OK) throw new Error('the destination answered something unexpected');
  } finally {
    for (const v of m.vcpus) v.backend.dirtyLog?.stop();
    overlays.stop();
    mem.dirtyPages.fill(0);
    ch.close();
  }
}

// ---- Destination.

/** Receive a migration into `m` (not running). Resolves with the source's run state once it is loaded. */
export async function receiveMigration(m: Machine, ch: ByteChannel, stats: MigrationStats): Promise<MachineRunState> {
  const reader = new MessageReader(ch);
  const ram = m.memory.u8;
  const pageCount = m.memory.ramSize / PAGE_SIZE;
  const fail = async (why: string): Promise<never> => {
    try { await ch.write(message(MSG_FAIL, new TextEncoder().encode(why))); } catch { /* the source is gone */ }
    ch.close();
    throw new SnapshotError(why);
  };
  let ramSize = -1, vcpus = 0;
  const overlays = new OverlayReceiver();
  stats.total = m.memory.ramSize;
  for (;;) {
    let msg;
    try {
      msg = await reader.next();
    } catch (e) {
      return fail((e as Error).message);
    }
    if (!msg) return fail('the migration connection closed before the guest had arrived');
    stats.transferred += 5 + msg.payload.length;
    const dv = new DataView(msg.payload.buffer, msg.payload.byteOffset, msg.payload.length);
    if (msg.type === MSG_HELLO) {
      if (msg.payload.length !== 16) return fail('migration stream is corrupt: bad hello');
      ramSize = dv.getFloat64(0, true);
      vcpus = dv.getUint32(8, true);
      const version = dv.getUint32(12, true);
      if (version !== SNAPSHOT_VERSION) return fail(`migration stream version ${version}; this emu reads version ${SNAPSHOT_VERSION}`);
      if (ramSize !== m.memory.ramSize) return fail(`the incoming guest has ${ramSize >>> 20}M of RAM and this machine ${m.memory.ramSize >>> 20}M: start the destination with -m ${ramSize >>> 20}M`);
    } else if (msg.type === MSG_RAM) {
      if (ramSize < 0) return fail('migration stream is corrupt: RAM before hello');
      const count = dv.getUint32(0, true);
      let at = 4;
      for (let i = 0; i < count; i++) {
        if (at + 5 > msg.payload.length) return fail('migration stream is corrupt: a RAM batch is cut short');
        const p = dv.getUint32(at, true), kind = msg.payload[at + 4];
        at += 5;
        if (p >= pageCount) return fail('migration stream is corrupt: a page past the end of RAM');
        if (kind === 0) { ram.fill(0, p * PAGE_SIZE, (p + 1) * PAGE_SIZE); stats.zeroPages++; continue; }
        if (at + PAGE_SIZE > msg.payload.length) return fail('migration stream is corrupt: a RAM batch is cut short');
        ram.set(msg.payload.subarray(at, at + PAGE_SIZE), p * PAGE_SIZE);
        at += PAGE_SIZE;
        stats.normalPages++;
      }
    } else if (msg.type === MSG_DISK) {
      if (ramSize < 0) return fail('migration stream is corrupt: disk sectors before hello');
      const corrupt = overlays.add(msg.payload);
      if (corrupt) return fail(corrupt);
      stats.diskSectors = overlays.sectors;
      stats.diskBytes += 5 + msg.payload.length;
    } else if (msg.type === MSG_DEVICES) {
      if (ramSize < 0) return fail('migration stream is corrupt: devices before hello');
      let run: MachineRunState;
      try {
        const sections = unpackSections(msg.payload);
        overlays.intoSections(sections);
        run = applySections(m, ramSize, vcpus, sections, true);
      } catch (e) {
        return fail((e as Error).message);
      }
      await ch.write(message(MSG_OK, new Uint8Array(0)));
      ch.close();
      return run;
    } else {
      return fail(`migration stream is corrupt: unknown message 0x${msg.type.toString(16)}`);
    }
  }
}
