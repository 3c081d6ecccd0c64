// virtio-rng (virtio spec v1.2, 5.4): one request queue whose device-writable buffers
// the device fills with random bytes from the host's CSPRNG (Web Crypto, in Node and
// browsers alike). Linux's hw_random core feeds them to the kernel's entropy pool.

import { declareState } from './state.js';
import { chainWrite, VIRTIO_ID_RNG, VirtioPci, type VirtioDeviceModel } from './virtio-pci.js';
import type { GuestMemory } from '../mmu/memory.js';

export const RNG_QUEUE_SIZE = 64;
/** Bytes handed out per request at most (getRandomValues' own limit); the used length says how many. */
export const RNG_MAX_REQUEST = 65536;

export class VirtioRng implements VirtioDeviceModel {
  static {
    declareState(VirtioRng, { fields: {}, wiring: ['name', 'deviceType', 'classCode', 'queueSizes', 'features', 'transport', 'pool', 'mem', 'random'] });
  }

  readonly name = 'virtio-rng';
  readonly deviceType = VIRTIO_ID_RNG;
  readonly classCode = 0x00ff00; // unclassified
  readonly queueSizes = [RNG_QUEUE_SIZE];
  readonly features = 0;
  readonly transport: VirtioPci;
  private readonly pool = new Uint8Array(RNG_MAX_REQUEST);

  /** `random` fills a buffer (tests pass a fixed pattern); the default is crypto.getRandomValues. */
  constructor(private readonly mem: GuestMemory, private readonly random: (buf: Uint8Array) => void = (b) => { globalThis.crypto.getRandomValues(b); }) {
    this.transport = new VirtioPci(mem, this);
  }

  configRead(): number { return 0; }
  configWrite(): void {}
  reset(): void {}

  notify(q: number): void {
    const vq = this.transport.queues[q], c = this.transport.counters;
    for (let n = 0; n < vq.size; n++) {
      const chain = vq.pop(this.mem);
      if (!chain) break;
      const len = Math.min(chain.writeLen, RNG_MAX_REQUEST);
      const bytes = this.pool.subarray(0, len);
      this.random(bytes);
      const written = chainWrite(this.mem, chain, 0, bytes);
      c.requests++;
      c.bytesRead += written;
      vq.push(this.mem, chain, written);
    }
    this.transport.finish(q);
  }
}
