// Reading what a pod's volumes and a container's env refer to (ConfigMaps, Secrets, service account
// tokens) from the apiserver, in the shapes planVolume and planLaunch take.

import type { V1Container, V1Pod } from '@kubernetes/client-node';

import type { PodApi } from './cluster-client.js';
import { type EnvLookups, envReferences } from './container-command.js';
import { tokenKey, type VolumeLookups, volumeReferences } from './volumes.js';

const TOKEN_SECONDS = 3600;

type Warn = (message: string, error: unknown) => void;

/** ConfigMaps, Secrets and tokens for the pod's volumes; a failed token request is only warned of. */
export async function volumeLookups(api: PodApi, pod: V1Pod, warn: Warn): Promise<VolumeLookups> {
  const namespace = pod.metadata?.namespace ?? '';
  const refs = volumeReferences(pod);
  const lookups: VolumeLookups = { configMaps: new Map(), secrets: new Map(), tokens: new Map() };
  for (const name of refs.configMaps) lookups.configMaps.set(name, await api.readConfigMap(namespace, name));
  for (const name of refs.secrets) lookups.secrets.set(name, await api.readSecret(namespace, name));
  const account = pod.spec?.serviceAccountName ?? 'default';
  for (const volume of pod.spec?.volumes ?? []) {
    for (const source of volume.projected?.sources ?? []) {
      const token = source.serviceAccountToken;
      if (!token) continue;
      try {
        const seconds = token.expirationSeconds ?? TOKEN_SECONDS;
        const bound = { name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
        lookups.tokens.set(
          tokenKey(volume.name, token.path),
          await api.requestToken(namespace, account, token.audience, seconds, bound),
        );
      } catch (error) {
        warn(`service account token request for ${namespace}/${account} failed`, error);
      }
    }
  }
  return lookups;
}

/** ConfigMaps and Secrets (as text) that a container's env and envFrom refer to. */
export async function envLookups(
  api: PodApi,
  namespace: string,
  container: V1Container,
  warn: Warn,
): Promise<EnvLookups> {
  const refs = envReferences(container);
  const lookups: EnvLookups = { configMaps: new Map(), secrets: new Map() };
  const asText = (data: Record<string, Buffer> | undefined) =>
    data && Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('utf8')]));
  try {
    for (const name of refs.configMaps)
      lookups.configMaps.set(name, asText(await api.readConfigMap(namespace, name)));
    for (const name of refs.secrets) lookups.secrets.set(name, asText(await api.readSecret(namespace, name)));
  } catch (error) {
    warn('looking up env sources failed', error);
  }
  return lookups;
}
