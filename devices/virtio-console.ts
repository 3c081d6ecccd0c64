// virtio-console (virtio spec v1.2, 5.3) with a single port and no multiport control
// queue: receiveq0 takes host input into the driver's buffers, transmitq0 carries guest
// output to `onOutput`. Linux shows it as /dev/hvc0 (console=hvc0). Input waits in a
// bounded host-side queue (declared state: a snapshot keeps what the guest has not taken
// yet) until the driver posts receive buffers.

import { declareState } from './state.js';
import { chainRead, chainWrite, VIRTIO_ID_CONSOLE, VirtioPci, type VirtioDeviceModel } from './virtio-pci.js';
import type { GuestMemory } from '../mmu/memory.js';

export const CONSOLE_RX = 0, CONSOLE_TX = 1;
export const CONSOLE_QUEUE_SIZE = 64;
/** Config (5.3.4): cols u16, rows u16, max_nr_ports u32, emerg_wr u32 (none offered by features). */
export const CONSOLE_CFG_COLS = 0, CONSOLE_CFG_ROWS = 2;
/** Host input kept while the guest posts no buffers; more is dropped (and counted). */
export const CONSOLE_INPUT_LIMIT = 4096;
const TX_CHUNK = 4096;

export class VirtioConsole implements VirtioDeviceModel {
  static {
    declareState(VirtioConsole, {
      fields: { input: ['u8', CONSOLE_INPUT_LIMIT], inputLen: 'u16', droppedInput: 'f64' },
      wiring: ['name', 'deviceType', 'classCode', 'queueSizes', 'features', 'transport', 'chunk', 'mem', 'onOutput'],
    });
  }

  readonly name = 'virtio-console';
  readonly deviceType = VIRTIO_ID_CONSOLE;
  readonly classCode = 0x078000; // simple communication controller, other
  readonly queueSizes = [CONSOLE_QUEUE_SIZE, CONSOLE_QUEUE_SIZE];
  readonly features = 0;
  readonly transport: VirtioPci;
  /** Host input the guest has not taken yet: input[0, inputLen). */
  private readonly input = new Uint8Array(CONSOLE_INPUT_LIMIT);
  private inputLen = 0;
  droppedInput = 0;
  private readonly chunk = new Uint8Array(TX_CHUNK);

  constructor(private readonly mem: GuestMemory, private readonly onOutput: (bytes: Uint8Array) => void) {
    this.transport = new VirtioPci(mem, this);
  }

  configRead(offset: number, size: 1 | 2 | 4): number {
    const cfg = [80, 0, 25, 0, 1, 0, 0, 0, 0, 0, 0, 0]; // 80x25, one port
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = (v << 8) | (cfg[offset + i] ?? 0);
    return v >>> 0;
  }
  configWrite(): void {}
  reset(): void {}

  /** Bytes waiting for the guest's receive buffers. */
  get pendingInput(): number { return this.inputLen; }

  /** Host keystrokes for the guest: into its receive buffers now, or (`hold`: the guest is paused) kept until `flushInput`. */
  receive(bytes: Iterable<number>, hold = false): void {
    for (const b of bytes) {
      if (this.inputLen < CONSOLE_INPUT_LIMIT) this.input[this.inputLen++] = b; else this.droppedInput++;
    }
    if (!hold) this.flushInput();
  }

  /** Move held input into whatever receive buffers the driver has posted. */
  flushInput(): void {
    if (this.inputLen === 0 || !this.transport.driverOk || !this.transport.queues[CONSOLE_RX].enabled) return;
    try { this.deliver(); } catch (e) { this.transport.fail(e); }
  }

  notify(q: number): void {
    if (q === CONSOLE_RX) { this.deliver(); return; }
    const vq = this.transport.queues[CONSOLE_TX], c = this.transport.counters;
    for (let n = 0; n < vq.size; n++) {
      const chain = vq.pop(this.mem);
      if (!chain) break;
      for (let at = 0; at < chain.readLen; at += TX_CHUNK) {
        const got = chainRead(this.mem, chain, at, this.chunk);
        this.onOutput(this.chunk.slice(0, got));
        if (got < TX_CHUNK) break;
      }
      c.requests++;
      c.bytesWritten += chain.readLen;
      vq.push(this.mem, chain, 0);
    }
    this.transport.finish(CONSOLE_TX);
  }

  private deliver(): void {
    const vq = this.transport.queues[CONSOLE_RX], c = this.transport.counters;
    let n = 0;
    while (this.inputLen > 0 && n++ < vq.size) {
      const chain = vq.pop(this.mem);
      if (!chain) break;
      const take = Math.min(chain.writeLen, this.inputLen);
      const written = chainWrite(this.mem, chain, 0, this.input.subarray(0, take));
      this.input.copyWithin(0, written, this.inputLen);
      this.inputLen -= written;
      c.requests++;
      c.bytesRead += written;
      vq.push(this.mem, chain, written);
    }
    this.transport.finish(CONSOLE_RX);
  }
}
