// Two connected in-memory ByteChannels, for migrations inside one process.

import type { ByteChannel } from '../../machine/migrate.js';

/** Two connected in-memory channels. */
export function channelPair(): [ByteChannel, ByteChannel] {
  const make = (inbox: Uint8Array[], wake: { f: (() => void) | null }, peer: { inbox: Uint8Array[]; wake: { f: (() => void) | null }; closed: { v: boolean } }, closed: { v: boolean }): ByteChannel => ({
    async write(b) { if (peer.closed.v || closed.v) throw new Error('closed'); peer.inbox.push(b.slice()); peer.wake.f?.(); await new Promise((r) => setImmediate(r)); },
    async read() {
      while (inbox.length === 0 && !closed.v) await new Promise<void>((r) => { wake.f = r; });
      return inbox.shift() ?? null;
    },
    close() { closed.v = true; wake.f?.(); peer.closed.v = true; peer.wake.f?.(); },
  });
  const a = { inbox: [] as Uint8Array[], wake: { f: null as (() => void) | null }, closed: { v: false } };
  const b = { inbox: [] as Uint8Array[], wake: { f: null as (() => void) | null }, closed: { v: false } };
  return [make(a.inbox, a.wake, b, a.closed), make(b.inbox, b.wake, a, b.closed)];
}
