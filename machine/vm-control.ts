// What a monitor controls: run state (QEMU's names), stop/cont/reset/powerdown,
// snapshots to files, outgoing and incoming migration, and the events QMP
// reports. Platform-neutral: files and sockets come in through ControlIo.

import type { Machine } from './machine.js';
import { changeMedium, ejectMedium, MediaError, type OpenMedium } from './media.js';
import { MigrationStats, migrateOut, newMigrationStats, receiveMigration, type ByteChannel, type MigrationParams } from './migrate.js';
import { Jobs } from './qmp-jobs.js';
import { restoreSnapshot, saveSnapshot } from './snapshot.js';
import { SnapshotError } from './snapshot-format.js';

export type RunStatus = 'running' | 'paused' | 'inmigrate' | 'postmigrate' | 'finish-migrate' | 'shutdown';

export interface ControlIo {
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  removeFile(path: string): Promise<void>;
  /** Open a live-migration connection to a destination. */
  connect(host: string, port: number): Promise<ByteChannel>;
  /** Wait for one incoming live-migration connection. */
  accept(host: string, port: number): Promise<ByteChannel>;
  /** The user or a client asked emu to exit. */
  quit(): void;
  /** Open an ISO for a CD-ROM drive (change); absent where there are no files (the browser). */
  openMedium?: OpenMedium;
}

export interface ControlEvent {
  event: string;
  data?: Record<string, unknown>;
}

/** A migration URI as QEMU spells it. */
export type MigrationUri = { kind: 'file'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseMigrationUri(uri: string): MigrationUri | null {
  if (uri.startsWith('file:') && uri.length > 5) return { kind: 'file', path: uri.slice(5) };
  const m = /^tcp:(\[[^\]]+\]|[^:]*):(\d+)$/.exec(uri);
  if (m && Number(m[2]) > 0 && Number(m[2]) < 65536) return { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) };
  return null;
}

export class ControlError extends Error {}

export class VmControl {
  status: RunStatus = 'running';
  readonly migration: MigrationStats = newMigrationStats();
  readonly params: MigrationParams = { downtimeLimitMs: 300, maxBandwidth: 0 };
  private readonly listeners: ((e: ControlEvent) => void)[] = [];
  /** QMP background jobs (snapshot-save, snapshot-load, snapshot-delete). */
  readonly jobs = new Jobs((event, data) => this.emit(event, data));
  private cancel: (() => void) | null = null;
  private incomingStarted = false;

  constructor(readonly machine: Machine, private readonly io: ControlIo) {}

  onEvent(f: (e: ControlEvent) => void): void { this.listeners.push(f); }
  emit(event: string, data?: Record<string, unknown>): void { for (const f of this.listeners) f({ event, data }); }

  get running(): boolean { return this.status === 'running'; }

  stop(status: RunStatus = 'paused'): void {
    const was = this.running;
    this.status = status;
    this.machine.pause();
    if (was) this.emit('STOP');
  }

  cont(): void {
    if (this.status === 'inmigrate') throw new ControlError('the guest is waiting for an incoming migration; it starts when the migration completes');
    if (this.status === 'shutdown') throw new ControlError('the guest has shut down; use system_reset first');
    if (this.running) return;
    this.status = 'running';
    this.machine.resume();
    this.emit('RESUME');
  }

  reset(): void {
    this.machine.reset();
    this.emit('RESET', { guest: false, reason: 'host-qmp-system-reset' });
  }

  powerdown(): void {
    this.machine.devices.pm.pressPowerButton();
    this.emit('POWERDOWN');
  }

  quit(): void {
    this.status = 'shutdown';
    this.emit('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
    this.io.quit();
  }

  /** The guest powered off or the machine stopped for good. */
  shutdown(reason: string): void {
    if (this.status === 'shutdown') return;
    this.status = 'shutdown';
    this.emit('SHUTDOWN', { guest: true, reason });
  }

  private setMigrationStatus(s: MigrationStats['status']): void {
    this.migration.status = s;
    this.emit('MIGRATION', { status: s });
  }

  /** Save a snapshot to `path` while the guest keeps its run state (the monitor key; snapshot-save). */
  async saveSnapshotFile(path: string): Promise<number> {
    const was = this.running;
    if (was) this.machine.pause();
    try {
      const bytes = await saveSnapshot(this.machine, !was);
      await this.io.writeFile(path, bytes);
      return bytes.length;
    } finally {
      if (was) this.machine.resume();
    }
  }

  /** Load a snapshot file into the machine; it then runs or stays paused as it was. */
  async loadSnapshotFile(path: string): Promise<void> {
    const bytes = await this.io.readFile(path);
    this.machine.pause();
    try {
      await restoreSnapshot(this.machine, bytes);
    } finally {
      if (this.running) this.machine.resume();
    }
  }

  /** `change DEVICE FILE` / blockdev-change-medium: a new medium in a CD-ROM drive (the tray opens and closes). */
  changeMedium(device: string, path: string): void {
    const open = this.io.openMedium;
    if (!open) throw new ControlError('this emu cannot open image files');
    const name = this.media(() => changeMedium(this.machine, device, path, open));
    this.emit('DEVICE_TRAY_MOVED', { device: name, id: '', 'tray-open': true });
    this.emit('DEVICE_TRAY_MOVED', { device: name, id: '', 'tray-open': false });
  }

  /** `eject [-f] DEVICE` / eject: the CD-ROM drive's medium goes (a drive the guest locked needs force). */
  eject(device: string, force: boolean): void {
    const name = this.media(() => ejectMedium(this.machine, device, force));
    this.emit('DEVICE_TRAY_MOVED', { device: name, id: '', 'tray-open': true });
  }

  private media(f: () => string): string {
    try {
      return f();
    } catch (e) {
      if (e instanceof MediaError) throw new ControlError(e.message);
      throw e;
    }
  }

  /** Remove a snapshot file (snapshot-delete). */
  removeSnapshotFile(path: string): Promise<void> {
    return this.io.removeFile(path);
  }

  /** QMP migrate: to a file (a snapshot) or live over TCP. Resolves when it has finished (or failed). */
  async migrate(uriText: string): Promise<void> {
    const uri = parseMigrationUri(uriText);
    if (!uri) throw new ControlError(`migrate: unsupported URI '${uriText}'; use file:PATH or tcp:HOST:PORT`);
    if (this.migration.status === 'setup' || this.migration.status === 'active') throw new ControlError('a migration is already in progress');
    Object.assign(this.migration, newMigrationStats());
    this.migration.startedAt = performance.now();
    this.setMigrationStatus('setup');
    const wasRunning = this.running;
    try {
      if (uri.kind === 'file') {
        this.setMigrationStatus('active');
        const t0 = performance.now();
        this.stop('finish-migrate');
        const bytes = await saveSnapshot(this.machine, !wasRunning);
        this.migration.downtimeMs = performance.now() - t0;
        await this.io.writeFile(uri.path, bytes);
        this.migration.transferred = bytes.length;
        this.migration.total = this.machine.memory.ramSize;
      } else {
        const ch = await this.io.connect(uri.host, uri.port);
        let cancelled = false;
        this.cancel = () => { cancelled = true; ch.close(); };
        this.setMigrationStatus('active');
        await migrateOut(this.machine, ch, this.params, this.migration, {
          cancelled: () => cancelled,
          stopGuest: () => this.stop('finish-migrate'),
          wasRunning,
        });
      }
      this.migration.totalTimeMs = performance.now() - this.migration.startedAt;
      this.status = 'postmigrate';
      this.setMigrationStatus('completed');
    } catch (e) {
      // The source carries on as it was: a failed or cancelled migration loses nothing.
      const cancelled = this.migration.status === 'cancelling';
      this.migration.error = (e as Error).message;
      this.status = this.status === 'finish-migrate' || this.status === 'running' ? 'paused' : this.status;
      if (wasRunning) this.cont();
      this.setMigrationStatus(cancelled ? 'cancelled' : 'failed');
    } finally {
      this.cancel = null;
    }
  }

  cancelMigration(): void {
    if (!this.cancel) return;
    this.migration.status = 'cancelling';
    this.cancel();
  }

  /** -incoming / migrate-incoming: wait for the guest, then run it if the source was running. */
  async incoming(uriText: string): Promise<void> {
    const uri = parseMigrationUri(uriText);
    if (!uri) throw new ControlError(`incoming: unsupported URI '${uriText}'; use file:PATH or tcp:HOST:PORT`);
    if (this.incomingStarted) throw new ControlError('The incoming migration has already been started');
    this.incomingStarted = true;
    this.stop('inmigrate');
    this.setMigrationStatus('active');
    let run;
    try {
      if (uri.kind === 'file') run = await restoreSnapshot(this.machine, await this.io.readFile(uri.path));
      else run = await receiveMigration(this.machine, await this.io.accept(uri.host, uri.port), this.migration);
    } catch (e) {
      this.setMigrationStatus('failed');
      throw e instanceof SnapshotError || e instanceof ControlError ? e : new ControlError((e as Error).message);
    }
    this.setMigrationStatus('completed');
    this.status = 'paused';
    if (!run.paused) this.cont();
  }
}
