// Standard conditions: set one by type, keeping lastTransitionTime when the status did not change,
// and compare statuses so the operator writes only when something changed.
import { isDeepStrictEqual } from 'node:util';

import type { Condition } from '../api/common.js';

export type ConditionInput = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** The conditions with `next` set: a new lastTransitionTime only when its status flips (or it is new). */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput,
  now: Date,
  observedGeneration: number | undefined,
): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime =
    previous && previous.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const condition: Condition = { ...next, lastTransitionTime };
  if (observedGeneration !== undefined) condition.observedGeneration = observedGeneration;
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

/** Sets several conditions at once, in order. */
export function setConditions(
  conditions: readonly Condition[] | undefined,
  next: ConditionInput[],
  now: Date,
  observedGeneration: number | undefined,
): Condition[] {
  return next.reduce<Condition[]>(
    (list, condition) => setCondition(list, condition, now, observedGeneration),
    [...(conditions ?? [])],
  );
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** True when two statuses differ in anything but key order and undefined fields. */
export function statusChanged(before: unknown, after: unknown): boolean {
  return !isDeepStrictEqual(normalise(before), normalise(after));
}

function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, normalise(v)]),
    );
  }
  return value;
}
