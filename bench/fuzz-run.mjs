// `npm run fuzz [-- --count N --seed S --modes real,long64 --budget B --runs R]`: the long
// random-stream run (test/fuzz/streams.ts), bundled like the CLI; prints the counts and every
// problem with its seed. Exit status 1 if there was a problem.
import { load } from './bundle.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const { fuzz, formatReport } = await load('test/fuzz/streams.ts', 'fuzz-streams');
const count = Number(opt('count', 200_000)), seed = Number(opt('seed', 1));
const modes = opt('modes', undefined)?.split(',');
const chunk = 10_000, t0 = performance.now();
let report;
for (let done = 0; done < count; done += chunk) {
  const r = fuzz({ seed: seed + done, count: Math.min(chunk, count - done), modes, budget: Number(opt('budget', 20_000)), runs: Number(opt('runs', 8)) });
  if (!report) report = r;
  else {
    for (const k of ['streams', 'runs', 'instructions', 'faults', 'faultStorms', 'repPauses']) report[k] += r[k];
    for (const [k, v] of Object.entries(r.exits)) report.exits[k] = (report.exits[k] ?? 0) + v;
    if (r.slowestRunMs > report.slowestRunMs) { report.slowestRunMs = r.slowestRunMs; report.slowestSeed = r.slowestSeed; }
    report.problems.push(...r.problems);
  }
  process.stderr.write(`\r${done + r.streams} / ${count} streams, ${report.problems.length} problems, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
process.stderr.write('\n');
console.log(`seeds ${seed}..${seed + count - 1}, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log(formatReport(report));
process.exitCode = report.problems.length > 0 ? 1 : 0;
