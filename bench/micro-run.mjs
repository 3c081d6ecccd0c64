// `npm run bench:micro`: bundle bench/micro.ts (as the CLI is bundled) and run it with the
// `benchmark` package (loaded here: it is CommonJS and finds its own dependencies).
import { createRequire } from 'node:module';
import { load } from './bundle.mjs';

const Benchmark = createRequire(import.meta.url)('benchmark');
const { main } = await load('bench/micro.ts', 'bench-micro');
main(Benchmark);
