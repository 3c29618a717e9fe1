// Runs wasm kernels from inside another kernel and frees the intermediate tensors afterwards.

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** A kernel call as the wasm backend's own kernels take it. */
export type WasmKernelArgs = { inputs: NamedTensorInfoMap; backend: BackendWasm; attrs: NamedAttrMap };

/**
 * A kernel body composed of other kernels. Intermediates are disposed when the body returns; the
 * tensor it returns is kept. Compositions never go through the engine (no tape, no tidy), so the
 * engine sees one kernel call, which keeps gradients and profiling per kernel honest.
 */
export class KernelScope {
  private readonly temporaries: TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  run(kernel: KernelFunc, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const out = kernel({ inputs, backend: this.backend as never, attrs }) as TensorInfo;
    this.temporaries.push(out);
    return out;
  }

  /**
   * Frees intermediates made through this scope now rather than when the body returns, so a body
   * that works in pieces holds one piece's scratch at a time. Anything else (the kernel's inputs) is
   * left alone.
   */
  free(...tensors: TensorInfo[]): void {
    for (const t of tensors) {
      const at = this.temporaries.indexOf(t);
      if (at < 0) continue;
      this.temporaries.splice(at, 1);
      this.backend.disposeData(t.dataId);
    }
  }

  /** Runs `body` and returns its result; everything else made through the scope is freed. */
  static compose(backend: BackendWasm, body: (scope: KernelScope) => TensorInfo): TensorInfo {
    const scope = new KernelScope(backend);
    let result: TensorInfo | undefined;
    try {
      result = body(scope);
      return result;
    } finally {
      for (const t of scope.temporaries) {
        if (t !== result) backend.disposeData(t.dataId);
      }
    }
  }
}
