// Turns a zod schema into the structural OpenAPI v3 schema a CRD needs, and refuses anything the
// apiserver would reject, naming the path of the offending node.
import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

// zod writes these bounds for every z.int(); they say nothing a 64-bit integer field does not.
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
const FORBIDDEN_KEYS = ['$ref', 'definitions', '$defs', 'patternProperties', 'propertyNames', 'const', 'not'];

/** The structural OpenAPI schema of a zod schema, as a CRD's openAPIV3Schema accepts it. */
export function structuralSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', reused: 'inline' }) as JsonSchema;
  delete json.$schema;
  const cleaned = clean(json);
  assertStructural(cleaned, '');
  return cleaned;
}

function clean(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'additionalProperties' && value === false) continue;
    if ((key === 'minimum' || key === 'maximum') && SAFE_INTEGER_BOUNDS.has(value as number)) continue;
    out[key] = value;
  }
  if (out['x-kubernetes-preserve-unknown-fields'] === true) {
    // An open object: the apiserver keeps whatever it holds, so it lists no fields of its own.
    delete out.additionalProperties;
    if (out.properties && Object.keys(out.properties as object).length === 0) delete out.properties;
  }
  if (out['x-kubernetes-int-or-string'] === true && Array.isArray(out.anyOf)) {
    // The apiserver accepts exactly anyOf [{type: integer}, {type: string}] here; each branch's value
    // checks move up a level (pattern and maxLength only ever apply to strings, minimum to numbers).
    for (const branch of out.anyOf as JsonSchema[]) {
      for (const [key, value] of Object.entries(branch)) if (key !== 'type') out[key] = value;
    }
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, JsonSchema>).map(([k, v]) => [k, clean(v)]),
    );
  }
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = clean(out.additionalProperties as JsonSchema);
  }
  if (out.items) out.items = clean(out.items as JsonSchema);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (Array.isArray(out[key])) out[key] = (out[key] as JsonSchema[]).map(clean);
  }
  return out;
}

/**
 * Throws when a node breaks a rule of structural schemas (the Kubernetes docs: Custom Resources,
 * "Specifying a structural schema").
 */
export function assertStructural(
  node: JsonSchema,
  path: string,
  insideJunctor = false,
  intOrStringParent = false,
): void {
  const where = path || '<root>';
  for (const key of FORBIDDEN_KEYS) {
    if (key in node) throw new Error(`${where}: "${key}" is not allowed in a CRD schema`);
  }
  if (node.additionalProperties === false) {
    throw new Error(`${where}: additionalProperties: false is not allowed in a CRD schema`);
  }
  if (node.uniqueItems === true) throw new Error(`${where}: uniqueItems is not allowed in a CRD schema`);
  if (node.type === 'null' || Array.isArray(node.type)) {
    throw new Error(
      `${where}: type must be one string (use nullable: true), received ${JSON.stringify(node.type)}`,
    );
  }
  if (insideJunctor) {
    // Only value checks may sit in a junctor; int-or-string is the one place a type may.
    for (const key of ['default', 'description', 'nullable', 'additionalProperties']) {
      if (key in node) throw new Error(`${where}: "${key}" is not allowed inside anyOf/oneOf/allOf`);
    }
    if ('type' in node && !intOrStringParent) {
      throw new Error(`${where}: "type" is allowed inside anyOf only under x-kubernetes-int-or-string`);
    }
    if (intOrStringParent && Object.keys(node).some((key) => key !== 'type')) {
      throw new Error(`${where}: under x-kubernetes-int-or-string, anyOf may hold only the two types`);
    }
  } else {
    const open =
      node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true;
    if (!open && typeof node.type !== 'string') throw new Error(`${where}: every node needs a type`);
    if (path !== '' && typeof node.description !== 'string') {
      throw new Error(
        `${where}: every field needs a description (zod .describe()), so kubectl explain teaches it`,
      );
    }
  }
  if (node.properties && node.additionalProperties) {
    throw new Error(`${where}: properties and additionalProperties cannot be used together`);
  }
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, JsonSchema>)) {
    assertStructural(child, `${path}.${name}`);
  }
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    assertMapValue(node.additionalProperties as JsonSchema, `${path}[*]`);
  }
  if (node.items) assertMapValue(node.items as JsonSchema, `${path}[]`);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    for (const [i, child] of ((node[key] ?? []) as JsonSchema[]).entries()) {
      assertStructural(child, `${path}.${key}[${i}]`, true, node['x-kubernetes-int-or-string'] === true);
    }
  }
}

// List items and map values are described by their parent field, so a description is optional there.
function assertMapValue(node: JsonSchema, path: string): void {
  assertStructural(typeof node.description === 'string' ? node : { ...node, description: '(item)' }, path);
}
