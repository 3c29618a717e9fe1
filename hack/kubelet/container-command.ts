// Pure decisions about how one container becomes one local process: which program runs (image
// mapping), with which arguments ($(VAR) expansion as Kubernetes does), in which environment, and
// where its volumes really are.
//
// Deviation from a real kubelet (the one we know of): a local process cannot see a container's
// mountPath, so every occurrence of a mountPath as a path prefix in the command, args, env values
// and workingDir is rewritten to the folder that backs the volume on this host. The whole map of
// mountPath -> folder is also given to the process as BREWERY_VOLUME_MOUNTS (JSON) for programs that
// build paths themselves, and BREWERY_CONTAINER_ROOT names a folder where every mountPath is a link to
// its volume (prefix a container path with it to reach the file).
// A second: every pod shares the host's network, so two pods cannot both listen on one port of every
// address. BREWERY_LISTEN_HOST gives each process its pod's own loopback address to listen on.

import type { V1Container, V1Pod } from '@kubernetes/client-node';

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const VOLUME_MOUNTS_ENV = 'BREWERY_VOLUME_MOUNTS';
export const TERMINATION_MESSAGE_ENV = 'BREWERY_TERMINATION_MESSAGE_PATH';
export const CONTAINER_ROOT_ENV = 'BREWERY_CONTAINER_ROOT';
export const LISTEN_HOST_ENV = 'BREWERY_LISTEN_HOST';

/** One entry of the --image-map file: how an image's programs run on this host. */
export interface ImageMapping {
  /** The program run when the container gives no command (the image's ENTRYPOINT + CMD). */
  entrypoint?: string[];
  /** Programs the image provides by name: a command whose first word is a key runs this prefix. */
  binaries?: Record<string, string[]>;
}

/** The --image-map file: {"images": {"<exact image or glob with *>": ImageMapping}}. */
export interface ImageMap {
  images: Record<string, ImageMapping>;
}

/** Values looked up from the cluster that a container's env may reference (undefined: not found). */
export interface EnvLookups {
  configMaps: Map<string, Record<string, string> | undefined>;
  /** Secret data already decoded from base64. */
  secrets: Map<string, Record<string, string> | undefined>;
}

export interface LaunchInput {
  pod: V1Pod;
  container: V1Container;
  imageMap: ImageMap;
  podIP: string;
  hostIP: string;
  nodeName: string;
  /** The pod's working folder on this host (the default working directory). */
  podDir: string;
  /** Volume name -> folder on this host. */
  volumeFolders: Map<string, string>;
  /** The per-container file that stands for terminationMessagePath. */
  terminationMessageFile: string;
  /**
   * A folder where each mountPath of the container is a link to its volume, so a program can find a
   * fixed container path by prefixing it (e.g. client-node's loadFromCluster(root) for the service
   * account token).
   */
  containerRoot: string;
  /** PATH and HOME (and anything else the kubelet passes on) from the kubelet's own environment. */
  hostEnv: Record<string, string>;
  apiserver: { host: string; port: string };
  lookups: EnvLookups;
}

export type Launch =
  | {
      ok: true;
      argv: string[];
      env: Record<string, string>;
      cwd: string;
      /** Container path -> host path, for BREWERY_CONTAINER_ROOT's links. */
      mounts: MountTable;
      containerRoot: string;
    }
  | { ok: false; reason: 'ImageNotMapped' | 'CreateContainerConfigError'; message: string };

/** Everything needed to spawn one container, or the reason it cannot start. */
export function planLaunch(input: LaunchInput): Launch {
  const { container } = input;
  const mounts = mountTable(input);
  const env = resolveEnv(input, mounts);
  if (!env.ok) return { ok: false, reason: 'CreateContainerConfigError', message: env.message };
  // Expand with the values as the container wrote them and rewrite once, so a replaced path is never
  // rewritten a second time.
  const lookup = (name: string) => env.unrewritten[name];
  const command = (container.command ?? []).map((word) => rewritePaths(expandVars(word, lookup), mounts));
  const args = (container.args ?? []).map((word) => rewritePaths(expandVars(word, lookup), mounts));
  const argv = resolveCommand(container.image ?? '', command, args, input.imageMap);
  if (!argv.ok) return { ok: false, reason: 'ImageNotMapped', message: argv.message };
  const cwd = container.workingDir ? rewritePaths(container.workingDir, mounts) : input.podDir;
  return { ok: true, argv: argv.argv, env: env.values, cwd, mounts, containerRoot: input.containerRoot };
}

/** The mapping whose pattern matches image: an exact key first, then globs in file order. */
function findImageMapping(imageMap: ImageMap, image: string): ImageMapping | undefined {
  const exact = imageMap.images[image];
  if (exact) return exact;
  for (const [pattern, mapping] of Object.entries(imageMap.images)) {
    if (pattern.includes('*') && globToRegExp(pattern).test(image)) return mapping;
  }
  return undefined;
}

/**
 * The argv of a container whose command and args are already expanded. A mapped image without a
 * command runs its entrypoint + args; a command naming one of its binaries runs that binary's prefix
 * + the rest; anything else runs command + args on the host as given.
 */
export function resolveCommand(
  image: string,
  command: string[],
  args: string[],
  imageMap: ImageMap,
): { ok: true; argv: string[] } | { ok: false; message: string } {
  const mapping = findImageMapping(imageMap, image);
  const [first, ...rest] = command;
  if (first === undefined) {
    if (mapping?.entrypoint && mapping.entrypoint.length > 0) {
      return { ok: true, argv: [...mapping.entrypoint, ...args] };
    }
    const why = mapping ? 'its image-map entry has no entrypoint' : 'no --image-map pattern matches it';
    return {
      ok: false,
      message: `image "${image}" cannot run without a command: ${why}, and the container gives no command`,
    };
  }
  const binary = mapping?.binaries?.[first] ?? mapping?.binaries?.[baseName(first)];
  if (binary) return { ok: true, argv: [...binary, ...rest, ...args] };
  return { ok: true, argv: [...command, ...args] };
}

/**
 * Kubernetes' $(VAR) expansion: $(NAME) becomes NAME's value when defined and stays as written when
 * not; $$ is an escaped $; an unterminated $( is kept literally.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 2;
      } else {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += '$' + next;
      i += 2;
    }
  }
  return out;
}

/** [container path, host path] pairs, longest container path first so nested mounts win. */
export type MountTable = Array<[string, string]>;

/** The container's mounts (and its termination message path) as seen on this host. */
function mountTable(input: LaunchInput): MountTable {
  const table: MountTable = [];
  for (const mount of input.container.volumeMounts ?? []) {
    const folder = input.volumeFolders.get(mount.name);
    if (folder === undefined) continue;
    const hostPath = mount.subPath ? joinPath(folder, mount.subPath) : folder;
    table.push([trimSlash(mount.mountPath), hostPath]);
  }
  const messagePath = input.container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
  table.push([messagePath, input.terminationMessageFile]);
  return table.sort((a, b) => b[0].length - a[0].length);
}

/**
 * Replaces each container path that appears as a whole path prefix (at the start of text or after a
 * character that cannot be part of a path, such as '=', ':' or a space, and followed by '/' or the end
 * of the path) by its host folder. One pass, so a replacement is never rewritten again.
 */
export function rewritePaths(text: string, mounts: MountTable): string {
  let out = '';
  let i = 0;
  outer: while (i < text.length) {
    const before = i === 0 ? '' : text[i - 1]!;
    if (text[i] === '/' && !isPathChar(before)) {
      for (const [from, to] of mounts) {
        if (from === '' || !text.startsWith(from, i)) continue;
        const after = text[i + from.length];
        if (after === undefined || after === '/' || !isPathChar(after)) {
          out += to;
          i += from.length;
          continue outer;
        }
      }
    }
    out += text[i];
    i++;
  }
  return out;
}

/** The value of a downward API field path, or undefined when the path is not supported. */
export function fieldRefValue(
  pod: V1Pod,
  fieldPath: string,
  where: { podIP: string; hostIP: string; nodeName: string },
): string | undefined {
  const meta = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (keyed) {
    const map = keyed[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[keyed[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatKeyValues(meta.labels);
    case 'metadata.annotations':
      return formatKeyValues(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? where.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return where.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return where.hostIP;
    default:
      return undefined;
  }
}

/** Names of the ConfigMaps and Secrets a container's env and envFrom reference. */
export function envReferences(container: V1Container): { configMaps: string[]; secrets: string[] } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef?.name) configMaps.add(source.configMapRef.name);
    if (source.secretRef?.name) secrets.add(source.secretRef.name);
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from?.configMapKeyRef?.name) configMaps.add(from.configMapKeyRef.name);
    if (from?.secretKeyRef?.name) secrets.add(from.secretKeyRef.name);
  }
  return { configMaps: [...configMaps], secrets: [...secrets] };
}

/**
 * The process environment, lowest precedence first: the kubelet's PATH and HOME, the apiserver's
 * service variables, POD_IP/POD_NAME/POD_NAMESPACE/NODE_NAME, envFrom, env (each value expanded with
 * the variables before it), then ours (BREWERY_*). Container-given values are path-rewritten.
 */
function resolveEnv(
  input: LaunchInput,
  mounts: MountTable,
):
  | { ok: true; values: Record<string, string>; unrewritten: Record<string, string> }
  | { ok: false; message: string } {
  const { pod, container, lookups } = input;
  const values: Record<string, string> = { ...input.hostEnv };
  values.KUBERNETES_SERVICE_HOST = input.apiserver.host;
  values.KUBERNETES_SERVICE_PORT = input.apiserver.port;
  values.POD_IP = input.podIP;
  values.POD_NAME = pod.metadata?.name ?? '';
  values.POD_NAMESPACE = pod.metadata?.namespace ?? '';
  values.NODE_NAME = input.nodeName;
  const given: Record<string, string> = {};

  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? 'configmap' : 'secret';
    if (!ref?.name) continue;
    const data = (source.configMapRef ? lookups.configMaps : lookups.secrets).get(ref.name);
    if (data === undefined) {
      if (ref.optional) continue;
      return {
        ok: false,
        message: `${kind} "${ref.name}" not found (envFrom of container ${container.name})`,
      };
    }
    for (const [key, value] of Object.entries(data)) given[prefix + key] = value;
  }

  for (const variable of container.env ?? []) {
    const known = (name: string) => given[name] ?? values[name];
    if (variable.valueFrom === undefined) {
      given[variable.name] = expandVars(variable.value ?? '', known);
      continue;
    }
    const resolved = resolveValueFrom(input, variable.name, variable.valueFrom);
    if (!resolved.ok) return resolved;
    if (resolved.value !== undefined) given[variable.name] = resolved.value;
  }

  const unrewritten = { ...values, ...given };
  for (const [name, value] of Object.entries(given)) values[name] = rewritePaths(value, mounts);
  values[VOLUME_MOUNTS_ENV] = JSON.stringify(
    Object.fromEntries(mounts.filter(([from]) => from !== messagePathOf(container))),
  );
  values[TERMINATION_MESSAGE_ENV] = input.terminationMessageFile;
  values[CONTAINER_ROOT_ENV] = input.containerRoot;
  values[LISTEN_HOST_ENV] = input.podIP;
  return { ok: true, values, unrewritten };
}

// ---- helpers ----

function resolveValueFrom(
  input: LaunchInput,
  name: string,
  from: NonNullable<NonNullable<V1Container['env']>[number]['valueFrom']>,
): { ok: true; value: string | undefined } | { ok: false; message: string } {
  const where = `env ${name} of container ${input.container.name}`;
  if (from.fieldRef) {
    const value = fieldRefValue(input.pod, from.fieldRef.fieldPath, input);
    if (value === undefined) {
      return { ok: false, message: `${where}: unsupported fieldRef "${from.fieldRef.fieldPath}"` };
    }
    return { ok: true, value };
  }
  const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
  if (keyRef) {
    const kind = from.configMapKeyRef ? 'configmap' : 'secret';
    const data = (from.configMapKeyRef ? input.lookups.configMaps : input.lookups.secrets).get(
      keyRef.name ?? '',
    );
    const value = data?.[keyRef.key];
    if (value !== undefined) return { ok: true, value };
    if (keyRef.optional) return { ok: true, value: undefined };
    const missing =
      data === undefined ? `${kind} "${keyRef.name}" not found` : `key "${keyRef.key}" not found`;
    return { ok: false, message: `${where}: ${missing} in ${kind} "${keyRef.name}"` };
  }
  // resourceFieldRef and fileKeyRef are not supported on local processes: the variable is left unset.
  return { ok: true, value: undefined };
}

function messagePathOf(container: V1Container): string {
  return container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
}

function isPathChar(ch: string): boolean {
  return /[A-Za-z0-9._~@+\-/]/.test(ch);
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function joinPath(folder: string, sub: string): string {
  return `${trimSlash(folder)}/${sub.replace(/^\/+/, '')}`;
}

function formatKeyValues(map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}="${v}"`)
    .join('\n');
}
