// The QEMU Machine Protocol (docs/interop/qmp-spec.rst) over any byte stream:
// the greeting, capabilities negotiation, commands answered in order with
// their "id", errors as {"error": {"class", "desc"}}, and asynchronous events
// with timestamps. The commands act on a VmControl.

import { placeOf } from '../cpu/topology.js';
import { ControlError, VmControl } from './vm-control.js';
import { JobError } from './qmp-jobs.js';
import { SnapshotError } from './snapshot-format.js';

type Json = Record<string, unknown>;

/** Splits a byte stream into JSON texts (QMP does not require newlines between them). */
export class JsonSplitter {
  private text = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  /** Feed text; returns the complete top-level JSON values it finishes. */
  push(chunk: string): string[] {
    this.text += chunk;
    const out: string[] = [];
    for (let i = this.scanned; i < this.text.length; i++) {
      const c = this.text[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') { if (this.depth++ === 0) this.start = i; }
      else if ((c === '}' || c === ']') && this.depth > 0 && --this.depth === 0) {
        out.push(this.text.slice(this.start, i + 1));
        this.text = this.text.slice(i + 1);
        i = -1;
      }
    }
    if (this.depth === 0 && !this.inString) this.text = this.text.trimStart();
    this.scanned = this.text.length;
    return out;
  }
}

const EMU_VERSION = { qemu: { major: 8, minor: 2, micro: 0 }, package: 'emu' };

function error(cls: string, desc: string): Json {
  return { error: { class: cls, desc } };
}

/** One client connection. `send` writes one JSON object (the transport adds CRLF). */
export class QmpSession {
  private negotiated = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly splitter = new JsonSplitter();
  private closed = false;

  constructor(private readonly ctl: VmControl, private readonly send: (obj: Json) => void) {
    send({ QMP: { version: EMU_VERSION, capabilities: ['oob'] } });
    ctl.onEvent((e) => {
      if (!this.negotiated || this.closed) return;
      const now = Date.now();
      send({ event: e.event, data: e.data ?? {}, timestamp: { seconds: Math.floor(now / 1000), microseconds: (now % 1000) * 1000 } });
    });
  }

  close(): void { this.closed = true; }

  /** Bytes from the client; commands are executed one at a time, in order. */
  receive(text: string): void {
    for (const json of this.splitter.push(text)) {
      this.queue = this.queue.then(() => this.handle(json));
    }
  }

  private async handle(text: string): Promise<void> {
    let req: Json;
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      req = v as Json;
    } catch {
      this.send(error('GenericError', 'JSON parse error'));
      return;
    }
    const id = req.id;
    const reply = (r: Json): void => this.send(id === undefined ? r : { ...r, id });
    const cmd = req.execute ?? req['exec-oob'];
    if (typeof cmd !== 'string') { reply(error('GenericError', "QMP input lacks member 'execute'")); return; }
    const args = (req.arguments ?? {}) as Json;
    if (typeof args !== 'object' || Array.isArray(args)) { reply(error('GenericError', "QMP input member 'arguments' must be an object")); return; }
    if (!this.negotiated && cmd !== 'qmp_capabilities') {
      reply(error('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'"));
      return;
    }
    try {
      const ret = await this.execute(cmd, args);
      if (ret === undefined) reply(error('CommandNotFound', `The command ${cmd} has not been found`));
      else reply({ return: ret });
    } catch (e) {
      if (e instanceof ControlError || e instanceof SnapshotError || e instanceof JobError) reply(error('GenericError', e.message));
      else reply(error('GenericError', `${cmd} failed: ${(e as Error).message}`));
    }
  }

  /** The command's return value, or undefined if there is no such command. */
  private async execute(cmd: string, args: Json): Promise<unknown> {
    const ctl = this.ctl;
    const str = (name: string): string => {
      const v = args[name];
      if (typeof v !== 'string') throw new ControlError(`Parameter '${name}' is missing or not a string`);
      return v;
    };
    switch (cmd) {
      case 'qmp_capabilities':
        if (this.negotiated) throw new ControlError('Capabilities negotiation is already complete, command ignored');
        this.negotiated = true;
        return {};
      case 'query-version': return EMU_VERSION;
      case 'query-commands':
        return ['qmp_capabilities', 'query-version', 'query-commands', 'query-status', 'stop', 'cont', 'system_reset', 'system_powerdown',
          'quit', 'query-cpus-fast', 'migrate', 'migrate-incoming', 'query-migrate', 'migrate_cancel', 'migrate-set-parameters',
          'query-migrate-parameters', 'snapshot-save', 'snapshot-load', 'snapshot-delete', 'query-jobs', 'job-dismiss',
          'eject', 'blockdev-change-medium', 'change', 'human-monitor-command'].map((name) => ({ name }));
      case 'query-status': return { status: ctl.status, singlestep: false, running: ctl.running };
      case 'stop': ctl.stop(); return {};
      case 'cont': ctl.cont(); return {};
      case 'system_reset': ctl.reset(); return {};
      case 'system_powerdown': ctl.powerdown(); return {};
      case 'quit': setTimeout(() => ctl.quit(), 0); return {};
      case 'query-cpus-fast': return queryCpusFast(ctl);
      case 'migrate': {
        const uri = str('uri');
        // Like QEMU, the command returns at once; progress is query-migrate and MIGRATION events.
        const done = ctl.migrate(uri);
        done.catch(() => {});
        await Promise.race([done, Promise.resolve()]);
        return {};
      }
      case 'migrate-incoming': {
        if (ctl.status !== 'inmigrate') throw new ControlError("The incoming migration has not been requested: start emu with '-incoming defer'");
        const p = ctl.incoming(str('uri'));
        p.catch(() => {});
        await Promise.race([p, Promise.resolve()]); // a refusal before it waits is this command's error
        return {};
      }
      case 'query-migrate': return queryMigrate(ctl);
      case 'migrate_cancel': ctl.cancelMigration(); return {};
      case 'migrate-set-parameters': {
        const d = args['downtime-limit'], bw = args['max-bandwidth'];
        if (d !== undefined) { if (typeof d !== 'number' || d < 0) throw new ControlError("Parameter 'downtime-limit' expects a number of milliseconds"); ctl.params.downtimeLimitMs = d; }
        if (bw !== undefined) { if (typeof bw !== 'number' || bw < 0) throw new ControlError("Parameter 'max-bandwidth' expects bytes per second"); ctl.params.maxBandwidth = bw; }
        return {};
      }
      case 'query-migrate-parameters': return { 'downtime-limit': ctl.params.downtimeLimitMs, 'max-bandwidth': ctl.params.maxBandwidth };
      // QEMU's job-based spellings (job-id, tag, vmstate, devices): progress is JOB_STATUS_CHANGE and query-jobs.
      case 'snapshot-save': case 'snapshot-load': case 'snapshot-delete': {
        const id = str('job-id'), path = snapshotPath(str('tag'));
        for (const name of cmd === 'snapshot-delete' ? [] : ['vmstate']) if (args[name] !== undefined && typeof args[name] !== 'string') throw new ControlError(`Parameter '${name}' expects a string`);
        if (args.devices !== undefined && !Array.isArray(args.devices)) throw new ControlError("Parameter 'devices' expects an array of node names");
        const work = cmd === 'snapshot-save' ? () => ctl.saveSnapshotFile(path).then(() => {})
          : cmd === 'snapshot-load' ? () => ctl.loadSnapshotFile(path) : () => ctl.removeSnapshotFile(path);
        ctl.jobs.start(id, cmd, work).catch(() => {});
        return {};
      }
      // Removable media (machine/media.ts): the drive by QEMU's name (ide1-cd0) or its -drive id.
      case 'eject': {
        if (args.force !== undefined && typeof args.force !== 'boolean') throw new ControlError("Parameter 'force' expects a boolean");
        ctl.eject(driveArg(args), args.force === true);
        return {};
      }
      case 'blockdev-change-medium': case 'change': {
        const file = str(cmd === 'change' ? 'target' : 'filename'), format = args[cmd === 'change' ? 'arg' : 'format'];
        if (format !== undefined && format !== 'raw') throw new ControlError(`emu opens raw images only (format '${String(format)}')`);
        ctl.changeMedium(driveArg(args), file);
        return {};
      }
      case 'human-monitor-command': return humanMonitorCommand(ctl, str('command-line'));
      case 'query-jobs': return ctl.jobs.query();
      case 'job-dismiss': ctl.jobs.dismiss(str('id')); return {};
      default: return undefined;
    }
  }
}

/** The drive a media command names: `device` (QEMU's block name, ide1-cd0) or `id` (the -drive id). */
function driveArg(args: Json): string {
  const v = args.device ?? args.id;
  if (typeof v !== 'string') throw new ControlError("Parameter 'device' (or 'id') is missing or not a string");
  return v;
}

/** HMP through QMP, for the media commands: `change DEVICE FILE [raw]` and `eject [-f] DEVICE`. Errors are the output, as HMP prints them. */
function humanMonitorCommand(ctl: VmControl, line: string): string {
  const words = line.trim().split(/\s+/);
  try {
    if (words[0] === 'change' && (words.length === 3 || (words.length === 4 && words[3] === 'raw'))) ctl.changeMedium(words[1], words[2]);
    else if (words[0] === 'eject' && (words.length === 2 || (words.length === 3 && words[1] === '-f'))) ctl.eject(words[words.length - 1], words.length === 3);
    else if (words[0] === 'change' || words[0] === 'eject') return `usage: ${words[0] === 'change' ? 'change DEVICE FILE [raw]' : 'eject [-f] DEVICE'}\r\n`;
    else return `unknown command: '${words[0]}' (emu's monitor has change and eject)\r\n`;
  } catch (e) {
    if (e instanceof ControlError) return `${e.message}\r\n`;
    throw e;
  }
  return '';
}

/** snapshot-save/-load/-delete keep each tag in its own file: emu has no qcow2 to hold internal snapshots. */
export function snapshotPath(tag: string): string {
  if (!/^[\w.-]+$/.test(tag)) throw new ControlError(`snapshot tag '${tag}': use letters, digits, '.', '-' and '_'`);
  return `${tag}.emusnap`;
}

/** Every vCPU as QEMU's CpuInfoFast lists it. All of them run on emu's one thread, so each names it. */
function queryCpusFast(ctl: VmControl): Json[] {
  const m = ctl.machine;
  const threadId = typeof process === 'object' ? process.pid : 0;
  return m.vcpus.map(({ index }) => {
    const at = placeOf(index, m.topology);
    return {
      'cpu-index': index, 'qom-path': `/machine/unattached/device[${index}]`, 'thread-id': threadId, target: 'x86_64',
      props: { 'socket-id': at.socket, 'core-id': at.core, 'thread-id': at.thread },
    };
  });
}

function queryMigrate(ctl: VmControl): Json {
  const s = ctl.migration;
  if (s.status === 'none') return {};
  const now = performance.now();
  const out: Json = {
    status: s.status,
    'total-time': Math.round(s.status === 'completed' ? s.totalTimeMs : now - s.startedAt),
    ram: {
      total: s.total, transferred: s.transferred, remaining: s.remaining,
      duplicate: s.zeroPages, normal: s.normalPages, 'normal-bytes': s.normalPages * 4096,
      'dirty-pages-rate': s.dirtyRate, 'dirty-sync-count': s.rounds, 'page-size': 4096,
      'precopy-bytes': s.transferred, 'final-pages': s.finalPages,
    },
  };
  // -snapshot overlays' sectors (emu's own fields in QEMU's old block-migration 'disk' member).
  if (s.diskSectors > 0) out.disk = { transferred: s.diskBytes, sectors: s.diskSectors };
  if (s.status === 'completed') out.downtime = Math.round(s.downtimeMs * 1000) / 1000;
  if (s.error && (s.status === 'failed' || s.status === 'cancelled')) out['error-desc'] = s.error;
  return out;
}
