// The host process never dies with a stack trace (issue 18 items 2 and 4): a bad -serial
// file is one line and status 1; a reader that closes stdout (`emu ... | head`) stops emu
// quietly, as QEMU does; Ctrl-A b says which backends this host has and why not the others.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bootRecipe, Machine } from '../../machine/index.js';
import { cycleBackend } from '../../cli/main.js';
import { emu } from './run-main.js';

describe('-serial file: mistakes are one line and status 1', () => {
  it('a directory that does not exist', async () => {
    const r = await emu('-serial', 'file:/nonexistent/dir/x');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('emu: -serial file:/nonexistent/dir/x: cannot write there (its directory does not exist)\n');
  });

  it('a directory given as the file', async () => {
    const r = await emu('-serial', 'file:/tmp');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('emu: -serial file:/tmp: cannot write there (that is a directory; name a file)\n');
  });
});

describe('stdout closed by its reader', () => {
  it('emu -nographic | head -c 100: emu stops quietly with status 0 once the pipe is gone', async () => {
    const child = spawn(process.execPath, ['bin/emu.js', '-nographic', '--accel=interp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '', got = 0;
    child.stderr.on('data', (d) => { err += d; });
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= 100) { child.stdout.destroy(); resolve(); }
    }));
    // The banner has more to say than 100 bytes, and the prompt answers typing: the next write hits EPIPE.
    child.stdin.write('help\r');
    const status = await Promise.race([exited, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`emu kept running; stderr: ${err}`)), 30_000))])
      .finally(() => child.kill('SIGKILL'));
    expect(err).toBe('');
    expect(status).toBe(0);
  }, 40_000);
});

describe('Ctrl-A b', () => {
  const boot = (): Machine => {
    const m = new Machine({ memory: 16 << 20, accel: 'interp', noReboot: true });
    m.boot(bootRecipe({ raw: [{ file: { name: 'hlt.bin', bytes: Uint8Array.of(0xf4) }, addr: 0x7c00 }] }));
    return m;
  };

  it('switches to the next backend and names the available ones and why the others are not', () => {
    const m = boot();
    const line = cycleBackend(m);
    expect(line).toMatch(/^emu: switched to jit \(available: interp, jit(, kvm)?(; kvm: .+)?\)$/);
    expect(m.backend.name).toBe('jit');
    m.destroy();
  });

  it('with one usable backend it says so, with the reason for each other one', () => {
    const m = boot();
    const line = cycleBackend(m, ['interp'], (n) => (n === 'jit' ? 'disabled for this test' : '/dev/kvm is missing'));
    expect(line).toBe('emu: interp is the only backend available here; jit: disabled for this test; kvm: /dev/kvm is missing');
    expect(m.backend.name).toBe('interp');
    m.destroy();
  });
});
