// The page's JIT view: a list of the blocks the JIT compiled (refreshed with the live
// panel) and an address field; Show puts the chosen block's x86 instructions beside the
// wasm text it became (what `emu --jit-dump=ADDR` prints) in the card.

import type { JitBlockInfo } from './protocol.js';

/** The worker's JIT calls, as comlink gives them (protocol.ts MachineWorker). */
type Remote = { jitBlocks(): Promise<JitBlockInfo[]>; jitDump(address: number): Promise<string> };

const hex = (v: number): string => `0x${v.toString(16)}`;

export class JitView {
  private readonly list: HTMLSelectElement;
  private readonly addr: HTMLInputElement;
  private readonly out: HTMLElement;
  private shown = '';

  constructor(private readonly worker: Remote, byId: (id: string) => HTMLElement) {
    this.list = byId('jit-blocks') as HTMLSelectElement;
    this.addr = byId('jit-addr') as HTMLInputElement;
    this.out = byId('jit-dump');
    (byId('jit-show') as HTMLButtonElement).addEventListener('click', () => { void this.show(); });
    this.addr.addEventListener('keydown', (e) => { if (e.key === 'Enter') void this.show(); });
    this.list.addEventListener('change', () => { this.addr.value = ''; void this.show(); });
  }

  /** Refill the list of compiled blocks (not while the user has it open). */
  async refresh(): Promise<void> {
    if (document.activeElement === this.list) return;
    const blocks = await this.worker.jitBlocks();
    const key = blocks.map((b) => b.phys).join(',');
    if (key === this.shown) return;
    this.shown = key;
    const keep = this.list.value;
    this.list.replaceChildren();
    if (blocks.length === 0) this.list.add(new Option('no compiled blocks yet', ''));
    for (const b of blocks) this.list.add(new Option(`${hex(b.phys)} · ${b.instructions} instructions, ${b.bytes} bytes`, String(b.phys)));
    if (blocks.some((b) => String(b.phys) === keep)) this.list.value = keep;
  }

  /** The address typed (hex, 0x optional), else the block chosen in the list. */
  private async show(): Promise<void> {
    const typed = this.addr.value.trim().replace(/^0x/i, '');
    let at: number;
    if (typed !== '') {
      at = /^[0-9a-f]{1,13}$/i.test(typed) ? parseInt(typed, 16) : NaN;
      if (Number.isNaN(at)) { this.out.textContent = `${this.addr.value}: not a hex address (e.g. 0x100000)`; return; }
    } else if (this.list.value !== '') at = Number(this.list.value);
    else { this.out.textContent = 'the JIT has compiled nothing yet: run the guest on the JIT a moment'; return; }
    this.out.textContent = await this.worker.jitDump(at);
  }
}
