// Runs the emu command in-process (cli/main.ts main()) with captured output, for the tests
// that check what a user sees: the exit status and every line printed.
import { PassThrough } from 'node:stream';
import { main } from '../../cli/main.js';

export async function emu(...argv: string[]): Promise<{ status: number; stderr: string; stdout: string }> {
  return emuTyping('', ...argv);
}

/** The same, with `typed` waiting on standard input as if typed at the console. */
export async function emuTyping(typed: string, ...argv: string[]): Promise<{ status: number; stderr: string; stdout: string }> {
  const stdin = new PassThrough(), stdout = new PassThrough(), stderr = new PassThrough();
  let out = '', err = '';
  stdout.on('data', (d) => { out += d; });
  stderr.on('data', (d) => { err += d; });
  if (typed) stdin.write(typed);
  const status = await main(argv, { stdin, stdout, stderr });
  return { status, stderr: err, stdout: out };
}
