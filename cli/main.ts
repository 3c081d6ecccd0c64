// The `emu` command line. (Placeholder until the machine lands: parses nothing yet.)
export async function main(_argv: string[]): Promise<number> {
  process.stderr.write('emu: no CPU backend is built yet\n');
  return 1;
}
