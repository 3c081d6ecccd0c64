import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY, parseArgs, parseMemorySize, UsageError } from '../../cli/args.js';

describe('emu command line', () => {
  it('QEMU spellings: -m, -kernel, -initrd, -append, -serial, -no-reboot, -nographic', () => {
    const o = parseArgs(['-m', '256M', '-kernel', 'vmlinuz', '-initrd', 'initrd.img', '-append', 'console=ttyS0 quiet',
      '-serial', 'file:/tmp/out.txt', '-no-reboot', '-nographic']);
    expect(o.memory).toBe(256 << 20);
    expect(o.kernel).toBe('vmlinuz');
    expect(o.initrd).toBe('initrd.img');
    expect(o.append).toBe('console=ttyS0 quiet');
    expect(o.serial).toEqual({ kind: 'file', path: '/tmp/out.txt' });
    expect(o.noReboot).toBe(true);
  });

  it('--jit-dump=ADDR takes a hex or decimal address and refuses a backend other than jit', () => {
    expect(parseArgs(['--jit-dump=0x101239']).jitDump).toBe(0x101239);
    expect(parseArgs(['--accel=jit', '--jit-dump', '4096']).jitDump).toBe(4096);
    expect(() => parseArgs(['--accel=interp', '--jit-dump=0x1000'])).toThrow(/needs --accel=jit/);
    expect(() => parseArgs(['--jit-dump=main'])).toThrow(/not a number/);
  });

  it('--accel=interp|jit|kvm, tcg is an alias of jit, and -accel / --enable-kvm / -machine accel=', () => {
    expect(parseArgs(['--accel=interp']).accel).toBe('interp');
    expect(parseArgs(['--accel=tcg']).accel).toBe('jit');
    expect(parseArgs(['-accel', 'kvm']).accel).toBe('kvm');
    expect(parseArgs(['--enable-kvm']).accel).toBe('kvm');
    expect(parseArgs(['-machine', 'pc,accel=tcg']).accel).toBe('jit');
    expect(parseArgs([]).accel).toBeNull();
  });

  it('--mmu picks the memory model (default direct); an unknown one names the choices', () => {
    expect(parseArgs([]).mmu).toBe('direct');
    expect(parseArgs(['--mmu=shadow']).mmu).toBe('shadow');
    expect(parseArgs(['--mmu', 'nested-2m']).mmu).toBe('nested-2m');
    expect(() => parseArgs(['--mmu=ept'])).toThrow(new UsageError('--mmu=ept: unknown memory model; choose direct, shadow, nested, nested-2m'));
  });

  it('memory sizes: bare numbers are MiB, K/M/G suffixes, default 128M', () => {
    expect(parseMemorySize('512')).toBe(512 << 20);
    expect(parseMemorySize('1G')).toBe(1 << 30);
    expect(parseMemorySize('1.5G')).toBe(1.5 * (1 << 30));
    expect(parseMemorySize('65536K')).toBe(64 << 20);
    expect(parseMemorySize('2MiB')).toBe(2 << 20);
    expect(parseArgs([]).memory).toBe(DEFAULT_MEMORY);
  });

  it('an impossible memory size is one line naming the limits', () => {
    expect(() => parseArgs(['-m', '8G'])).toThrow('-m 8G: guest memory must be between 2M and 3G (emu keeps RAM below the 32-bit MMIO hole)');
    expect(() => parseArgs(['-m', '1M'])).toThrow(/between 2M and 3G/);
    expect(() => parseArgs(['-m', 'lots'])).toThrow('-m lots: not a memory size; write it like 256M or 1G');
  });

  it('unknown options, accelerators and serial targets are usage errors with the fix', () => {
    expect(() => parseArgs(['--turbo'])).toThrow("unknown option '--turbo'; see emu --help");
    expect(() => parseArgs(['--accel=hvf'])).toThrow('--accel=hvf: unknown accelerator; choose interp, jit (or tcg) or kvm');
    expect(() => parseArgs(['-serial', 'tcp:1234'])).toThrow(/use stdio, none or file:PATH/);
    expect(() => parseArgs(['-kernel'])).toThrow('-kernel needs a value; see emu --help');
    expect(() => parseArgs(['-initrd', 'x'])).toThrow('-initrd needs a kernel: add -kernel FILE');
    expect(() => parseArgs(['a.elf', 'b.elf'])).toThrow(UsageError);
  });

  it('raw loader: -device loader,file=F,addr=A', () => {
    expect(parseArgs(['-device', 'loader,file=boot.bin,addr=0x7c00']).raw).toEqual([{ path: 'boot.bin', addr: 0x7c00 }]);
    expect(() => parseArgs(['-device', 'e1000'])).toThrow(/unknown device/);
    expect(() => parseArgs(['-device', 'loader,file=x'])).toThrow(/needs file=FILE and addr=ADDR/);
  });

  it('--lockstep takes two backends (kvm at most once), --lockstep-every a positive count', () => {
    expect(parseArgs(['--lockstep=kvm,interp']).lockstep).toEqual(['kvm', 'interp']);
    expect(parseArgs(['--lockstep=interp,tcg']).lockstep).toEqual(['interp', 'jit']);
    expect(() => parseArgs(['--lockstep=kvm,kvm'])).toThrow(/needs two backends/);
    expect(parseArgs(['--lockstep-every=250']).lockstepEvery).toBe(250);
    expect(parseArgs([]).lockstepMax).toBe(1e7);
    expect(parseArgs(['--lockstep-max=2000000000']).lockstepMax).toBe(2e9);
    expect(parseArgs(['--lockstep-max=0']).lockstepMax).toBe(Infinity);
    expect(() => parseArgs(['--lockstep-every=0'])).toThrow(/positive number/);
    const models = parseArgs(['--lockstep=interp:direct,jit:nested-2m']);
    expect([models.lockstep, models.lockstepMmu]).toEqual([['interp', 'jit'], ['direct', 'nested-2m']]);
    expect(parseArgs(['--lockstep=interp,interp:shadow']).lockstepMmu).toEqual([null, 'shadow']);
    expect(() => parseArgs(['--lockstep=interp:paged,interp'])).toThrow(/--lockstep side interp:paged: unknown memory model; choose direct, shadow/);
    expect(() => parseArgs(['--lockstep=kvm:shadow,interp'])).toThrow(/kvm runs the host's memory model/);
  });

  it('-fw_cfg takes name=opt/...,file= or string=, once per name', () => {
    expect(parseArgs(['-fw_cfg', 'name=opt/a,string=hi', '-fw_cfg', 'opt/b,file=/x']).fwCfg).toEqual([
      { name: 'opt/a', string: 'hi' }, { name: 'opt/b', file: '/x' },
    ]);
    expect(() => parseArgs(['-fw_cfg', 'name=etc/a,string=x'])).toThrow(/must start with opt\//);
    expect(() => parseArgs(['-fw_cfg', 'name=opt/a'])).toThrow(/exactly one of file=FILE or string=TEXT/);
    expect(() => parseArgs(['-fw_cfg', 'name=opt/a,string=1', '-fw_cfg', 'name=opt/a,string=2'])).toThrow(/given twice/);
  });

  it('-smp N and QEMU cpus/sockets/cores/threads, 1 to 16, the product checked', () => {
    expect(parseArgs(['-smp', '4']).smp).toEqual({ cpus: 4, sockets: 4, cores: 1, threads: 1 });
    expect(parseArgs(['-smp', 'cpus=8,sockets=2,cores=2,threads=2']).smp).toEqual({ cpus: 8, sockets: 2, cores: 2, threads: 2 });
    expect(parseArgs(['-smp', 'sockets=1,cores=4']).smp).toEqual({ cpus: 4, sockets: 1, cores: 4, threads: 1 });
    expect(parseArgs([]).smp.cpus).toBe(1);
    expect(parseArgs(['-smp', '2', '--mmu=shadow']).smp.cpus).toBe(2); // every memory model takes several vCPUs
    expect(() => parseArgs(['-smp', '17'])).toThrow('-smp 17: emu runs at most 16 vCPUs');
    expect(() => parseArgs(['-smp', '0'])).toThrow(/positive whole number/);
    expect(() => parseArgs(['-smp', 'cpus=6,sockets=2,cores=2,threads=2'])).toThrow(/must equal cpus \(6\)/);
    expect(() => parseArgs(['-smp', 'dies=2'])).toThrow(/unknown property 'dies'/);
  });
});
