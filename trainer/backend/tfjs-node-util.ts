// What @tensorflow/tfjs-node and -node-gpu 4.22 get when they require('util') (native.ts points them
// here while they load): Node's util, with the two helpers they still call in their current form.
// util.isNullOrUndefined was removed in Node 23 (DEP0051), so every op that names a dtype would throw
// "isNullOrUndefined is not a function"; util.isArray prints a runtime deprecation warning since
// Node 22 (DEP0044). Their fix (tensorflow/tfjs#8425) is merged upstream but in no release yet.
export * from 'node:util';

export function isNullOrUndefined(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

export const isArray = Array.isArray;
