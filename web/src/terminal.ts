// The serial console as an xterm.js terminal that fills its box: keystrokes
// become bytes for the guest's UART, guest bytes are drawn, and the visible
// text is readable from tests (window.__emu.screen()).

import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

const SCROLLBACK = 5000;

export interface SerialConsole {
  term: Terminal;
  /** Guest output. */
  write(bytes: Uint8Array): void;
  /** A line from emu itself (not the guest), dimmed so the two are told apart. */
  note(text: string, tone?: 'info' | 'warn' | 'error'): void;
  /** Start over (a new guest). */
  clear(): void;
  /** Every line of the buffer (scrollback included), trailing spaces trimmed. */
  text(): string;
}

const TONES = { info: '90', warn: '33', error: '31' } as const;

export function createConsole(host: HTMLElement, onInput: (bytes: Uint8Array) => void): SerialConsole {
  const term = new Terminal({
    fontFamily: "'DejaVu Sans Mono', 'JetBrains Mono', Menlo, Consolas, ui-monospace, monospace",
    fontSize: 14,
    lineHeight: 1.15,
    cursorBlink: true,
    scrollback: SCROLLBACK,
    // Guests usually send CRLF; a bare LF (a guest that forgets the CR) still starts a new line.
    convertEol: true,
    theme: {
      background: '#0a0e14',
      foreground: '#d6deeb',
      cursor: '#4cc2ff',
      selectionBackground: '#264f78',
      black: '#1c2430', brightBlack: '#5c6773',
      red: '#ff7b72', green: '#7ee787', yellow: '#f0b849', blue: '#4cc2ff',
      magenta: '#d2a8ff', cyan: '#56d4dd', white: '#d6deeb', brightWhite: '#ffffff',
    },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(host);
  const refit = (): void => {
    if (host.clientWidth > 0 && host.clientHeight > 0) fit.fit();
  };
  new ResizeObserver(refit).observe(host);
  refit();

  const encoder = new TextEncoder();
  term.onData((data) => onInput(encoder.encode(data)));

  // A guest stuck in a reset loop repeats the same note: count it on one line instead.
  let lastNote = '';
  let repeats = 0;
  // Whether the output so far ends a line (xterm parses writes later, so its cursor may lag).
  let atLineStart = true;
  return {
    term,
    write(bytes) {
      if (bytes.length === 0) return;
      lastNote = '';
      atLineStart = bytes[bytes.length - 1] === 0x0a;
      term.write(bytes);
    },
    note(text, tone = 'info') {
      const colour = `\x1b[${TONES[tone]}m`;
      if (text === lastNote) {
        repeats++;
        // Cursor up to the note's line, clear it, write it again with the count.
        term.write(`\x1b[1A\r\x1b[2K${colour}${text} (×${repeats})\x1b[0m\r\n`);
        return;
      }
      lastNote = text;
      repeats = 1;
      term.write(`${atLineStart ? '' : '\r\n'}${colour}${text}\x1b[0m\r\n`);
      atLineStart = true;
    },
    clear() {
      term.reset();
      lastNote = '';
      atLineStart = true;
    },
    text() {
      const buf = term.buffer.active;
      const lines: string[] = [];
      for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
      return lines.join('\n');
    },
  };
}
