// Why --accel=kvm cannot run here, in one line each (these run on every host).

import { describe, expect, it } from 'vitest';
import { KvmUnavailable, devKvmProblem, explainOpenError, kvmUnavailableReason } from '../../accel-kvm/addon.js';

describe('KVM availability messages', () => {
  it('no /dev/kvm -> names the module to load and the fallback accelerators', () => {
    const why = devKvmProblem('/nonexistent/kvm');
    expect(why).toMatch(/does not exist: load the kvm module \(modprobe kvm_intel or kvm_amd\)/);
    expect(why).toMatch(/--accel=interp/);
  });

  it('open errors from the addon become the same one-liners (permission, capability, anything else)', () => {
    expect(explainOpenError(new Error('EACCES: no permission to open /dev/kvm')).message).toMatch(/^no permission to open \/dev\/kvm: add yourself to its group/);
    expect(explainOpenError(new Error('missing capability KVM_CAP_IRQCHIP')).message).toMatch(/^missing capability KVM_CAP_IRQCHIP: this host's KVM is too old/);
    expect(explainOpenError(new Error('KVM_CREATE_VM: Cannot allocate memory')).message).toMatch(/^KVM could not create a VM \(KVM_CREATE_VM: Cannot allocate memory\)/);
    expect(explainOpenError(new Error('x'))).toBeInstanceOf(KvmUnavailable);
  });

  it('every reason is a single line', () => {
    for (const m of [devKvmProblem('/nonexistent/kvm'), kvmUnavailableReason(), explainOpenError(new Error('EACCES')).message]) {
      if (m !== null) expect(m).not.toContain('\n');
    }
  });
});
