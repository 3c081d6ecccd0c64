import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Spawn `bin/emu.js` with piped stdio; resolves on exit with everything printed. */
function emu(args: string[], script: (write: (s: string) => void, output: () => string) => Promise<void>) {
  const child = spawn(process.execPath, ['bin/emu.js', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const started = performance.now();
  return (async () => {
    await script((s) => child.stdin.write(s), () => out);
    const status = await Promise.race([exited, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`emu did not exit; output:\n${out}`)), 30_000))]);
    return { status, out, ms: performance.now() - started };
  })().finally(() => child.kill());
}

async function waitFor(output: () => string, text: string, ms: number): Promise<number> {
  const t0 = performance.now();
  while (!output().includes(text)) {
    if (performance.now() - t0 > ms) throw new Error(`'${text}' did not appear within ${ms} ms; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
}

describe('emu boots the built-in guest (the README quick start)', () => {
  it('no image -> the tinyos banner and prompt on stdout; `poweroff 3` -> isa-debug-exit status 7', async () => {
    const r = await emu(['--accel=interp'], async (write, output) => {
      await waitFor(output, 'tinyos> ', 20_000);
      write('poweroff 3\r');
    });
    expect(r.out).toContain('tinyos 1.0: a small 64-bit teaching OS');
    expect(r.status).toBe(7);
  });

  it('Ctrl-A x quits with status 0 while the guest is idle at its prompt', async () => {
    const r = await emu(['--accel=interp'], async (write, output) => {
      await waitFor(output, 'tinyos> ', 20_000);
      write('\x01x');
    });
    expect(r.status).toBe(0);
  });

  it('-serial none: the guest runs but nothing reaches stdout', async () => {
    const r = await emu(['--accel=interp', '-serial', 'none'], async (write) => {
      await new Promise((res) => setTimeout(res, 1500));
      write('\x01x');
    });
    expect(r.out).not.toContain('tinyos');
    expect(r.status).toBe(0);
  });
});
