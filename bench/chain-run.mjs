// `npm run bench:chain [-- iterations]`: bundle bench/chain.ts as the CLI is bundled and run it:
// JIT regions chained through the jump cache against returning to the run loop, and the cost of
// one hop by tail call, nested call and a JS loop.
import { load } from './bundle.mjs';

const { main } = await load('bench/chain.ts', 'bench-chain');
main(Number(process.argv[2] ?? 2_000_000));
