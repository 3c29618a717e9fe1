// The backward pass over tfjs's gradient tape, freeing as it goes.
//
// tf.variableGrads (Engine.gradients in @tensorflow/tfjs-core's engine.ts) records every op of the forward
// pass on a tape, each with the tensors its gradient needs ("saved"), then walks the tape backwards. It
// keeps every saved tensor and every intermediate gradient alive until the whole walk ends, so at the end
// of backward it holds about two copies of every activation. This walk does the same arithmetic — the
// same gradient functions, the same nodes in the same (reverse) order, the same sums where a tensor feeds
// several ops — but frees a node's saved tensors and its outputs' gradients as soon as the node has been
// back-propagated, since no earlier node can need them: Caffe's Net::Backward frees nothing, yet it
// holds one diff per blob, not one per op.
//
// It reaches into the engine's state (activeTape, gradientDepth): public fields of tfjs-core's Engine
// that Engine.gradients itself uses; @tensorflow/tfjs-core is pinned in package-lock.json.
import * as tf from '@tensorflow/tfjs-core';

/** What the engine records per op (tfjs-core's tape.ts TapeNode, which the package does not export). */
interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineTapeState {
  activeTape: TapeNode[] | null;
  gradientDepth: number;
}

export interface TapedPass<T> {
  /** What the forward function returned besides the loss. */
  result: T;
  loss: tf.Scalar;
  /** d loss / d x for each x, in order; null where the loss does not depend on x. */
  grads: (tf.Tensor | null)[];
}

/** What the backward walk holds after a node (for `caffe time --memory`), by distinct tensor data. */
export interface TapeHeld {
  /** Saved tensors of the nodes not yet back-propagated (what the tape keeps for backward), the xs' data aside. */
  savedBytes: number;
  /** Gradients not yet consumed, and the parameter gradients gathered so far. */
  gradientBytes: number;
}

/** Called after the forward pass (index -1) and after each back-propagated node (its index on the tape). */
export type TapeObserver = (tapeIndex: number, held: TapeHeld) => void;

/** How many ops the active tape holds (0 with the tape off): lets a caller tell which layer recorded which node. */
export function activeTapeLength(): number {
  return (tf.engine().state as unknown as EngineTapeState).activeTape?.length ?? 0;
}

/** Bytes of the distinct tensor data the active tape keeps for backward so far (0 with the tape off). */
export function activeTapeSavedBytes(besides: readonly tf.Tensor[] = []): number {
  const tape = (tf.engine().state as unknown as EngineTapeState).activeTape ?? [];
  return distinctBytes(
    tape.flatMap((node) => node.saved ?? []),
    besides.map((t) => t.dataId),
  );
}

/**
 * Runs `forward` with the tape on, then back-propagates from its loss to `xs`, freeing each saved tensor
 * and each intermediate gradient once the walk is past it. `forward` manages its own intermediates
 * (tidy scopes); the tensors it returns are the caller's, as are the loss and the gradients.
 */
export function tapedGradients<T>(
  forward: () => { loss: tf.Scalar; result: T },
  xs: readonly tf.Tensor[],
  observe?: TapeObserver,
): TapedPass<T> {
  const state = tf.engine().state as unknown as EngineTapeState;
  if (state.gradientDepth !== 0) throw new Error('tapedGradients: cannot run inside another gradient');
  state.activeTape = [];
  state.gradientDepth++;
  let tape: TapeNode[];
  let pass: { loss: tf.Scalar; result: T };
  try {
    pass = forward();
  } catch (error) {
    state.gradientDepth--;
    disposeSaved(state.activeTape ?? []);
    state.activeTape = null;
    throw error;
  }
  state.gradientDepth--;
  tape = state.activeTape ?? [];
  state.activeTape = null;
  const path = nodesFromXsToLoss(tape, xs, pass.loss);
  // Saved tensors of ops off the path are never used.
  disposeSaved(tape.filter((node) => !path.has(node.id)));
  const indexOf = new Map(tape.map((node, i) => [node.id, i]));
  tape = tape.filter((node) => path.has(node.id));
  const grads = backpropagate(
    tape,
    path,
    xs,
    pass.loss,
    observe && ((i, held) => observe(i < 0 ? -1 : indexOf.get(tape[i]!.id)!, held)),
  );
  return { result: pass.result, loss: pass.loss, grads };
}

/** The nodes on some path from an x to y, each with the inputs that come from an x (what it differentiates). */
function nodesFromXsToLoss(
  tape: TapeNode[],
  xs: readonly tf.Tensor[],
  y: tf.Tensor,
): Map<number, Record<string, tf.Tensor>> {
  const fromX = new Set(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (!Object.values(node.inputs).some((input) => fromX.has(input.id))) continue;
    nodeFromX.add(node.id);
    for (const output of node.outputs) fromX.add(output.id);
  }
  const toY = new Set([y.id]);
  const path = new Map<number, Record<string, tf.Tensor>>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (!node.outputs.some((output) => toY.has(output.id))) continue;
    for (const input of Object.values(node.inputs)) toY.add(input.id);
    if (!nodeFromX.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, input] of Object.entries(node.inputs)) if (fromX.has(input.id)) inputs[name] = input;
    path.set(node.id, inputs);
  }
  return path;
}

function backpropagate(
  tape: TapeNode[],
  path: Map<number, Record<string, tf.Tensor>>,
  xs: readonly tf.Tensor[],
  y: tf.Tensor,
  observe?: TapeObserver,
): (tf.Tensor | null)[] {
  const wanted = new Set(xs.map((x) => x.id));
  const gradient = new Map<number, tf.Tensor>([[y.id, tf.ones(y.shape)]]);
  const xsData = xs.map((x) => x.dataId);
  const held = (upTo: number): TapeHeld => ({
    savedBytes: distinctBytes(
      tape.slice(0, upTo).flatMap((node) => node.saved ?? []),
      xsData,
    ),
    gradientBytes: distinctBytes([...gradient.values()]),
  });
  observe?.(-1, held(tape.length));
  try {
    for (let i = tape.length - 1; i >= 0; i--) {
      const node = tape[i]!;
      const inputs = Object.entries(path.get(node.id) ?? {});
      if (!node.gradient) throw new Error(`tapedGradients: no gradient registered for op ${node.kernelName}`);
      const dys = node.outputs.map((output) => gradient.get(output.id) ?? null);
      const gradientOf = node.gradient;
      // One scope per node: the zeros the engine makes for an output with no gradient, and anything a
      // gradient function computes outside its thunks, go with it.
      const dxs = tf.tidy(() => {
        const backward = gradientOf(dys);
        return inputs.map(([name, input]) => {
          const thunk = backward[name];
          if (!thunk)
            throw new Error(`tapedGradients: op ${node.kernelName} gives no gradient for input ${name}`);
          const dx = tf.tidy(thunk);
          if (dx.shape.join() !== input.shape.join()) {
            throw new Error(
              `tapedGradients: op ${node.kernelName}'s gradient for ${name} has shape ${dx.shape}, expected ${input.shape}`,
            );
          }
          return dx;
        });
      });
      // The walk is past everything that reads this node's outputs: their gradients and its saved inputs go.
      for (const output of node.outputs) {
        if (wanted.has(output.id)) continue;
        gradient.get(output.id)?.dispose();
        gradient.delete(output.id);
      }
      disposeSaved([node]);
      inputs.forEach(([, input], k) => {
        const dx = dxs[k]!;
        const current = gradient.get(input.id);
        if (!current) {
          gradient.set(input.id, dx);
          return;
        }
        gradient.set(input.id, tf.add(current, dx));
        current.dispose();
        dx.dispose();
      });
      observe?.(i, held(i));
    }
  } catch (error) {
    disposeSaved(tape);
    for (const g of gradient.values()) g.dispose();
    throw error;
  }
  const grads = xs.map((x) => gradient.get(x.id) ?? null);
  for (const [id, g] of gradient) if (!wanted.has(id)) g.dispose();
  return grads;
}

function disposeSaved(nodes: TapeNode[]): void {
  for (const node of nodes) {
    for (const tensor of node.saved ?? []) tensor.dispose();
    node.saved = [];
  }
}

/** Bytes of the distinct tensor data among `tensors` (saved tensors are clones sharing their data), but `besides`. */
function distinctBytes(tensors: tf.Tensor[], besides: readonly object[] = []): number {
  const seen = new Set<object>(besides);
  let bytes = 0;
  for (const t of tensors) {
    if (t.isDisposed || seen.has(t.dataId)) continue;
    seen.add(t.dataId);
    bytes += t.size * (t.dtype === 'complex64' ? 8 : 4);
  }
  return bytes;
}
