// Boot-time benchmark: process start -> the tinyos prompt, for `node bin/emu.js`
// (what `npm start` runs after its bundle step), under each available backend.
// Usage: node bench/boot.mjs [runs]   (npm run build first)
import { spawn } from 'node:child_process';

const runs = Number(process.argv[2] ?? 5);

function bootOnce(accel) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['bin/emu.js', `--accel=${accel}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${accel}: no prompt in 30 s`)); }, 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('tinyos> ')) {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        child.stdin.write('\x01x');
        child.on('exit', () => resolve(ms));
      }
    });
    child.on('error', reject);
  });
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const accel of ['interp']) {
  const times = [];
  for (let i = 0; i < runs; i++) times.push(await bootOnce(accel));
  console.log(`boot to tinyos prompt (${accel}): median ${median(times).toFixed(0)} ms over ${runs} runs [${times.map((t) => t.toFixed(0)).join(', ')}]`);
}
