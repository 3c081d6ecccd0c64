// Guest physical memory: one fixed-size WebAssembly.Memory shared by every
// backend (typed-array views here, imported by JIT modules, registered with
// KVM). RAM occupies [0, ramSize). Past it, page-aligned and never registered
// with KVM, each vCPU has an area of VCPU_AREA bytes: its state record first
// (STATE_RESERVE bytes), then the per-CPU data its hot paths read (TLB planes,
// segment bounds, mode fields), so the interpreter's typed-array views and the
// JIT's wasm loads see the same bytes. A second vCPU only adds a stride.

export const PAGE_SIZE = 4096;
/** Bytes reserved past RAM for the CPU state record (cpu/state.ts STATE_SIZE; the machine checks they agree). */
export const STATE_RESERVE = 0x1000;
/**
 * Bytes per vCPU past RAM: the state record, then its hot per-CPU data from
 * VCPU_DATA. Compiled code takes an area's base as a parameter and never bakes
 * it in, so one code cache serves every vCPU.
 */
export const VCPU_AREA = 0x80000;
/** Offset inside a vCPU area where the per-CPU hot data (after the state record) begins. */
export const VCPU_DATA = STATE_RESERVE;
/** Most vCPUs one memory holds (QEMU's -smp limit for this board). */
export const MAX_VCPUS = 16;
const WASM_PAGE = 65536;
/** Guest RAM must end below the 32-bit MMIO hole (PCI, IOAPIC, LAPIC, firmware). */
export const MMIO_HOLE_START = 0xc000_0000;
export const MAX_RAM = MMIO_HOLE_START;
export const MIN_RAM = 2 * 1024 * 1024;

export class MemoryError extends Error {}

/** Where a physical address that is not RAM goes (the bus's MMIO dispatch). */
export interface MmioHandler {
  mmioRead(addr: number, size: 1 | 2 | 4): number;
  mmioWrite(addr: number, size: 1 | 2 | 4, value: number): void;
}

/** GuestMemory.dirtyPages bits. */
export const DIRTY_WATCHED = 1, DIRTY_WRITTEN = 2;

export class GuestMemory {
  readonly wasm: WebAssembly.Memory;
  readonly buffer: ArrayBuffer;
  readonly ramSize: number;
  /** Byte offset of vCPU 0's state record inside `buffer` (= vcpuOffset(0)). */
  readonly stateOffset: number;
  /** vCPU areas past RAM. */
  readonly vcpuCount: number;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** MMIO dispatch for addresses at or past ramSize; set by the machine. */
  mmio: MmioHandler | null = null;
  /**
   * Per vCPU (indexed by cpu.index): called on every write that lands in a page whose bit for
   * that vCPU is set in codePages, with the physical page number and the physical range
   * [addr, addr + len) written (it may extend past the page).
   */
  readonly codeWriteHooks: (((page: number, addr: number, len: number) => void) | null)[] = [];
  /**
   * One 16-bit mask per 4 KiB page: bit i is set where vCPU i's backend cached decoded or
   * translated code there (each vCPU's cache marks and unmarks only its own bit, MAX_VCPUS = 16).
   */
  readonly codePages: Uint16Array;
  /**
   * One byte per 4 KiB page: non-zero where the shadow memory model (mmu/shadow.ts) has built
   * shadow entries from a guest page table there. Like code pages, their writes take the TLB's
   * slow path and reach `ptWriteHook` (same arguments as the code write hooks; page -1 when
   * clearRam() changed all of RAM).
   */
  readonly ptPages: Uint8Array;
  ptWriteHook: ((page: number, addr: number, len: number) => void) | null = null;
  /**
   * One byte per 4 KiB page for live migration's dirty log: bit 0 = watched (writes take the
   * TLB's slow path, as on code pages), bit 1 = written since the log was last read. All zero
   * (and no cost) while no migration runs; machine/migrate.ts arms and reads it.
   */
  readonly dirtyPages: Uint8Array;

  constructor(ramSize: number, vcpus = 1) {
    if (!Number.isInteger(ramSize) || ramSize < MIN_RAM || ramSize > MAX_RAM || ramSize % PAGE_SIZE !== 0) {
      throw new MemoryError(`guest RAM must be a multiple of 4 KiB between ${MIN_RAM >> 20} MiB and ${MAX_RAM >>> 20} MiB (asked for ${ramSize} bytes)`);
    }
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > MAX_VCPUS) {
      throw new MemoryError(`the vCPU count must be between 1 and ${MAX_VCPUS} (asked for ${vcpus})`);
    }
    this.ramSize = ramSize;
    this.vcpuCount = vcpus;
    this.stateOffset = ramSize;
    const total = ramSize + vcpus * VCPU_AREA;
    const pages = Math.ceil(total / WASM_PAGE);
    try {
      this.wasm = new WebAssembly.Memory({ initial: pages, maximum: pages });
    } catch (e) {
      throw new MemoryError(`could not allocate ${ramSize >>> 20} MiB of guest RAM (${(e as Error).message}); ask for less with -m`);
    }
    this.buffer = this.wasm.buffer as ArrayBuffer;
    this.u8 = new Uint8Array(this.buffer);
    this.dv = new DataView(this.buffer);
    this.codePages = new Uint16Array(ramSize / PAGE_SIZE);
    this.ptPages = new Uint8Array(ramSize / PAGE_SIZE);
    this.dirtyPages = new Uint8Array(ramSize / PAGE_SIZE);
  }

  /** Byte offset inside `buffer` of vCPU i's area (its state record first). */
  vcpuOffset(i: number): number {
    if (!(i >= 0 && i < this.vcpuCount)) throw new MemoryError(`no vCPU ${i} (this memory has ${this.vcpuCount})`);
    return this.ramSize + i * VCPU_AREA;
  }

  /** True if [addr, addr+len) lies entirely inside RAM. */
  isRam(addr: number, len: number): boolean {
    return addr >= 0 && len >= 0 && addr + len <= this.ramSize;
  }

  // ---- Physical accesses (slow path: any address, MMIO dispatched). The
  // interpreter's fast paths read `u8`/`dv` directly after its TLB says RAM.

  read8(addr: number): number {
    if (addr < this.ramSize) return this.u8[addr];
    return this.mmio ? this.mmio.mmioRead(addr, 1) & 0xff : 0xff;
  }
  read16(addr: number): number {
    if (addr + 2 <= this.ramSize) return this.dv.getUint16(addr, true);
    return this.mmio && addr >= this.ramSize ? this.mmio.mmioRead(addr, 2) & 0xffff : this.read8(addr) | (this.read8(addr + 1) << 8);
  }
  read32(addr: number): number {
    if (addr + 4 <= this.ramSize) return this.dv.getInt32(addr, true);
    if (this.mmio && addr >= this.ramSize) return this.mmio.mmioRead(addr, 4) | 0;
    return (this.read16(addr) | (this.read16(addr + 2) << 16)) | 0;
  }
  write8(addr: number, v: number): void {
    if (addr < this.ramSize) {
      if ((this.codePages[addr >>> 12] | this.ptPages[addr >>> 12] | this.dirtyPages[addr >>> 12]) !== 0) this.written(addr >>> 12, addr, 1);
      this.u8[addr] = v;
    } else this.mmio?.mmioWrite(addr, 1, v & 0xff);
  }
  write16(addr: number, v: number): void {
    if (addr + 2 <= this.ramSize) {
      this.noteWrite(addr, 2);
      this.dv.setUint16(addr, v, true);
    } else if (addr >= this.ramSize) this.mmio?.mmioWrite(addr, 2, v & 0xffff);
    else { this.write8(addr, v); this.write8(addr + 1, v >>> 8); }
  }
  write32(addr: number, v: number): void {
    if (addr + 4 <= this.ramSize) {
      this.noteWrite(addr, 4);
      this.dv.setInt32(addr, v, true);
    } else if (addr >= this.ramSize) this.mmio?.mmioWrite(addr, 4, v | 0);
    else { this.write16(addr, v); this.write16(addr + 2, v >>> 16); }
  }

  /** Tell code caches about a write of `len` bytes at `addr` (already known to be RAM). */
  noteWrite(addr: number, len: number): void {
    const first = addr >>> 12, last = (addr + len - 1) >>> 12;
    for (let p = first; p <= last; p++) {
      if ((this.codePages[p] | this.ptPages[p] | this.dirtyPages[p]) !== 0) this.written(p, addr, len);
    }
  }

  /** A write reached a page holding decoded code or a shadowed page table: tell whoever cares. */
  private written(page: number, addr: number, len: number): void {
    if (this.dirtyPages[page] !== 0) this.dirtyPages[page] = DIRTY_WATCHED | DIRTY_WRITTEN;
    if (this.codePages[page] !== 0) this.codeWritten(page, addr, len);
    if (this.ptPages[page] !== 0) this.ptWriteHook?.(page, addr, len);
  }

  /** A write reached a page holding decoded code: tell each vCPU whose cache marked it. */
  codeWritten(page: number, addr: number, len: number): void {
    let bits = this.codePages[page];
    while (bits !== 0) {
      const i = 31 - Math.clz32(bits & -bits);
      bits &= bits - 1;
      this.codeWriteHooks[i]?.(page, addr, len);
    }
  }

  // ---- Bounds-checked bulk access for loaders and device DMA. A guest-supplied
  // address/length that leaves RAM gets a MemoryError, never a host access.

  /** Copy host bytes into guest RAM. */
  writeBytes(addr: number, bytes: Uint8Array): void {
    if (!this.isRam(addr, bytes.length)) {
      throw new MemoryError(`write of ${bytes.length} bytes at 0x${addr.toString(16)} leaves guest RAM (${this.ramSize >>> 20} MiB)`);
    }
    this.noteWrite(addr, Math.max(bytes.length, 1));
    this.u8.set(bytes, addr);
  }
  /** A view of guest RAM (no copy); callers must not keep it across a reset. */
  view(addr: number, len: number): Uint8Array {
    if (!this.isRam(addr, len)) {
      throw new MemoryError(`access of ${len} bytes at 0x${addr.toString(16)} leaves guest RAM (${this.ramSize >>> 20} MiB)`);
    }
    return this.u8.subarray(addr, addr + len);
  }
  fill(addr: number, len: number, value: number): void {
    this.view(addr, len).fill(value);
    this.noteWrite(addr, Math.max(len, 1));
  }
  /** Read a NUL-terminated string of at most `max` bytes (for loaders and debugging). */
  readCString(addr: number, max = 4096): string {
    let s = '';
    for (let i = 0; i < max && this.isRam(addr + i, 1); i++) {
      const c = this.u8[addr + i];
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }

  /** Zero all RAM (machine reset keeps the same buffer: KVM and JIT modules hold it). */
  clearRam(): void {
    this.u8.fill(0, 0, this.ramSize);
    this.codePages.fill(0);
    this.ptWriteHook?.(-1, 0, 0);
  }
}
