// Kubernetes resource quantities (`500m`, `2`, `1Gi`, `1.5G`, `128974848`), read the way the
// apiserver reads them (k8s.io/apimachinery pkg/api/resource/quantity.go): a decimal number, then a
// binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (m k M G T P E) or a decimal exponent (e3).
// Shared by the operator (a pod's limits become the trainer's flags), the trainer (its flags) and the
// local kubelet (a container's limits become its cgroup's).

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** The value of a quantity (a number is taken as is); undefined when it is not one. */
export function parseQuantity(quantity: string | number): number | undefined {
  if (typeof quantity === 'number') return Number.isFinite(quantity) ? quantity : undefined;
  const match = QUANTITY.exec(quantity.trim());
  if (!match) return undefined;
  const number = Number(match[1]);
  const suffix = match[2] ?? '';
  if (suffix in BINARY) return number * BINARY[suffix]!;
  if (suffix in DECIMAL) return number * DECIMAL[suffix]!;
  return number * 10 ** Number(suffix.slice(1));
}

/** Whole cores for a CPU quantity, rounded up and at least 1 (`500m` → 1, `1.5` → 2). */
export function wholeCores(cpu: string | number): number | undefined {
  const cores = parseQuantity(cpu);
  return cores === undefined || cores <= 0 ? undefined : Math.max(1, Math.ceil(cores - 1e-9));
}

/** Whole bytes for a memory quantity (the kubelet rounds a fractional byte up, as here). */
export function memoryBytes(memory: string | number): number | undefined {
  const bytes = parseQuantity(memory);
  return bytes === undefined || bytes <= 0 ? undefined : Math.ceil(bytes);
}
