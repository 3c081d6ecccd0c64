#!/usr/bin/env node
// Development aid (not a test; the project's tests never need QEMU): boots
// tinyos.elf under qemu-system-x86_64, types each command after the prompt,
// and prints the transcript and QEMU's exit status.
// Usage: node guests/tinyos/qemu-session.mjs [--append "timer=pit"] [--qemu "-cpu qemu64,-apic"] cmd1 cmd2 ...
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROMPT = 'tinyos> ';
const args = process.argv.slice(2);
const extra = [];
const commands = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--append') extra.push('-append', args[++i]);
  else if (args[i] === '--qemu') extra.push(...args[++i].split(' '));
  else commands.push(args[i]);
}
const image = join(dirname(fileURLToPath(import.meta.url)), 'tinyos.elf');
const qemu = spawn('qemu-system-x86_64', [
  '-nographic', '-no-reboot', '-m', '128', '-kernel', image,
  '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...extra,
]);
let out = '';
let seen = 0;
const timer = setTimeout(() => { console.log('\n[timeout]'); qemu.kill(); }, 60_000);
qemu.stdout.on('data', (d) => {
  out += d.toString('latin1');
  process.stdout.write(d);
  // each new prompt releases the next command
  while (out.indexOf(PROMPT, seen) >= 0) {
    seen = out.indexOf(PROMPT, seen) + PROMPT.length;
    const next = commands.shift();
    if (next === undefined) { qemu.kill(); break; }
    setTimeout(() => qemu.stdin.write(next.replace(/\\x([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))) + '\r'), 50);
  }
});
qemu.stderr.on('data', (d) => process.stderr.write(d));
qemu.on('exit', (code, sig) => { clearTimeout(timer); console.log(`\n[qemu exit status ${code}${sig ? ' ' + sig : ''}]`); });
