// `node bench/kvm-lockstep-probe.mjs MODE [programs]`: which x87/SSE forms this KVM host single-steps
// (see bench/kvm-lockstep-probe.ts); FULL=1 tries every generated form, not only KVM's emulated subset.
import { load } from './bundle.mjs';

const { probe } = await load('bench/kvm-lockstep-probe.ts', 'bench-kvm-lockstep-probe');
const r = probe(Number(process.argv[2] ?? 64), Number(process.argv[3] ?? 1000), process.env.FULL === '1');
for (const [k, v] of [...r].sort()) console.log(k.padEnd(16), v.slice(0, 200));
