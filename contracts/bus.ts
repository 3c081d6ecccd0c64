// The bus's faces: what a device implements to be reached by port I/O or MMIO
// (devices/bus.ts dispatches to them), and the MMIO ranges a backend that maps RAM
// itself (KVM) leaves out of its memory slots.

/** A device's port-I/O face. `port` is the absolute port number (ISA devices are known by them). */
export interface PortDevice {
  portRead(port: number, size: 1 | 2 | 4): number;
  portWrite(port: number, size: 1 | 2 | 4, value: number): void;
}

/** A device's MMIO face. `offset` is relative to the base the range was mapped at. */
export interface MmioDevice {
  mmioRead(offset: number, size: 1 | 2 | 4): number;
  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void;
}

/** A physical range that belongs to a device, not to RAM. */
export interface MmioHole {
  readonly start: number;
  readonly length: number;
}
