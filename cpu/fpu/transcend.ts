// x87 transcendental instructions (placeholder until implemented).
export function transcendental(dv: DataView, code: number): number { void dv; void code; return 0; }
