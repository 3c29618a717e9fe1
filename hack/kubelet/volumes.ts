// Pod volumes as folders under the pod's working folder. planVolume (pure) decides what a volume
// holds; setUpVolumes looks up the ConfigMaps and Secrets and writes the files.

import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import type { V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';

import { fieldRefValue } from './container-command.js';

/** Key -> bytes of a ConfigMap (data and binaryData) or a Secret (decoded). */
export type KeyData = Record<string, Buffer>;

export interface VolumeLookups {
  configMaps: Map<string, KeyData | undefined>;
  secrets: Map<string, KeyData | undefined>;
  /**
   * Service account tokens by tokenKey (volume and path: the admission plugin's kube-api-access volume
   * has a `token` too, for another audience), when one could be requested.
   */
  tokens: Map<string, string>;
}

export interface VolumeFile {
  path: string;
  data: Buffer;
  mode?: number;
}

export type VolumePlan =
  /** A folder of the pod's (emptyDir and the types we cannot provide locally). */
  | { kind: 'folder'; files: VolumeFile[]; note?: string }
  /** A folder of the host used as is (hostPath). */
  | { kind: 'host'; path: string };

export interface PodPlace {
  podIP: string;
  hostIP: string;
  nodeName: string;
}

/** Names of the ConfigMaps and Secrets the pod's volumes need, and the token projections. */
export function volumeReferences(pod: V1Pod): { configMaps: string[]; secrets: string[] } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.configMap?.name) configMaps.add(volume.configMap.name);
    if (volume.secret?.secretName) secrets.add(volume.secret.secretName);
    for (const source of volume.projected?.sources ?? []) {
      if (source.configMap?.name) configMaps.add(source.configMap.name);
      if (source.secret?.name) secrets.add(source.secret.name);
    }
  }
  return { configMaps: [...configMaps], secrets: [...secrets] };
}

/**
 * What one volume holds. A missing ConfigMap or Secret that is not optional is an error (the pod
 * waits in ContainerCreating, as with a real kubelet); in projected volumes it is only skipped, so a
 * cluster without the root CA publisher can still run pods with the default API access volume.
 */
export function planVolume(
  volume: V1Volume,
  pod: V1Pod,
  lookups: VolumeLookups,
  place: PodPlace,
): { ok: true; plan: VolumePlan } | { ok: false; message: string } {
  if (volume.hostPath) return { ok: true, plan: { kind: 'host', path: volume.hostPath.path } };
  if (volume.configMap) {
    const name = volume.configMap.name ?? '';
    const data = lookups.configMaps.get(name);
    if (data === undefined && !volume.configMap.optional) {
      return { ok: false, message: `configmap "${name}" not found (volume ${volume.name})` };
    }
    return keyFiles(
      data ?? {},
      volume.configMap.items,
      volume.configMap.defaultMode,
      volume.name,
      'configmap',
    );
  }
  if (volume.secret) {
    const name = volume.secret.secretName ?? '';
    const data = lookups.secrets.get(name);
    if (data === undefined && !volume.secret.optional) {
      return { ok: false, message: `secret "${name}" not found (volume ${volume.name})` };
    }
    return keyFiles(data ?? {}, volume.secret.items, volume.secret.defaultMode, volume.name, 'secret');
  }
  if (volume.downwardAPI) {
    const files = downwardFiles(volume.downwardAPI.items ?? [], pod, place);
    return { ok: true, plan: { kind: 'folder', files } };
  }
  if (volume.projected) {
    const files: VolumeFile[] = [];
    for (const source of volume.projected.sources ?? []) {
      if (source.configMap) {
        const data = lookups.configMaps.get(source.configMap.name ?? '');
        const planned = keyFiles(data ?? {}, source.configMap.items, undefined, volume.name, 'configmap');
        if (planned.ok && planned.plan.kind === 'folder') files.push(...planned.plan.files);
      }
      if (source.secret) {
        const data = lookups.secrets.get(source.secret.name ?? '');
        const planned = keyFiles(data ?? {}, source.secret.items, undefined, volume.name, 'secret');
        if (planned.ok && planned.plan.kind === 'folder') files.push(...planned.plan.files);
      }
      if (source.downwardAPI) files.push(...downwardFiles(source.downwardAPI.items ?? [], pod, place));
      const token =
        source.serviceAccountToken &&
        lookups.tokens.get(tokenKey(volume.name, source.serviceAccountToken.path));
      if (source.serviceAccountToken && token !== undefined) {
        files.push({ path: source.serviceAccountToken.path, data: Buffer.from(token) });
      }
    }
    return { ok: true, plan: { kind: 'folder', files } };
  }
  if (volume.emptyDir) return { ok: true, plan: { kind: 'folder', files: [] } };
  const type = Object.keys(volume).find((key) => key !== 'name') ?? 'unknown';
  return {
    ok: true,
    plan: {
      kind: 'folder',
      files: [],
      note: `volume type ${type} is not available locally: an empty folder`,
    },
  };
}

/** Where a projected token is kept in VolumeLookups.tokens. */
export function tokenKey(volume: string, path: string): string {
  return `${volume}/${path}`;
}

/** Makes every volume of the pod; returns volume name -> folder, or the first problem. */
export function setUpVolumes(
  pod: V1Pod,
  podDir: string,
  lookups: VolumeLookups,
  place: PodPlace,
  warn: (message: string) => void,
): { ok: true; folders: Map<string, string> } | { ok: false; message: string } {
  const folders = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) {
    const planned = planVolume(volume, pod, lookups, place);
    if (!planned.ok) return planned;
    const { plan } = planned;
    if (plan.kind === 'host') {
      folders.set(volume.name, plan.path);
      continue;
    }
    if (plan.note) warn(plan.note);
    const folder = join(podDir, 'volumes', volume.name);
    mkdirSync(folder, { recursive: true });
    for (const file of plan.files) {
      const target = resolve(folder, file.path);
      if (!target.startsWith(folder + '/')) {
        return { ok: false, message: `volume ${volume.name}: path "${file.path}" leaves the volume` };
      }
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.data);
      if (file.mode !== undefined) chmodSync(target, file.mode & 0o777);
    }
    folders.set(volume.name, folder);
  }
  return { ok: true, folders };
}

/** Makes rootfs/<mountPath> a link to each mount's folder (see BREWERY_CONTAINER_ROOT). */
export function linkContainerRoot(root: string, mounts: Array<[string, string]>): void {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  // Shorter paths first, so a mount inside another one is linked inside the outer volume's folder.
  for (const [mountPath, folder] of [...mounts].sort((a, b) => a[0].length - b[0].length)) {
    const link = join(root, mountPath);
    if (!resolve(link).startsWith(root + '/') || existsSync(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(folder, link);
  }
}

// ---- helpers ----

function keyFiles(
  data: KeyData,
  items: V1KeyToPath[] | undefined,
  defaultMode: number | undefined,
  volumeName: string,
  kind: string,
): { ok: true; plan: VolumePlan } | { ok: false; message: string } {
  const files: VolumeFile[] = [];
  if (items && items.length > 0) {
    for (const item of items) {
      const bytes = data[item.key];
      if (bytes === undefined) {
        return { ok: false, message: `volume ${volumeName}: key "${item.key}" not found in the ${kind}` };
      }
      files.push(withMode({ path: item.path, data: bytes }, item.mode ?? defaultMode));
    }
  } else {
    for (const [key, bytes] of Object.entries(data))
      files.push(withMode({ path: key, data: bytes }, defaultMode));
  }
  return { ok: true, plan: { kind: 'folder', files } };
}

function downwardFiles(
  items: Array<{ path: string; fieldRef?: { fieldPath: string }; mode?: number }>,
  pod: V1Pod,
  place: PodPlace,
): VolumeFile[] {
  const files: VolumeFile[] = [];
  for (const item of items) {
    const value = item.fieldRef ? fieldRefValue(pod, item.fieldRef.fieldPath, place) : undefined;
    if (value !== undefined) files.push(withMode({ path: item.path, data: Buffer.from(value) }, item.mode));
  }
  return files;
}

function withMode(file: VolumeFile, mode: number | undefined): VolumeFile {
  return mode === undefined ? file : { ...file, mode };
}
