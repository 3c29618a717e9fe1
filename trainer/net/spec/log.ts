// The set-up lines Caffe's net.cpp logs while building a net, from a NetSpec (messages only, no prefix).
import { formatFloat } from '../../solver/log-lines.js';
import { count, type NetSpec, type Shape } from './types.js';

export function setUpLogLines(spec: NetSpec): string[] {
  const lines: string[] = [
    `Initializing net from parameters: name "${spec.name}" (phase ${phaseName(spec.phase)})`,
  ];
  let memory = 0;
  for (const layer of spec.layers) {
    lines.push(`Creating Layer ${layer.name}`);
    for (const bottom of layer.bottoms) lines.push(`${layer.name} <- ${bottom}`);
    // Net::AppendTop: top j named like bottom j is computed in place.
    layer.tops.forEach((top, j) => {
      lines.push(`${layer.name} -> ${top}${top === layer.bottoms[j] ? ' (in-place)' : ''}`);
    });
    lines.push(`Setting up ${layer.name}`);
    layer.topShapes.forEach((shape, j) => {
      lines.push(`Top shape: ${formatTopShape(shape)}`);
      const weight = layer.lossWeights[j] ?? 0;
      // A float printed by an ostream (%g, 6 digits), as Caffe's Layer::loss returns it: 0.3, not 0.30000001192092896.
      if (weight !== 0) lines.push(`    with loss weight ${formatFloat(weight)}`);
      memory += count(shape);
    });
    lines.push(`Memory required for data: ${memory * 4}`);
  }
  for (const output of spec.outputs) lines.push(`This network produces output ${output}`);
  lines.push('Network initialization done.');
  return lines;
}

/** `256 96 55 55 (74342400)`; a scalar prints as `(1)`, as in Caffe. */
export function formatTopShape(shape: Shape): string {
  return shape.length === 0 ? '(1)' : `${shape.join(' ')} (${count(shape)})`;
}

export function phaseName(phase: number): string {
  return phase === 0 ? 'TRAIN' : 'TEST';
}
