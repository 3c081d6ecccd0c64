// The CPU backends a browser can run. machine/backends.ts registers the
// interpreter (and the JIT, once it exists) for every host; KVM needs
// /dev/kvm and a native addon (machine/backends-node.ts), which a browser
// bundle never imports, so the worker reports it unavailable.

export {};
