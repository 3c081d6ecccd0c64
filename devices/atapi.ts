// An ATAPI CD-ROM drive on the IDE controller (ide.ts runs the PACKET protocol; this file
// answers the packets). A read-only ISO image of 2048-byte sectors over a BlockBackend.
//
// Commands (SPC-3 / MMC-3): TEST UNIT READY, REQUEST SENSE, INQUIRY, READ CAPACITY,
// READ(10), READ(12), MODE SENSE(6)/(10) (pages 01h, 0Dh, 2Ah, 3Fh), GET CONFIGURATION
// (profile list, core, removable medium), READ TOC/PMA/ATIP formats 0 and 1 (LBA or MSF),
// PREVENT/ALLOW MEDIUM REMOVAL (the lock the host's eject honours), START STOP UNIT (accepted,
// nothing moves). Anything else is CHECK CONDITION, ILLEGAL REQUEST / INVALID COMMAND
// OPERATION CODE. The host changes or ejects the medium (CdDrive.load): with none, the
// commands that need one answer NOT READY / MEDIUM NOT PRESENT; after a change the next
// command but INQUIRY, REQUEST SENSE and GET CONFIGURATION answers UNIT ATTENTION / MEDIUM MAY
// HAVE CHANGED (SPC-3 5.9.7), once. No media event notification (GET EVENT STATUS is refused,
// so drivers poll with TEST UNIT READY). IDENTIFY PACKET DEVICE offers multiword DMA 0-2: the
// data of a packet whose FEATURES DMA bit is set moves through the bus master (ide.ts).

import type { BlockBackend } from './block.js';

export const CD_SECTOR = 2048;

/** ATA commands a packet device takes. */
export const ATA_DEVICE_RESET = 0x08, ATA_PACKET = 0xa0, ATA_IDENTIFY_PACKET = 0xa1;
/** The ATAPI signature in LBA mid/high after a reset (ATA-6 9.12). */
export const ATAPI_SIG_MID = 0x14, ATAPI_SIG_HIGH = 0xeb;
/** Interrupt reason (the sector count register during a packet command). */
export const IR_COD = 0x01, IR_IO = 0x02;

/** SCSI operation codes. */
export const SCSI_TEST_UNIT_READY = 0x00, SCSI_REQUEST_SENSE = 0x03, SCSI_INQUIRY = 0x12, SCSI_MODE_SENSE6 = 0x1a;
export const SCSI_START_STOP = 0x1b, SCSI_PREVENT_ALLOW = 0x1e, SCSI_READ_CAPACITY = 0x25, SCSI_READ10 = 0x28;
export const SCSI_READ_TOC = 0x43, SCSI_GET_CONFIGURATION = 0x46, SCSI_MODE_SENSE10 = 0x5a, SCSI_READ12 = 0xa8;

/** Sense keys and additional sense codes. */
export const SENSE_NONE = 0, SENSE_NOT_READY = 2, SENSE_ILLEGAL_REQUEST = 5, SENSE_UNIT_ATTENTION = 6;
export const ASC_INVALID_OPCODE = 0x20, ASC_LBA_OUT_OF_RANGE = 0x21, ASC_INVALID_FIELD = 0x24;
export const ASC_MEDIUM_CHANGED = 0x28, ASC_MEDIUM_NOT_PRESENT = 0x3a;

/** Returned by runPacket: the command moves `mediaLeft` bytes from the image at `mediaOffset`. */
export const PACKET_MEDIA = -1;
/** Returned by runPacket: CHECK CONDITION; the sense is set. */
export const PACKET_CHECK = -2;

/** What the ATAPI device keeps between packets (the IDE channel holds it, so it is saved with the channel). */
export interface PacketState {
  /** Sense key and ASC of the last command, by unit. */
  readonly senseKey: Uint8Array;
  readonly senseAsc: Uint8Array;
  /** By unit: 1 while a medium change is still to be reported (UNIT ATTENTION). */
  readonly unitAttention: Uint8Array;
  /** By unit: 1 while PREVENT MEDIUM REMOVAL is in force (the host's eject needs force). */
  readonly locked: Uint8Array;
  /** A READ's bytes still to move, and where in the image they start. */
  mediaOffset: number;
  mediaLeft: number;
}

function putString(b: Uint8Array, at: number, len: number, s: string): void {
  const t = s.padEnd(len, ' ');
  for (let i = 0; i < len; i++) b[at + i] = t.charCodeAt(i);
}

const be16 = (b: Uint8Array, at: number, v: number): void => { b[at] = (v >>> 8) & 0xff; b[at + 1] = v & 0xff; };
const be32 = (b: Uint8Array, at: number, v: number): void => { be16(b, at, v >>> 16); be16(b, at + 2, v & 0xffff); };
const rd16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];
const rd32 = (b: Uint8Array, at: number): number => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** A CD-ROM drive: its medium and IDENTIFY PACKET DEVICE data (the packet state is the channel's). */
export class CdDrive {
  readonly identify = new Uint8Array(512);
  /** The medium in the drive; null: none (ejected). */
  media: BlockBackend | null = null;
  /** Whole 2048-byte sectors of the medium. */
  sectors = 0;

  constructor(media: BlockBackend | null, serial: string) {
    this.load(media);
    const w = new DataView(this.identify.buffer);
    const put = (i: number, v: number): void => w.setUint16(2 * i, v, true);
    const str = (i: number, words: number, s: string): void => {
      const t = s.padEnd(2 * words, ' ');
      for (let k = 0; k < words; k++) put(i + k, (t.charCodeAt(2 * k) << 8) | t.charCodeAt(2 * k + 1));
    };
    // ATAPI, CD-ROM (type 5), removable, DRQ within 50 us of the command, 12-byte packets.
    put(0, 0x8000 | (5 << 8) | 0x80 | (2 << 5));
    str(10, 10, serial); str(23, 4, '1.0'); str(27, 20, 'EMU CD-ROM');
    put(49, (1 << 9) | (1 << 8)); // LBA, DMA
    put(53, 0x0002); // words 64-70 valid
    put(63, 0x0407); // MWDMA 0-2 supported, mode 2 selected
    put(64, 0x0003); put(65, 120); put(66, 120); put(67, 120); put(68, 120); // PIO 3 and 4
    put(80, 0x0070); // ATA/ATAPI-4 .. -6
  }

  /** Put `media` in the drive (null: eject); the channel's unit attention is the caller's to set. */
  load(media: BlockBackend | null): void {
    this.media = media;
    this.sectors = media ? Math.floor(media.size / CD_SECTOR) : 0;
  }
}

/** Set the unit's sense and return PACKET_CHECK. */
function check(s: PacketState, unit: number, key: number, asc: number): number {
  s.senseKey[unit] = key;
  s.senseAsc[unit] = asc;
  return PACKET_CHECK;
}

/**
 * Run one 12-byte command packet for `cd` (unit 0 or 1 of its channel). Returns the number of
 * bytes of data-in placed at the start of `out` (0: no data), PACKET_MEDIA (a READ: the
 * state's mediaOffset/mediaLeft say what to move) or PACKET_CHECK (the sense says why).
 */
export function runPacket(cd: CdDrive, unit: number, cdb: Uint8Array, s: PacketState, out: Uint8Array): number {
  const op = cdb[0];
  if (s.unitAttention[unit] && op !== SCSI_INQUIRY && op !== SCSI_GET_CONFIGURATION) {
    s.unitAttention[unit] = 0; // reported once, by this command or as REQUEST SENSE's data
    s.senseKey[unit] = SENSE_UNIT_ATTENTION;
    s.senseAsc[unit] = ASC_MEDIUM_CHANGED;
    if (op !== SCSI_REQUEST_SENSE) return PACKET_CHECK;
  }
  if (op !== SCSI_REQUEST_SENSE) { s.senseKey[unit] = SENSE_NONE; s.senseAsc[unit] = 0; }
  if (!cd.media && (op === SCSI_TEST_UNIT_READY || op === SCSI_READ_CAPACITY || op === SCSI_READ10 || op === SCSI_READ12 || op === SCSI_READ_TOC)) {
    return check(s, unit, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
  }
  switch (op) {
    case SCSI_TEST_UNIT_READY: case SCSI_START_STOP:
      return 0;
    case SCSI_PREVENT_ALLOW:
      s.locked[unit] = cdb[4] & 1;
      return 0;
    case SCSI_REQUEST_SENSE: {
      out.fill(0, 0, 18);
      out[0] = 0x70; // current error, fixed format
      out[2] = s.senseKey[unit];
      out[7] = 10; // additional sense length
      out[12] = s.senseAsc[unit];
      s.senseKey[unit] = SENSE_NONE; s.senseAsc[unit] = 0;
      return Math.min(18, cdb[4]);
    }
    case SCSI_INQUIRY: {
      if (cdb[1] & 1) return check(s, unit, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD); // no vital product data pages
      out.fill(0, 0, 36);
      out[0] = 0x05; // CD/DVD device
      out[1] = 0x80; // removable
      out[2] = 0x05; // SPC-3
      out[3] = 0x02; // response data format 2
      out[4] = 31; // additional length
      putString(out, 8, 8, 'EMU');
      putString(out, 16, 16, 'EMU CD-ROM');
      putString(out, 32, 4, '1.0');
      return Math.min(36, rd16(cdb, 3));
    }
    case SCSI_READ_CAPACITY:
      be32(out, 0, Math.max(cd.sectors - 1, 0));
      be32(out, 4, CD_SECTOR);
      return 8;
    case SCSI_READ10: case SCSI_READ12: {
      const lba = rd32(cdb, 2), count = op === SCSI_READ10 ? rd16(cdb, 7) : rd32(cdb, 6);
      if (lba + count > cd.sectors) return check(s, unit, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
      s.mediaOffset = lba * CD_SECTOR;
      s.mediaLeft = count * CD_SECTOR;
      return count === 0 ? 0 : PACKET_MEDIA;
    }
    case SCSI_MODE_SENSE6: case SCSI_MODE_SENSE10:
      return modeSense(cdb, op === SCSI_MODE_SENSE10, s, unit, out);
    case SCSI_GET_CONFIGURATION:
      return getConfiguration(cd, cdb, out);
    case SCSI_READ_TOC:
      return readToc(cd, cdb, s, unit, out);
    default:
      return check(s, unit, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
  }
}

/** Mode pages: read error recovery (01h), CD device parameters (0Dh), capabilities and mechanical status (2Ah). */
function modePage(code: number, out: Uint8Array, at: number): number {
  if (code === 0x01) {
    out.fill(0, at, at + 12);
    out[at] = 0x01; out[at + 1] = 10;
    return 12;
  }
  if (code === 0x0d) {
    out.fill(0, at, at + 8);
    out[at] = 0x0d; out[at + 1] = 6;
    out[at + 5] = 60; // 60 S units per M unit
    out[at + 7] = 75; // 75 F units per S unit
    return 8;
  }
  // 2Ah: reads CD-ROM media only (no CD-R/RW, no DVD), tray mechanism with lock and eject,
  // 24x (4224 kB/s) maximum and current read speed, 512 KiB buffer.
  out.fill(0, at, at + 22);
  out[at] = 0x2a; out[at + 1] = 20;
  out[at + 6] = (1 << 5) | (1 << 3) | 1;
  be16(out, at + 8, 4224);
  be16(out, at + 10, 256); // volume levels
  be16(out, at + 12, 512);
  be16(out, at + 14, 4224);
  return 22;
}

function modeSense(cdb: Uint8Array, ten: boolean, s: PacketState, unit: number, out: Uint8Array): number {
  const page = cdb[2] & 0x3f, control = cdb[2] >> 6;
  if (control === 1) return check(s, unit, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD); // changeable values: none to report
  const pages = page === 0x3f ? [0x01, 0x0d, 0x2a] : page === 0x01 || page === 0x0d || page === 0x2a ? [page] : null;
  if (!pages) return check(s, unit, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
  const header = ten ? 8 : 4;
  out.fill(0, 0, header);
  let n = header;
  for (const p of pages) n += modePage(p, out, n);
  if (ten) { be16(out, 0, n - 2); out[2] = 0x01; } // medium: 120 mm CD-ROM, data only
  else { out[0] = n - 1; out[1] = 0x01; }
  return Math.min(n, ten ? rd16(cdb, 7) : cdb[4]);
}

/** GET CONFIGURATION: the CD-ROM profile (0008h; current with a medium), features 0000h profile list, 0001h core (ATAPI), 0003h removable medium. */
function getConfiguration(cd: CdDrive, cdb: Uint8Array, out: Uint8Array): number {
  const rt = cdb[1] & 3, start = rd16(cdb, 2), current = cd.media ? 1 : 0;
  out.fill(0, 0, 8);
  be16(out, 6, current ? 0x0008 : 0);
  let n = 8;
  const feature = (code: number, version: number, data: number[]): void => {
    if (code < start || (rt === 2 && code !== start)) return;
    be16(out, n, code);
    out[n + 2] = (version << 2) | 0x03; // persistent, current
    out[n + 3] = data.length;
    out.set(data, n + 4);
    n += 4 + data.length;
  };
  feature(0x0000, 0, [0x00, 0x08, current, 0x00]); // one profile: CD-ROM
  feature(0x0001, 1, [0, 0, 0, 2, 0, 0, 0, 0]); // physical interface: ATAPI
  feature(0x0003, 0, [(1 << 5) | (1 << 3) | 1, 0, 0, 0]); // tray, eject, lock
  be32(out, 0, n - 4);
  return Math.min(n, rd16(cdb, 7));
}

/** READ TOC/PMA/ATIP format 0 (track 1, data, and the lead-out) and 1 (one session), in LBA or MSF. */
function readToc(cd: CdDrive, cdb: Uint8Array, s: PacketState, unit: number, out: Uint8Array): number {
  // The format is in byte 2 (MMC) or, from older drivers (SFF-8020, Linux's sr for the last session), in byte 9's top bits.
  const msf = (cdb[1] & 2) !== 0, format = (cdb[2] & 0x0f) || cdb[9] >> 6, track = cdb[6];
  const address = (at: number, lba: number): void => {
    if (!msf) { be32(out, at, lba); return; }
    const f = lba + 150;
    out[at] = 0; out[at + 1] = Math.floor(f / 4500); out[at + 2] = Math.floor(f / 75) % 60; out[at + 3] = f % 75;
  };
  const entry = (at: number, number: number, lba: number): void => {
    out[at] = 0; out[at + 1] = 0x14; out[at + 2] = number; out[at + 3] = 0; // ADR 1, data track
    address(at + 4, lba);
  };
  out[2] = 1; out[3] = 1; // first and last track (or session)
  let n = 4;
  if (format === 0) {
    if (track > 1 && track !== 0xaa) return check(s, unit, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    if (track <= 1) { entry(n, 1, 0); n += 8; }
    entry(n, 0xaa, cd.sectors); n += 8;
  } else if (format === 1) {
    entry(n, 1, 0); n += 8;
  } else {
    return check(s, unit, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
  }
  be16(out, 0, n - 2);
  return Math.min(n, rd16(cdb, 7));
}
