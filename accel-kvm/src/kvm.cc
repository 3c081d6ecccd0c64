// The thin native layer under the KVM backend: opens /dev/kvm, creates one VM
// with one vCPU fd per vCPU (-smp N), registers slices of the machine's
// WebAssembly.Memory as guest RAM, exposes each vCPU's kvm_run page to
// TypeScript without copying, runs the selected vCPU under a time-slice timer,
// and passes a whitelist of ioctls whose argument structs the TypeScript side
// lays out (accel-kvm/kvm-structs.ts). vCPU ioctls and run() go to the vCPU
// that select(i) chose last: the vCPUs take turns on the calling thread.

#include <napi.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

// The time-slice signal: a real-time signal nobody else in Node uses; its
// handler sets immediate_exit so a signal that lands just before KVM_RUN is
// not lost (Documentation/virt/kvm/api.rst, "immediate_exit").
// Per thread: a vCPU runs on the thread that calls run() (the main thread, or a
// worker's), and the timer signal is sent to that thread only.
#define SIGNAL_TLS static thread_local __attribute__((tls_model("initial-exec")))
SIGNAL_TLS volatile sig_atomic_t g_slice_expired = 0;
SIGNAL_TLS struct kvm_run *volatile g_running = nullptr;
int SliceSignal() { return SIGRTMIN + 6; }

void OnSliceSignal(int) {
  g_slice_expired = 1;
  struct kvm_run *run = g_running;
  if (run) run->immediate_exit = 1;
}

std::string ErrnoText(const char *what, int err) {
  return std::string(what) + ": " + strerror(err);
}

double NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// In C++ the uapi headers' flexible arrays (__DECLARE_FLEX_ARRAY) add an empty
// struct member, so sizeof() and hence the _IOC size of these ioctls differ
// from the C ABI the kernel checks. Spell them with the C sizes.
const unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8);
const unsigned long kGetMsrIndexList = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x02, 4);
const unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, 8);
const unsigned long kGetMsrs = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, 8);
const unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, 8);
const unsigned long kGetXsave = _IOC(_IOC_READ, KVMIO, 0xa4, 4096);
const unsigned long kGetXsave2 = _IOC(_IOC_READ, KVMIO, 0xcf, 4096);
const unsigned long kSetXsave = _IOC(_IOC_WRITE, KVMIO, 0xa5, 4096);
const unsigned long kSetGsiRouting = _IOC(_IOC_WRITE, KVMIO, 0x6a, 8);
const size_t kRoutingEntrySize = 48;  // struct kvm_irq_routing_entry

// Which fd an ioctl goes to, and how big its argument must be.
enum Target { SYS, VM, VCPU };
enum SizeRule { FIXED, NONE, CPUID_ARRAY, MSR_ARRAY, XSAVE_BUF, ROUTING_ARRAY };
struct IoctlInfo {
  const char *name;
  unsigned long code;
  Target target;
  SizeRule rule;
};

const IoctlInfo kIoctls[] = {
    {"GET_REGS", KVM_GET_REGS, VCPU, FIXED},
    {"SET_REGS", KVM_SET_REGS, VCPU, FIXED},
    {"GET_SREGS", KVM_GET_SREGS, VCPU, FIXED},
    {"SET_SREGS", KVM_SET_SREGS, VCPU, FIXED},
    {"GET_FPU", KVM_GET_FPU, VCPU, FIXED},
    {"SET_FPU", KVM_SET_FPU, VCPU, FIXED},
    {"GET_XSAVE", kGetXsave, VCPU, FIXED},
    {"GET_XSAVE2", kGetXsave2, VCPU, XSAVE_BUF},
    {"SET_XSAVE", kSetXsave, VCPU, XSAVE_BUF},
    {"GET_XCRS", KVM_GET_XCRS, VCPU, FIXED},
    {"SET_XCRS", KVM_SET_XCRS, VCPU, FIXED},
    {"GET_MSRS", kGetMsrs, VCPU, MSR_ARRAY},
    {"SET_MSRS", kSetMsrs, VCPU, MSR_ARRAY},
    {"GET_VCPU_EVENTS", KVM_GET_VCPU_EVENTS, VCPU, FIXED},
    {"SET_VCPU_EVENTS", KVM_SET_VCPU_EVENTS, VCPU, FIXED},
    {"GET_MP_STATE", KVM_GET_MP_STATE, VCPU, FIXED},
    {"SET_MP_STATE", KVM_SET_MP_STATE, VCPU, FIXED},
    {"GET_DEBUGREGS", KVM_GET_DEBUGREGS, VCPU, FIXED},
    {"SET_DEBUGREGS", KVM_SET_DEBUGREGS, VCPU, FIXED},
    {"GET_LAPIC", KVM_GET_LAPIC, VCPU, FIXED},
    {"SET_LAPIC", KVM_SET_LAPIC, VCPU, FIXED},
    {"SET_CPUID2", kSetCpuid2, VCPU, CPUID_ARRAY},
    {"INTERRUPT", KVM_INTERRUPT, VCPU, FIXED},
    {"NMI", KVM_NMI, VCPU, NONE},
    {"SET_GUEST_DEBUG", KVM_SET_GUEST_DEBUG, VCPU, FIXED},
    {"SET_TSC_KHZ", KVM_SET_TSC_KHZ, VCPU, NONE},
    {"GET_TSC_KHZ", KVM_GET_TSC_KHZ, VCPU, NONE},
    {"IRQ_LINE", KVM_IRQ_LINE, VM, FIXED},
    {"GET_IRQCHIP", KVM_GET_IRQCHIP, VM, FIXED},
    {"SET_IRQCHIP", KVM_SET_IRQCHIP, VM, FIXED},
    {"GET_PIT2", KVM_GET_PIT2, VM, FIXED},
    {"SET_PIT2", KVM_SET_PIT2, VM, FIXED},
    {"SET_GSI_ROUTING", kSetGsiRouting, VM, ROUTING_ARRAY},
    {"GET_SUPPORTED_CPUID", kGetSupportedCpuid, SYS, CPUID_ARRAY},
    {"GET_MSR_INDEX_LIST", kGetMsrIndexList, SYS, MSR_ARRAY},
};

class Vm : public Napi::ObjectWrap<Vm> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Vm",
                       {InstanceMethod("checkExtension", &Vm::CheckExtension),
                        InstanceMethod("mapRam", &Vm::MapRam),
                        InstanceMethod("dirtyLog", &Vm::DirtyLog),
                        InstanceMethod("runBuffer", &Vm::RunBuffer),
                        InstanceMethod("select", &Vm::Select),
                        InstanceMethod("ioctl", &Vm::Ioctl),
                        InstanceMethod("irqLine", &Vm::IrqLine),
                        InstanceMethod("startSlice", &Vm::StartSlice),
                        InstanceMethod("endSlice", &Vm::EndSlice),
                        InstanceMethod("run", &Vm::Run),
                        InstanceMethod("guestNs", &Vm::GuestNs),
                        InstanceMethod("destroy", &Vm::Destroy)});
  }

  // new Vm({ irqchip: boolean, pit: boolean, vcpus?: number (1..kMaxVcpus, default 1) })
  Vm(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Vm>(info) {
    Napi::Env env = info.Env();
    bool irqchip = false, pit = false;
    int vcpus = 1;
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object o = info[0].As<Napi::Object>();
      irqchip = o.Get("irqchip").ToBoolean();
      pit = o.Get("pit").ToBoolean();
      if (o.Get("vcpus").IsNumber()) vcpus = o.Get("vcpus").As<Napi::Number>().Int32Value();
    }
    if (vcpus < 1 || vcpus > kMaxVcpus) {
      Fail(env, "vcpus must be 1 to " + std::to_string(kMaxVcpus));
      return;
    }
    if (!Open(env, irqchip, pit, vcpus)) Close();
  }

  ~Vm() override { Close(); }

 private:
  static const int kMaxVcpus = 16;
  int sys_fd_ = -1, vm_fd_ = -1, vcpu_fd_ = -1;
  struct kvm_run *run_ = nullptr;
  // Every vCPU's fd and kvm_run page; vcpu_fd_/run_ are the selected one's.
  int vcpu_count_ = 0, selected_ = 0;
  int vcpu_fds_[kMaxVcpus];
  struct kvm_run *runs_[kMaxVcpus];
  Napi::ObjectReference run_buf_refs_[kMaxVcpus];
  bool runs_handed_out_[kMaxVcpus] = {};
  size_t run_size_ = 0;
  timer_t timer_{};
  bool has_timer_ = false;
  pid_t timer_tid_ = 0;
  size_t xsave_size_ = 4096;  // struct kvm_xsave in C (C++ sees 4100, see above)
  double guest_ns_ = 0;
  // The guest RAM's ArrayBuffer must outlive the memory slots that point into it.
  Napi::ObjectReference ram_ref_;
  // Once TypeScript holds a view of a kvm_run page, the mapping lives until that view is collected.

  bool Fail(Napi::Env env, const std::string &msg) {
    Napi::Error::New(env, msg).ThrowAsJavaScriptException();
    return false;
  }

  bool Open(Napi::Env env, bool irqchip, bool pit, int vcpus) {
    sys_fd_ = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (sys_fd_ < 0) {
      int e = errno;
      if (e == ENOENT) return Fail(env, "ENOENT: /dev/kvm does not exist");
      if (e == EACCES || e == EPERM) return Fail(env, "EACCES: no permission to open /dev/kvm");
      return Fail(env, ErrnoText("open /dev/kvm", e));
    }
    int version = ioctl(sys_fd_, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) return Fail(env, "KVM API version " + std::to_string(version) + ", need 12");
    vm_fd_ = ioctl(sys_fd_, KVM_CREATE_VM, 0);
    if (vm_fd_ < 0) return Fail(env, ErrnoText("KVM_CREATE_VM", errno));
    // Intel needs three pages for the real-mode TSS and one for the identity
    // map, outside RAM; just below the 4 GiB BIOS area as is customary.
    if (ioctl(vm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
        ioctl(vm_fd_, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
      return Fail(env, ErrnoText("KVM_SET_TSS_ADDR", errno));
    if (ioctl(vm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0) {
      __u64 addr = 0xfffbc000;
      if (ioctl(vm_fd_, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
        return Fail(env, ErrnoText("KVM_SET_IDENTITY_MAP_ADDR", errno));
    }
    if (irqchip) {
      if (ioctl(vm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0)
        return Fail(env, "missing capability KVM_CAP_IRQCHIP");
      if (ioctl(vm_fd_, KVM_CREATE_IRQCHIP, 0) < 0) return Fail(env, ErrnoText("KVM_CREATE_IRQCHIP", errno));
      if (pit) {
        struct kvm_pit_config cfg;
        memset(&cfg, 0, sizeof cfg);
        if (ioctl(vm_fd_, KVM_CREATE_PIT2, &cfg) < 0) return Fail(env, ErrnoText("KVM_CREATE_PIT2", errno));
      }
    }
    int mmap_size = ioctl(sys_fd_, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size < (int)sizeof(struct kvm_run)) return Fail(env, ErrnoText("KVM_GET_VCPU_MMAP_SIZE", errno));
    run_size_ = mmap_size;
    // vCPU id = index (the APIC ID KVM's LAPIC starts with; the TypeScript side sets the CPUID topology).
    for (int i = 0; i < vcpus; i++) {
      int fd = ioctl(vm_fd_, KVM_CREATE_VCPU, i);
      if (fd < 0) return Fail(env, ErrnoText("KVM_CREATE_VCPU", errno));
      vcpu_fds_[i] = fd;
      runs_[i] = nullptr;
      vcpu_count_ = i + 1;
      void *p = mmap(nullptr, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) return Fail(env, ErrnoText("mmap kvm_run", errno));
      runs_[i] = static_cast<struct kvm_run *>(p);
    }
    selected_ = 0;
    vcpu_fd_ = vcpu_fds_[0];
    run_ = runs_[0];
    int xs = ioctl(vm_fd_, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    if (xs > (int)xsave_size_) xsave_size_ = xs;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = OnSliceSignal;
    sa.sa_flags = SA_RESTART;  // other syscalls restart; KVM_RUN returns EINTR regardless
    sigemptyset(&sa.sa_mask);
    if (sigaction(SliceSignal(), &sa, nullptr) < 0) return Fail(env, ErrnoText("sigaction", errno));
    return MakeTimer(env);
  }

  // The slice timer signals the thread that runs the vCPU; made again if another thread takes over.
  bool MakeTimer(Napi::Env env) {
    if (has_timer_) timer_delete(timer_);
    has_timer_ = false;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SliceSignal();
    timer_tid_ = (pid_t)syscall(SYS_gettid);
    sev._sigev_un._tid = timer_tid_;
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer_) < 0) return Fail(env, ErrnoText("timer_create", errno));
    has_timer_ = true;
    return true;
  }

  void Close() {
    if (has_timer_) timer_delete(timer_);
    has_timer_ = false;
    g_running = nullptr;
    for (int i = 0; i < vcpu_count_; i++) {
      if (runs_[i] && !runs_handed_out_[i]) munmap(runs_[i], run_size_);
      runs_[i] = nullptr;
      if (!run_buf_refs_[i].IsEmpty()) run_buf_refs_[i].Reset();
      close(vcpu_fds_[i]);
    }
    vcpu_count_ = 0;
    run_ = nullptr;
    if (vm_fd_ >= 0) close(vm_fd_);
    if (sys_fd_ >= 0) close(sys_fd_);
    vcpu_fd_ = vm_fd_ = sys_fd_ = -1;
    // Only now, with the VM gone, may the RAM buffer be collected.
    if (!ram_ref_.IsEmpty()) ram_ref_.Reset();
  }

  bool Alive(Napi::Env env) {
    if (vcpu_fd_ >= 0) return true;
    return Fail(env, "the KVM VM was destroyed");
  }

  Napi::Value CheckExtension(const Napi::CallbackInfo &info) {
    if (!Alive(info.Env())) return info.Env().Undefined();
    int cap = info[0].As<Napi::Number>().Int32Value();
    return Napi::Number::New(info.Env(), ioctl(vm_fd_, KVM_CHECK_EXTENSION, cap));
  }

  // mapRam(slot, guestPhys, buffer, offset, size, logDirty?): guest physical [guestPhys,
  // guestPhys+size) is buffer[offset, offset+size). size 0 deletes the slot. logDirty sets
  // KVM_MEM_LOG_DIRTY_PAGES: KVM then logs the slot's written pages for dirtyLog.
  Napi::Value MapRam(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
    double gpa = info[1].As<Napi::Number>().DoubleValue();
    if (!info[2].IsArrayBuffer()) {
      Fail(env, "mapRam: guest RAM must be an ArrayBuffer");
      return env.Undefined();
    }
    Napi::ArrayBuffer buf = info[2].As<Napi::ArrayBuffer>();
    double offset = info[3].As<Napi::Number>().DoubleValue();
    double size = info[4].As<Napi::Number>().DoubleValue();
    const double page = 4096;
    if (offset < 0 || size < 0 || offset + size > (double)buf.ByteLength() || fmod(offset, page) != 0 ||
        fmod(size, page) != 0 || fmod(gpa, page) != 0 || gpa < 0) {
      Fail(env, "mapRam: slot must be page-aligned and inside the buffer");
      return env.Undefined();
    }
    uintptr_t host = reinterpret_cast<uintptr_t>(buf.Data()) + (uintptr_t)offset;
    if (host % 4096 != 0) {
      Fail(env, "mapRam: the RAM buffer is not page-aligned");
      return env.Undefined();
    }
    struct kvm_userspace_memory_region r;
    memset(&r, 0, sizeof r);
    r.slot = slot;
    r.guest_phys_addr = (__u64)gpa;
    r.memory_size = (__u64)size;
    r.userspace_addr = host;
    if (info.Length() > 5 && info[5].ToBoolean().Value() && size > 0) r.flags = KVM_MEM_LOG_DIRTY_PAGES;
    if (ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
      Fail(env, ErrnoText("KVM_SET_USER_MEMORY_REGION", errno));
      return env.Undefined();
    }
    if (ram_ref_.IsEmpty()) ram_ref_ = Napi::Persistent(buf.As<Napi::Object>());
    return env.Undefined();
  }

  // dirtyLog(slot, bitmap): KVM_GET_DIRTY_LOG of a slot mapped with logDirty into `bitmap`
  // (one bit per page of the slot, bit 0 of byte 0 first; a multiple of 8 bytes long), and
  // the log starts again from empty.
  Napi::Value DirtyLog(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    uint32_t slot = info[0].As<Napi::Number>().Uint32Value();
    if (!info[1].IsTypedArray()) {
      Fail(env, "dirtyLog: the bitmap must be a Uint8Array");
      return env.Undefined();
    }
    Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
    Napi::ArrayBuffer ab = ta.ArrayBuffer();
    uint8_t *bits = static_cast<uint8_t *>(ab.Data()) + ta.ByteOffset();
    if (ta.ByteLength() % 8 != 0 || reinterpret_cast<uintptr_t>(bits) % 8 != 0) {
      Fail(env, "dirtyLog: the bitmap must be 8-byte aligned and a multiple of 8 bytes");
      return env.Undefined();
    }
    struct kvm_dirty_log log;
    memset(&log, 0, sizeof log);
    log.slot = slot;
    log.dirty_bitmap = bits;
    if (ioctl(vm_fd_, KVM_GET_DIRTY_LOG, &log) < 0) {
      Fail(env, ErrnoText("KVM_GET_DIRTY_LOG", errno));
      return env.Undefined();
    }
    return env.Undefined();
  }

  // The selected vCPU's kvm_run page (and the PIO data page after it), shared with TypeScript.
  Napi::Value RunBuffer(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    Napi::ObjectReference &ref = run_buf_refs_[selected_];
    if (ref.IsEmpty()) {
      size_t size = run_size_;
      Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, run_, run_size_, [size](Napi::Env, void *p) { munmap(p, size); });
      ref = Napi::Persistent(ab.As<Napi::Object>());
      runs_handed_out_[selected_] = true;
    }
    return ref.Value();
  }

  // select(i): vCPU ioctls, runBuffer(), the slice and run() go to vCPU i from now on.
  Napi::Value Select(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    int i = info[0].As<Napi::Number>().Int32Value();
    if (i < 0 || i >= vcpu_count_) {
      Fail(env, "select: no vCPU " + std::to_string(i));
      return env.Undefined();
    }
    selected_ = i;
    vcpu_fd_ = vcpu_fds_[i];
    run_ = runs_[i];
    return env.Undefined();
  }

  // ioctl(name, buffer?, arg?) -> result (>= 0) or throws with errno text.
  Napi::Value Ioctl(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    std::string name = info[0].As<Napi::String>();
    const IoctlInfo *io = nullptr;
    for (const auto &c : kIoctls)
      if (name == c.name) io = &c;
    if (!io) {
      Fail(env, "ioctl " + name + " is not allowed");
      return env.Undefined();
    }
    void *arg = nullptr;
    size_t len = 0;
    unsigned long scalar = 0;
    if (info.Length() > 1 && info[1].IsTypedArray()) {
      Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
      Napi::ArrayBuffer ab = ta.ArrayBuffer();
      arg = static_cast<uint8_t *>(ab.Data()) + ta.ByteOffset();
      len = ta.ByteLength();
    } else if (info.Length() > 1 && info[1].IsNumber()) {
      scalar = info[1].As<Napi::Number>().Uint32Value();
    }
    size_t need = _IOC_SIZE(io->code);
    switch (io->rule) {
      case NONE: need = 0; break;
      case FIXED: break;
      case XSAVE_BUF: need = xsave_size_; break;
      case CPUID_ARRAY:
        if (len >= 8) need = 8 + (size_t) static_cast<uint32_t *>(arg)[0] * sizeof(struct kvm_cpuid_entry2);
        break;
      case ROUTING_ARRAY:
        if (len >= 8) need = 8 + (size_t) static_cast<uint32_t *>(arg)[0] * kRoutingEntrySize;
        break;
      case MSR_ARRAY:
        if (len >= 8)
          need = 8 + (size_t) static_cast<uint32_t *>(arg)[0] *
                         (io->code == kGetMsrIndexList ? 4 : sizeof(struct kvm_msr_entry));
        break;
    }
    if (need > 0 && (arg == nullptr || len < need)) {
      Fail(env, "ioctl " + name + ": argument buffer of " + std::to_string(len) + " bytes, need " + std::to_string(need));
      return env.Undefined();
    }
    int fd = io->target == SYS ? sys_fd_ : io->target == VM ? vm_fd_ : vcpu_fd_;
    int r = arg ? ioctl(fd, io->code, arg) : ioctl(fd, io->code, scalar);
    if (r < 0) {
      Fail(env, ErrnoText(("KVM_" + name).c_str(), errno));
      return env.Undefined();
    }
    return Napi::Number::New(env, r);
  }

  // irqLine(irq, level): the hot path of the in-kernel irqchip, without the ioctl lookup.
  Napi::Value IrqLine(const Napi::CallbackInfo &info) {
    if (!Alive(info.Env())) return info.Env().Undefined();
    struct kvm_irq_level l;
    l.irq = info[0].As<Napi::Number>().Uint32Value();
    l.level = info[1].ToBoolean() ? 1 : 0;
    int r = ioctl(vm_fd_, KVM_IRQ_LINE, &l);
    if (r < 0) Fail(info.Env(), ErrnoText("KVM_IRQ_LINE", errno));
    return info.Env().Undefined();
  }

  // startSlice(ns): arm the one-shot slice timer; KVM_RUN returns EINTR once it fires.
  Napi::Value StartSlice(const Napi::CallbackInfo &info) {
    if (!Alive(info.Env())) return info.Env().Undefined();
    double ns = info[0].As<Napi::Number>().DoubleValue();
    if (!(ns >= 1000)) ns = 1000;
    if ((pid_t)syscall(SYS_gettid) != timer_tid_ && !MakeTimer(info.Env())) return info.Env().Undefined();
    g_slice_expired = 0;
    run_->immediate_exit = 0;
    g_running = run_;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(ns / 1e9);
    its.it_value.tv_nsec = (long)fmod(ns, 1e9);
    timer_settime(timer_, 0, &its, nullptr);
    return info.Env().Undefined();
  }

  Napi::Value EndSlice(const Napi::CallbackInfo &info) {
    if (!Alive(info.Env())) return info.Env().Undefined();
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    timer_settime(timer_, 0, &its, nullptr);
    g_running = nullptr;
    run_->immediate_exit = 0;
    return info.Env().Undefined();
  }

  // run(immediate) -> 0: the vCPU exited (see kvm_run.exit_reason); 1: the
  // slice ended (or immediate: pending I/O completed, nothing executed); else -errno.
  Napi::Value Run(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!Alive(env)) return env.Undefined();
    bool immediate = info.Length() > 0 && info[0].ToBoolean();
    if (immediate) run_->immediate_exit = 1;
    for (;;) {
      double t0 = NowNs();
      int r = ioctl(vcpu_fd_, KVM_RUN, 0);
      int e = errno;
      guest_ns_ += NowNs() - t0;
      if (r == 0) return Napi::Number::New(env, 0);
      if (e == EINTR || e == EAGAIN) {
        if (immediate) {
          run_->immediate_exit = 0;
          return Napi::Number::New(env, 1);
        }
        if (g_slice_expired) return Napi::Number::New(env, 1);
        continue;  // some other signal: keep running the slice
      }
      return Napi::Number::New(env, -e);
    }
  }

  Napi::Value GuestNs(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), guest_ns_); }

  Napi::Value Destroy(const Napi::CallbackInfo &info) {
    Close();
    return info.Env().Undefined();
  }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Vm", Vm::Init(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(kvm, Init)
