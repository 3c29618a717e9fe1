// The kubelet's command line (hack/cluster starts it with exactly these flags):
//   --kubeconfig=PATH --state-dir=DIR --port=PORT --tls-cert-file=F --tls-private-key-file=F
//   --image-map=FILE --node=NAME:cpu=4,memory=8Gi,nvidia.com/gpu=1[,pods=110] [--node=...]
//   [--pod-ip-base=127.1.0.0]

export interface NodeSpec {
  name: string;
  /** Resource name -> quantity, defaults filled in (cpu, memory, pods, ephemeral-storage). */
  capacity: Record<string, string>;
}

export interface KubeletFlags {
  kubeconfig: string;
  stateDir: string;
  port: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  imageMap: string;
  nodes: NodeSpec[];
  podIpBase: string;
}

export const USAGE = `usage: kubelet --kubeconfig=PATH --state-dir=DIR --port=PORT --tls-cert-file=F
  --tls-private-key-file=F --image-map=FILE --node=NAME:cpu=4,memory=8Gi[,nvidia.com/gpu=1][,pods=110]
  [--node=...] [--pod-ip-base=127.1.0.0]`;

const DEFAULT_CAPACITY: Record<string, string> = {
  cpu: '2',
  memory: '4Gi',
  pods: '110',
  'ephemeral-storage': '100Gi',
};
const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const RESOURCE_NAME = /^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function parseFlags(argv: string[]): KubeletFlags {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match) throw new Error(`expected a flag like --name=value, received '${arg}'\n${USAGE}`);
    const name = match[1]!;
    let value = match[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`flag --${name}: expected a value, received none\n${USAGE}`);
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const known = [
    'kubeconfig',
    'state-dir',
    'port',
    'tls-cert-file',
    'tls-private-key-file',
    'image-map',
    'node',
    'pod-ip-base',
  ];
  for (const name of values.keys()) {
    if (!known.includes(name)) throw new Error(`unknown flag --${name}\n${USAGE}`);
  }
  const one = (name: string): string => {
    const given = values.get(name);
    if (!given) throw new Error(`flag --${name} is required\n${USAGE}`);
    return given.at(-1)!;
  };
  const port = Number(one('port'));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`flag --port: expected a port number 1-65535, received '${one('port')}'`);
  }
  const nodes = (values.get('node') ?? []).map(parseNodeFlag);
  if (nodes.length === 0) throw new Error(`at least one --node is required\n${USAGE}`);
  const names = nodes.map((n) => n.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new Error(`flag --node: node '${duplicate}' is given twice`);
  return {
    kubeconfig: one('kubeconfig'),
    stateDir: one('state-dir'),
    port,
    tlsCertFile: one('tls-cert-file'),
    tlsKeyFile: one('tls-private-key-file'),
    imageMap: one('image-map'),
    nodes,
    podIpBase: values.get('pod-ip-base')?.at(-1) ?? '127.1.0.0',
  };
}

/** NAME:cpu=4,memory=8Gi,nvidia.com/gpu=1 -> a NodeSpec with defaults for what is not given. */
export function parseNodeFlag(text: string): NodeSpec {
  const colon = text.indexOf(':');
  const name = colon < 0 ? text : text.slice(0, colon);
  if (!DNS_SUBDOMAIN.test(name)) {
    throw new Error(
      `flag --node: expected a node name (lower-case DNS subdomain), received '${name}' in '${text}'`,
    );
  }
  const capacity = { ...DEFAULT_CAPACITY };
  const resources = colon < 0 ? '' : text.slice(colon + 1);
  for (const pair of resources.split(',').filter((p) => p !== '')) {
    const [resource, quantity, ...rest] = pair.split('=');
    if (!resource || quantity === undefined || rest.length > 0 || !RESOURCE_NAME.test(resource)) {
      throw new Error(`flag --node: expected resource=quantity, received '${pair}' in '${text}'`);
    }
    if (!QUANTITY.test(quantity)) {
      throw new Error(
        `flag --node: expected a quantity like 4, 500m or 8Gi for ${resource}, received '${quantity}'`,
      );
    }
    capacity[resource] = quantity;
  }
  return { name, capacity };
}
