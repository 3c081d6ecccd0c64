// virtio-blk (virtio spec v1.2, 5.2) over a BlockBackend: one request queue; read,
// write, flush and get-id; the capacity, segment limit and block size in its config.
// Requests complete synchronously inside the notify. Not emulated: discard, write
// zeroes, multiqueue, topology, zoned devices.

import { inImage, SECTOR_SIZE, type BlockBackend } from './block.js';
import { declareState } from './state.js';
import { chainRead, chainWrite, VIRTIO_ID_BLOCK, VirtioError, VirtioPci, type Chain, type VirtioDeviceModel } from './virtio-pci.js';
import type { GuestMemory } from '../mmu/memory.js';

/** Feature bits (5.2.3). */
export const BLK_F_SEG_MAX = 1 << 2;
export const BLK_F_RO = 1 << 5;
export const BLK_F_BLK_SIZE = 1 << 6;
export const BLK_F_FLUSH = 1 << 9;

/** Config layout (5.2.4). */
export const BLK_CFG_CAPACITY = 0x00; // u64, in 512-byte sectors
export const BLK_CFG_SEG_MAX = 0x0c;
export const BLK_CFG_BLK_SIZE = 0x14;
const BLK_CFG_SIZE = 0x3c;

/** Request types and status (5.2.6). */
export const BLK_T_IN = 0, BLK_T_OUT = 1, BLK_T_FLUSH = 4, BLK_T_GET_ID = 8;
export const BLK_S_OK = 0, BLK_S_IOERR = 1, BLK_S_UNSUPP = 2;
export const BLK_HEADER = 16;
const ID_BYTES = 20;
export const BLK_QUEUE_SIZE = 256;
/** One request's largest transfer: the host buffer is reused, so a huge guest length is refused, not allocated. */
export const BLK_MAX_TRANSFER = 4 << 20;

export class VirtioBlk implements VirtioDeviceModel {
  static {
    // Requests complete inside the notify write: nothing is in flight between two of them.
    declareState(VirtioBlk, { fields: {}, wiring: ['name', 'deviceType', 'classCode', 'queueSizes', 'features', 'transport', 'header', 'headerView', 'buf', 'mem', 'disk', 'serial'] });
  }

  readonly name = 'virtio-blk';
  readonly deviceType = VIRTIO_ID_BLOCK;
  readonly classCode = 0x010000; // mass storage, SCSI (what virtio-blk has always reported)
  readonly queueSizes = [BLK_QUEUE_SIZE];
  readonly features: number;
  readonly transport: VirtioPci;
  private readonly header = new Uint8Array(BLK_HEADER);
  private readonly headerView = new DataView(this.header.buffer);
  private buf = new Uint8Array(64 * 1024);

  constructor(private readonly mem: GuestMemory, readonly disk: BlockBackend, readonly serial = 'emu-virtio-blk') {
    this.features = BLK_F_SEG_MAX | BLK_F_BLK_SIZE | BLK_F_FLUSH | (disk.readOnly ? BLK_F_RO : 0);
    this.transport = new VirtioPci(mem, this);
  }

  configRead(offset: number, size: 1 | 2 | 4): number {
    const cfg = new DataView(new ArrayBuffer(BLK_CFG_SIZE + 4));
    const sectors = this.disk.size / SECTOR_SIZE;
    cfg.setUint32(BLK_CFG_CAPACITY, sectors >>> 0, true);
    cfg.setUint32(BLK_CFG_CAPACITY + 4, Math.floor(sectors / 0x100000000), true);
    cfg.setUint32(BLK_CFG_SEG_MAX, BLK_QUEUE_SIZE - 2, true);
    cfg.setUint32(BLK_CFG_BLK_SIZE, SECTOR_SIZE, true);
    if (offset + size > BLK_CFG_SIZE) return 0;
    return size === 1 ? cfg.getUint8(offset) : size === 2 ? cfg.getUint16(offset, true) : cfg.getUint32(offset, true);
  }

  configWrite(): void {} // writeback mode is not offered: nothing in the config is writable

  reset(): void {}

  notify(q: number): void {
    const vq = this.transport.queues[q];
    for (let n = 0; n < vq.size; n++) {
      const chain = vq.pop(this.mem);
      if (!chain) break;
      vq.push(this.mem, chain, this.execute(chain));
    }
    this.transport.finish(q);
  }

  /** Run one request; returns the bytes written into its writable part (data + status). */
  private execute(chain: Chain): number {
    const c = this.transport.counters;
    c.requests++;
    // Header (16 bytes, device-readable) ... data ... status (1 byte, last device-writable).
    if (chain.readLen < BLK_HEADER || chain.writeLen < 1) throw new VirtioError('virtio-blk request without header or status byte');
    chainRead(this.mem, chain, 0, this.header);
    const type = this.headerView.getUint32(0, true);
    const sector = this.headerView.getUint32(8, true) + this.headerView.getUint32(12, true) * 0x100000000;
    const statusAt = chain.writeLen - 1;
    let status = BLK_S_OK, written = 0;
    if (type === BLK_T_IN || type === BLK_T_OUT) {
      const len = type === BLK_T_IN ? chain.writeLen - 1 : chain.readLen - BLK_HEADER;
      const offset = sector * SECTOR_SIZE;
      if (len % SECTOR_SIZE !== 0 || len > BLK_MAX_TRANSFER || !inImage(this.disk, offset, len) || (type === BLK_T_OUT && this.disk.readOnly)) {
        status = BLK_S_IOERR;
      } else {
        const data = this.scratch(len);
        if (type === BLK_T_IN) {
          this.disk.read(offset, data);
          written = chainWrite(this.mem, chain, 0, data);
          c.bytesRead += len;
        } else {
          chainRead(this.mem, chain, BLK_HEADER, data);
          this.disk.write(offset, data);
          c.bytesWritten += len;
        }
      }
    } else if (type === BLK_T_FLUSH) {
      c.flushes++;
      this.disk.flush();
    } else if (type === BLK_T_GET_ID) {
      const id = new Uint8Array(ID_BYTES);
      for (let i = 0; i < this.serial.length && i < ID_BYTES; i++) id[i] = this.serial.charCodeAt(i) & 0x7f;
      written = chainWrite(this.mem, chain, 0, id.subarray(0, Math.min(ID_BYTES, statusAt)));
    } else {
      status = BLK_S_UNSUPP;
    }
    if (status !== BLK_S_OK) c.errors++;
    chainWrite(this.mem, chain, statusAt, new Uint8Array([status]));
    return Math.min(written, statusAt) + 1;
  }

  private scratch(len: number): Uint8Array {
    if (this.buf.length < len) this.buf = new Uint8Array(len);
    return this.buf.subarray(0, len);
  }
}
