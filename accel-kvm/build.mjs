// Builds the KVM addon (accel-kvm/build/Release/kvm.node) during `npm install`.
// Never fails the install: where the addon cannot build, the reason is written
// to accel-kvm/build/unavailable.txt and `--accel=kvm` reports it.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, 'build');
const reasonFile = join(buildDir, 'unavailable.txt');

function giveUp(reason) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(reasonFile, reason + '\n');
  console.log(`emu: KVM addon not built (${reason}); --accel=interp and --accel=jit still work`);
  process.exit(0);
}

if (process.platform !== 'linux' || (process.arch !== 'x64')) {
  giveUp(`KVM needs Linux on x86-64, this is ${process.platform}/${process.arch}`);
}

let gyp;
try {
  gyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
} catch {
  giveUp('node-gyp is not installed');
}

// Node's headers: use the ones the system installed (nothing is downloaded).
// A distribution's nodejs package puts them under /usr/include/node.
const args = [gyp, 'rebuild', '--directory', here];
const nodedirs = [process.env.npm_config_nodedir, '/usr', join(dirname(process.execPath), '..')].filter(Boolean);
const nodedir = nodedirs.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
if (!nodedir) giveUp('Node.js headers not found (install the nodejs headers, e.g. Debian package libnode-dev)');
args.push(`--nodedir=${nodedir}`);

rmSync(reasonFile, { force: true });
const quiet = !process.env.EMU_VERBOSE_BUILD;
const r = spawnSync(process.execPath, args, { stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
if (r.status !== 0) {
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const firstError = out.split('\n').find((l) => /error|not found/i.test(l))?.trim() ?? `node-gyp exited with ${r.status}`;
  giveUp(`build failed: ${firstError.slice(0, 200)}`);
}
console.log('emu: KVM addon built (accel-kvm/build/Release/kvm.node)');
