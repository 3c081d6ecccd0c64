// Yielding to the host event loop between run-loop slices, in Node
// (setImmediate) and in browsers/workers (a MessageChannel round trip, which,
// unlike setTimeout(0), is not clamped to 4 ms).

type Resolve = () => void;

let channelYield: (() => Promise<void>) | null = null;

function makeChannelYield(): () => Promise<void> {
  const ch = new MessageChannel();
  const queue: Resolve[] = [];
  ch.port1.onmessage = () => { queue.shift()?.(); };
  return () => new Promise<void>((resolve) => {
    queue.push(resolve);
    ch.port2.postMessage(0);
  });
}

export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise<void>((resolve) => setImmediate(resolve));
  channelYield ??= makeChannelYield();
  return channelYield();
}
