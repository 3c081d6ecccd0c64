// Debian's kernel through the emu command itself (cli/main.ts main(), bundled into a child
// process as session.ts is): the options are the user's argv, the serial console is the
// command's standard output, and the commands are typed on its standard input at the first
// busybox prompt. For tests of what the CLI's options reach in the guest (-fw_cfg).
import { PassThrough } from 'node:stream';
import { main } from '../../cli/main.js';
import { PROMPT } from './session.js';

export interface CliSessionResult {
  /** The command's standard output: the guest's serial console. */
  stdout: string;
  stderr: string;
  status: number;
  ms: number;
}

/**
 * Run `emu argv`, typing `commands` at the first prompt (again at a new prompt if busybox's
 * shell dropped the line while it asked the terminal for the cursor position, that is when
 * `startedWhen` has not appeared since; up to 3 times). The commands should end the run
 * (poweroff).
 */
export async function runCliSession(argv: string[], commands: string, startedWhen: string): Promise<CliSessionResult> {
  const stdin = new PassThrough(), stdout = new PassThrough(), stderr = new PassThrough();
  let out = '', err = '', typed = 0, typedAt = 0;
  const echo = process.env.EMU_SESSION_ECHO === '1'; // watch a long run: the console on stderr
  stdout.on('data', (d: Buffer) => {
    if (echo) process.stderr.write(d);
    out += d.toString('latin1');
    // Output comes in chunks: the prompt may arrive with busybox's cursor-position query (ESC [6n) after it.
    if (typed < 3 && out.includes(PROMPT, typedAt) && (typed === 0 || !out.includes(startedWhen, typedAt))) {
      typed++;
      typedAt = out.length;
      stdin.write(commands);
    }
  });
  stderr.on('data', (d: Buffer) => { err += d.toString('latin1'); });
  const t0 = performance.now();
  const status = await main(argv, { stdin, stdout, stderr });
  return { stdout: out, stderr: err, status, ms: performance.now() - t0 };
}

/** Child-process entry: argv = JSON of [argv, commands, startedWhen]; prints the result as JSON on the last line. */
export async function runCliSessionCli(argv: string[]): Promise<void> {
  const [args, commands, startedWhen] = JSON.parse(argv[0]) as [string[], string, string];
  const r = await runCliSession(args, commands, startedWhen);
  process.stdout.write(`\n${JSON.stringify(r)}\n`);
  process.exit(0);
}
