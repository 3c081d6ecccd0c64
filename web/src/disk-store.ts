// Disk images kept in this browser (IndexedDB), so a guest's writes survive a reload.
// An image is stored once, whole, when the user attaches it with "keep" (in 64 KiB
// chunks keyed [disk, chunk]); afterwards only the chunks the guest wrote are stored
// again, each time the guest flushes (FLUSH CACHE, virtio-blk FLUSH): what it flushed
// is what survives. The page lists, loads and discards kept images; the worker's
// KeptDisk does the saving. Both sides open the same database.

import { MemoryDisk } from '../../devices/block.js';

const DB_NAME = 'emu-disks', DB_VERSION = 1, META = 'disks', CHUNKS = 'chunks';
export const CHUNK = 64 * 1024;

export interface KeptDiskInfo {
  /** The key (the image's file name). */
  key: string;
  size: number;
  interface: 'virtio' | 'ide';
  /** Date.now() of the last save. */
  savedAt: number;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((ok, fail) => {
    const r = indexedDB.open(DB_NAME, DB_VERSION);
    r.onupgradeneeded = () => {
      r.result.createObjectStore(META, { keyPath: 'key' });
      r.result.createObjectStore(CHUNKS);
    };
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(new Error(`IndexedDB: ${r.error?.message ?? 'cannot open'}`));
  });
}

/** Run `fn` in one transaction over both stores; resolves when it commits. */
async function transact<T>(mode: IDBTransactionMode, fn: (meta: IDBObjectStore, chunks: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await openDb();
  try {
    return await new Promise<T | undefined>((ok, fail) => {
      const tx = db.transaction([META, CHUNKS], mode);
      const r = fn(tx.objectStore(META), tx.objectStore(CHUNKS));
      tx.oncomplete = () => ok(r ? r.result : undefined);
      tx.onerror = tx.onabort = () => fail(new Error(`IndexedDB: ${tx.error?.message ?? 'transaction failed'}`));
    });
  } finally {
    db.close();
  }
}

const chunkRange = (key: string): IDBKeyRange => IDBKeyRange.bound([key, 0], [key, Number.MAX_SAFE_INTEGER]);

export async function listKept(): Promise<KeptDiskInfo[]> {
  return (await transact('readonly', (meta) => meta.getAll() as IDBRequest<KeptDiskInfo[]>)) ?? [];
}

/** Store a whole image under `info.key`, replacing one kept under that key. */
export async function keepImage(info: Omit<KeptDiskInfo, 'savedAt'>, bytes: Uint8Array): Promise<void> {
  await transact('readwrite', (meta, chunks) => {
    chunks.delete(chunkRange(info.key));
    for (let i = 0; i * CHUNK < bytes.length; i++) chunks.put(bytes.slice(i * CHUNK, (i + 1) * CHUNK), [info.key, i]);
    meta.put({ ...info, savedAt: Date.now() });
  });
}

/** A kept image, as last saved. */
export async function loadKept(key: string): Promise<{ info: KeptDiskInfo; bytes: Uint8Array }> {
  let info: KeptDiskInfo | undefined;
  let parts: Uint8Array[] = [];
  await transact('readonly', (meta, chunks) => {
    const m = meta.get(key);
    m.onsuccess = () => { info = m.result as KeptDiskInfo | undefined; };
    const c = chunks.getAll(chunkRange(key));
    c.onsuccess = () => { parts = c.result as Uint8Array[]; };
  });
  if (!info) throw new Error(`no disk '${key}' is kept in this browser`);
  const bytes = new Uint8Array(info.size);
  parts.forEach((p, i) => bytes.set(p.subarray(0, Math.max(0, Math.min(p.length, info!.size - i * CHUNK))), i * CHUNK));
  return { info, bytes };
}

export async function discardKept(key: string): Promise<void> {
  await transact('readwrite', (meta, chunks) => {
    meta.delete(key);
    chunks.delete(chunkRange(key));
  });
}

/** Store these chunks of a kept image and stamp its save time. */
async function saveChunks(key: string, parts: [number, Uint8Array][]): Promise<void> {
  await transact('readwrite', (meta, chunks) => {
    for (const [i, b] of parts) chunks.put(b, [key, i]);
    const m = meta.get(key);
    m.onsuccess = () => { if (m.result) meta.put({ ...(m.result as KeptDiskInfo), savedAt: Date.now() }); };
  });
}

/** An in-memory image whose flushed writes also go to IndexedDB (the worker's disk when "keep" is on). */
export class KeptDisk extends MemoryDisk {
  private readonly dirty = new Set<number>();
  private saving: Promise<void> = Promise.resolve();

  constructor(bytes: Uint8Array, readonly key: string, private readonly onError: (message: string) => void) {
    super(bytes);
  }

  override write(offset: number, src: Uint8Array): void {
    super.write(offset, src);
    const last = Math.floor((offset + Math.max(src.length, 1) - 1) / CHUNK);
    for (let c = Math.floor(offset / CHUNK); c <= last; c++) this.dirty.add(c);
  }

  /** The written chunks as they are now, stored in order after any save still running. */
  override flush(): void {
    super.flush();
    if (this.dirty.size === 0) return;
    const parts: [number, Uint8Array][] = [...this.dirty].map((i) => [i, this.bytes.slice(i * CHUNK, (i + 1) * CHUNK)]);
    this.dirty.clear();
    this.saving = this.saving.then(() => saveChunks(this.key, parts)).catch((e: Error) => this.onError(`could not keep the disk's writes: ${e.message}`));
  }
}
