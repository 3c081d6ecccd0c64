// Asynchronous compilation for large modules (JitOptions.asyncBytes): the module is
// compiled and instantiated by WebAssembly.instantiate off the run loop (a browser's
// main thread refuses synchronous compiles of more than a few KiB, and a worker's run
// loop would stall on them), and its blocks stay interpreted until the instance is
// ready. The run loop never waits for it.

/** The counters of JitCompiler.stats this file keeps. */
interface AsyncStats {
  stats: { jitAsyncModules: number; jitAsyncPending: number };
  /** Why the last asynchronous compile failed (a code-generator bug), or undefined. */
  asyncError?: string;
}

/** Compile and instantiate `bytes` with `imports` in the background; `ready` gets the instance. */
export function later(jit: AsyncStats, bytes: Uint8Array<ArrayBuffer>, imports: WebAssembly.Imports,
  ready: (inst: WebAssembly.Instance) => void): void {
  jit.stats.jitAsyncModules++;
  jit.stats.jitAsyncPending++;
  WebAssembly.instantiate(bytes, imports).then(({ instance }) => {
    jit.stats.jitAsyncPending--;
    ready(instance);
  }, (e: unknown) => {
    // The blocks stay interpreted; the failure is a defect to report, not a guest's problem.
    jit.stats.jitAsyncPending--;
    jit.asyncError = (e as Error).message ?? String(e);
  });
}
