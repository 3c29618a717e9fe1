// The recurrent layers. RNN and LSTM: bottoms x (T × N × ...), cont (T × N: 0 starts a new sequence) and an
// optional static input (N × ...); top T × N × num_output. Their blobs, in Caffe's order (its unrolled
// net's parameter order): RNN W_xh, b_h, [W_xh_static], W_hh, W_ho, b_o; LSTM W_xc, b_c, [W_xc_static], W_hc.
// LSTMUnit: one LSTM step; bottoms c_prev (1 × N × H), gates (1 × N × 4H), cont (1 × N); tops c, h.
import { fail, formatShape, positiveInteger } from '../checks.js';
import { registerShapeRule } from '../registry.js';
import { count, type SetUpContext, type Shape } from '../types.js';

/** Checks a recurrent layer's bottoms; returns T, N, the input and static input sizes and num_output. */
export function recurrentDims(context: SetUpContext): {
  t: number;
  n: number;
  input: number;
  staticInput: number;
  hidden: number;
} {
  const param = context.layer.recurrentParam ?? {};
  if (param.exposeHidden) {
    fail(
      context,
      'recurrent_param.expose_hidden: true is not supported by this trainer (hidden state in and out as blobs)',
    );
  }
  const [x, cont, xStatic] = context.bottomShapes as [Shape, Shape, Shape | undefined];
  if (x.length < 2)
    fail(context, `bottom 0 (x): expected at least 2 axes (T × N × ...), received ${formatShape(x)}`);
  const [t, n] = x as [number, number];
  if (cont.length !== 2 || cont[0] !== t || cont[1] !== n) {
    fail(context, `bottom 1 (cont): expected shape ${t}x${n} (T × N), received ${formatShape(cont)}`);
  }
  if (xStatic && xStatic[0] !== n) {
    fail(context, `bottom 2 (static input): expected ${n} items on axis 0, received ${formatShape(xStatic)}`);
  }
  const hidden = positiveInteger(context, 'recurrent_param.num_output', param.numOutput);
  return { t, n, input: count(x.slice(2)), staticInput: xStatic ? count(xStatic.slice(1)) : 0, hidden };
}

registerShapeRule({
  type: 'RNN',
  bottoms: { min: 2, max: 3 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const { t, n, input, staticInput, hidden } = recurrentDims(context);
    const paramShapes: Shape[] = [[hidden, input], [hidden]];
    if (staticInput > 0) paramShapes.push([hidden, staticInput]);
    paramShapes.push([hidden, hidden], [hidden, hidden], [hidden]);
    return { topShapes: [[t, n, hidden]], paramShapes };
  },
});

registerShapeRule({
  type: 'LSTM',
  bottoms: { min: 2, max: 3 },
  tops: { min: 1, max: 1 },
  setUp(context) {
    const { t, n, input, staticInput, hidden } = recurrentDims(context);
    const paramShapes: Shape[] = [[4 * hidden, input], [4 * hidden]];
    if (staticInput > 0) paramShapes.push([4 * hidden, staticInput]);
    paramShapes.push([4 * hidden, hidden]);
    return { topShapes: [[t, n, hidden]], paramShapes };
  },
});

registerShapeRule({
  type: 'LSTMUnit',
  bottoms: { min: 3, max: 3 },
  tops: { min: 2, max: 2 },
  setUp(context) {
    const [c, gates, cont] = context.bottomShapes as [Shape, Shape, Shape];
    if (c.length !== 3 || c[0] !== 1)
      fail(context, `bottom 0 (c_prev): expected 1 × N × H, received ${formatShape(c)}`);
    const [, n, h] = c as [number, number, number];
    if (gates.length !== 3 || gates[0] !== 1 || gates[1] !== n || gates[2] !== 4 * h) {
      fail(context, `bottom 1 (gate inputs): expected 1x${n}x${4 * h}, received ${formatShape(gates)}`);
    }
    if (cont.length !== 2 || cont[0] !== 1 || cont[1] !== n) {
      fail(context, `bottom 2 (cont): expected 1x${n}, received ${formatShape(cont)}`);
    }
    return { topShapes: [c, c], paramShapes: [] };
  },
});
