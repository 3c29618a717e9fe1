// Which layers a net has for a NetState (phase, level, stages): Caffe's include/exclude rules.
import { BadInputError } from '../../contract/errors.js';
import type { LayerParameter, NetParameter, NetStateRule } from '../../proto/index.js';

export interface NetStateInput {
  phase: number;
  level: number;
  stages: string[];
}

/** A rule is met when every condition it states holds for the state. */
export function stateMeetsRule(state: NetStateInput, rule: NetStateRule): boolean {
  if (rule.phase !== undefined && rule.phase !== state.phase) return false;
  if (rule.minLevel !== undefined && state.level < rule.minLevel) return false;
  if (rule.maxLevel !== undefined && state.level > rule.maxLevel) return false;
  if ((rule.stage ?? []).some((s) => !state.stages.includes(s))) return false;
  if ((rule.notStage ?? []).some((s) => state.stages.includes(s))) return false;
  return true;
}

/** Include rules: kept if any is met. Exclude rules: dropped if any is met. No rules: kept. */
export function layerIsIncluded(state: NetStateInput, layer: LayerParameter, where: string): boolean {
  const include = layer.include ?? [];
  const exclude = layer.exclude ?? [];
  if (include.length > 0 && exclude.length > 0) {
    throw new BadInputError('specify either include rules or exclude rules, not both', where);
  }
  if (include.length > 0) return include.some((rule) => stateMeetsRule(state, rule));
  return !exclude.some((rule) => stateMeetsRule(state, rule));
}

/** The layers kept for `state`, each with `phase` filled in when unset (as Caffe stores it in snapshots). */
export function filterLayers(net: NetParameter, state: NetStateInput, fileName: string): LayerParameter[] {
  return (net.layer ?? [])
    .filter((layer, i) => layerIsIncluded(state, layer, `${fileName}: ${describeLayer(layer, i)}`))
    .map((layer) => (layer.phase === undefined ? { ...layer, phase: state.phase } : layer));
}

export function describeLayer(layer: LayerParameter, index: number): string {
  return layer.name ? `layer "${layer.name}" (${layer.type ?? 'no type'})` : `layer #${index}`;
}
