// The CPU backends a browser can run: the interpreter and the JIT register
// themselves when their modules load (KVM needs /dev/kvm and a native addon,
// so it is never imported here and the worker reports it unavailable).

export {};
