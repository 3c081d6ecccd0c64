// The virtio console on a host chardev, as a user spells it: -device virtconsole,chardev=ID
// with -chardev socket|stdio|file. A small guest (test/guests/virtio-echo.S) drives the
// console itself: it sends a greeting, waits for one line of host input and sends it back.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args.js';
import { emu, emuTyping } from '../cli/run-main.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

const dir = mkdtempSync(join(tmpdir(), 'emu-chardev-'));

describe('-chardev parsing', () => {
  it('takes stdio, file and socket (Unix and TCP) and ties virtconsole to one', () => {
    const o = parseArgs(['-device', 'virtio-serial-pci', '-device', 'virtconsole,chardev=c0', '-chardev', 'socket,id=c0,path=/tmp/x.sock,server=on,wait=off',
      '-chardev', 'socket,id=t,port=4555,server=on,wait=off', '-chardev', 'file,id=f,path=/tmp/out', '-chardev', 'stdio,id=s']);
    expect(o.io.virtioConsole).toBe(true);
    expect(o.io.consoleChardev).toBe('c0');
    expect(o.chardevs).toEqual([
      { id: 'c0', kind: 'unix', path: '/tmp/x.sock' }, { id: 't', kind: 'tcp', host: '127.0.0.1', port: 4555 },
      { id: 'f', kind: 'file', path: '/tmp/out' }, { id: 's', kind: 'stdio' },
    ]);
  });

  it('mistakes are one line naming the fix', () => {
    const err = (...a: string[]): string => { try { parseArgs(a); return ''; } catch (e) { return (e as Error).message; } };
    expect(err('-device', 'virtconsole,chardev=nope')).toBe('-device virtconsole,chardev=nope: no -chardev has id=nope; add e.g. -chardev socket,id=nope,path=/tmp/nope.sock,server=on,wait=off');
    expect(err('-chardev', 'socket,id=a,path=/tmp/a')).toBe('-chardev socket,id=a,path=/tmp/a: emu only listens; add server=on,wait=off and connect your client to it');
    expect(err('-chardev', 'socket,id=a,path=/tmp/a,server=on')).toBe('-chardev socket,id=a,path=/tmp/a,server=on: emu does not wait for a client before starting; add wait=off');
    expect(err('-chardev', 'pty,id=a')).toBe('-chardev pty: unsupported backend; emu takes stdio, file and socket');
    expect(err('-chardev', 'file,path=/tmp/a')).toBe('-chardev file,path=/tmp/a: needs id=NAME (then -device virtconsole,chardev=NAME)');
    expect(err('-chardev', 'stdio,id=a', '-chardev', 'stdio,id=b')).toBe('-chardev stdio,id=b: stdio is already taken by -chardev id=a');
  });
});

describe.skipIf(!hasToolchain())('virtio console on a -chardev (guest: test/guests/virtio-echo.S)', () => {
  const guest = join(dir, 'echo.bin');
  if (hasToolchain()) writeFileSync(guest, buildFlat(readFileSync(new URL('../guests/virtio-echo.S', import.meta.url), 'utf8'), 0x100000));
  const args = (chardev: string): string[] => ['-device', `loader,file=${guest},addr=0x100000`, '-serial', 'none', '-device', 'virtconsole,chardev=c0', '-chardev', chardev];

  it('socket: a client gets the guest\'s output and its line comes back', async () => {
    const path = join(dir, 'console.sock');
    const run = emu(...args(`socket,id=c0,path=${path},server=on,wait=off`));
    while (!existsSync(path)) await new Promise((r) => setTimeout(r, 20));
    let got = '';
    const sock = connect(path);
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (got === 'hello-from-guest\n') sock.write('ping-from-host\n');
    });
    const r = await run;
    sock.destroy();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(33);
    expect(got).toBe('hello-from-guest\nping-from-host\n');
    expect(existsSync(path)).toBe(false); // removed at exit
  });

  it('stdio: keystrokes go to the virtio console (typed before the driver is up: held in the device), output to stdout', async () => {
    const r = await emuTyping('typed-early\n', ...args('stdio,id=c0'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(33);
    expect(r.stdout).toBe('hello-from-guest\ntyped-early\n');
  });

  it('file: the guest\'s output lands in the file', async () => {
    const path = join(dir, 'out.txt');
    // No input on a file chardev: the guest waits for ever, so type nothing and stop it from outside.
    const r = emu(...args(`file,id=c0,path=${path}`));
    for (let i = 0; i < 200 && !(existsSync(path) && readFileSync(path, 'latin1').length > 0); i++) await new Promise((res) => setTimeout(res, 25));
    process.emit('SIGINT');
    const done = await r;
    expect(done.status).toBe(130);
    expect(readFileSync(path, 'latin1')).toBe('hello-from-guest\n');
  });
});
