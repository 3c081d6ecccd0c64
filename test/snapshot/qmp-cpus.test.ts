// QMP query-cpus-fast lists every vCPU with QEMU's CpuInfoFast fields: its index, QOM path,
// the host thread running it (emu runs every vCPU on its one thread), target, and where it
// sits in -smp's topology (vCPUs fill threads, then cores, then sockets, as the APIC IDs do).

import { describe, expect, it } from 'vitest';
import { Machine } from '../../machine/machine.js';
import { QmpSession } from '../../machine/qmp.js';
import { VmControl, type ControlIo } from '../../machine/vm-control.js';

const noIo = new Proxy({}, { get: () => () => { throw new Error('no I/O in this test'); } }) as ControlIo;

async function queryCpus(m: Machine): Promise<unknown> {
  const replies: Record<string, unknown>[] = [];
  const qmp = new QmpSession(new VmControl(m, noIo), (o) => replies.push(o));
  qmp.receive('{"execute":"qmp_capabilities"}{"execute":"query-cpus-fast","id":7}');
  await new Promise((r) => setTimeout(r, 10));
  expect(replies[1]).toEqual({ return: {} });
  expect(replies[2].id).toBe(7);
  return replies[2].return;
}

const cpu = (index: number, socket: number, core: number, thread: number) => ({
  'cpu-index': index, 'qom-path': `/machine/unattached/device[${index}]`, 'thread-id': process.pid, target: 'x86_64',
  props: { 'socket-id': socket, 'core-id': core, 'thread-id': thread },
});

describe('QMP query-cpus-fast', () => {
  it('one vCPU', async () => {
    expect(await queryCpus(new Machine({ memory: 4 << 20, accel: 'interp' }))).toEqual([cpu(0, 0, 0, 0)]);
  });

  it('-smp cpus=8,sockets=2,cores=2,threads=2: every vCPU at its socket, core and thread, as its APIC ID has it', async () => {
    const m = new Machine({ memory: 4 << 20, accel: 'interp', smp: { cpus: 8, sockets: 2, cores: 2, threads: 2 } });
    expect(await queryCpus(m)).toEqual([
      cpu(0, 0, 0, 0), cpu(1, 0, 0, 1), cpu(2, 0, 1, 0), cpu(3, 0, 1, 1),
      cpu(4, 1, 0, 0), cpu(5, 1, 0, 1), cpu(6, 1, 1, 0), cpu(7, 1, 1, 1),
    ]);
    expect(m.apicIds).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('-smp 3 (one package per vCPU)', async () => {
    expect(await queryCpus(new Machine({ memory: 4 << 20, accel: 'interp', smp: 3 }))).toEqual([cpu(0, 0, 0, 0), cpu(1, 1, 0, 0), cpu(2, 2, 0, 0)]);
  });
});
