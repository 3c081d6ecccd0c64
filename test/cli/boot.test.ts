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

  it('--accel=jit boots tinyos (the npm start path); Ctrl-A b moves the running guest to interp and back to jit, answering at each', async () => {
    const count = (text: string, what: string): number => text.split(what).length - 1;
    const VENDOR = 'cpu: vendor GenuineIntel';
    const r = await emu(['--accel=jit'], async (write, output) => {
      await waitFor(output, 'tinyos> ', 30_000);
      write('\x01s');
      await waitFor(output, 'backend jit,', 10_000);
      /** Ctrl-A b until `target` runs (kvm, where usable here, comes between), the guest answering `info` after each switch. */
      const switchTo = async (target: string): Promise<void> => {
        for (let i = 0; i < 3; i++) {
          const before = count(output(), 'emu: switched to ');
          write('\x01b');
          const t0 = performance.now();
          while (count(output(), 'emu: switched to ') === before) {
            if (performance.now() - t0 > 20_000) throw new Error(`Ctrl-A b: no switch; output:\n${output()}`);
            await new Promise((res) => setTimeout(res, 10));
          }
          // Typed again if no answer came in 15 s (one run in five here lost the line after a switch through kvm).
          const vendors = count(output(), VENDOR);
          let t1 = -Infinity;
          for (let tries = 0; count(output(), VENDOR) === vendors; await new Promise((res) => setTimeout(res, 10))) {
            if (performance.now() - t1 < 15_000) continue;
            if (tries++ === 3) throw new Error(`no answer to info after a switch; output:\n${output()}`);
            write('info\r');
            t1 = performance.now();
          }
          // The next switch waits for the prompt. (A kvm -> interp switch mid-output used to stall
          // the guest: an interrupt KVM had injected but not delivered was dropped. Fixed; switches
          // mid-output are test/kvm/switch-output.test.ts and test/machine/pending-event.test.ts.)
          for (const t2 = performance.now(); !output().trimEnd().endsWith('tinyos>'); await new Promise((res) => setTimeout(res, 10))) {
            if (performance.now() - t2 > 20_000) throw new Error(`no prompt after info; output:\n${output()}`);
          }
          if (output().trimEnd().split('emu: switched to ').pop()!.startsWith(target)) return;
        }
        throw new Error(`${target} never came up; output:\n${output()}`);
      };
      await switchTo('interp');
      await switchTo('jit');
      const stats = output().length;
      write('\x01s');
      await waitFor(() => output().slice(stats), 'jitInsns: ', 10_000);
      write('poweroff 3\r');
    });
    expect(r.out).toContain('tinyos 1.0: a small 64-bit teaching OS');
    expect(r.out).toMatch(/emu: switched to interp \(available: interp, jit/);
    expect(r.out).toMatch(/emu: switched to jit \(available: interp, jit/);
    // Ctrl-A s under jit at the end: the guest's code ran compiled.
    const last = r.out.slice(r.out.lastIndexOf('backend jit,'));
    expect(Number(/jitInsns: (\d+)/.exec(last)?.[1])).toBeGreaterThan(0);
    expect(r.status).toBe(7);
  }, 120_000);
});
