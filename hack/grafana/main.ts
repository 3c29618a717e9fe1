// hack/dashboards: the chart's Grafana dashboards against a real Prometheus (Grafana itself is not run).
//   preview --prometheus=URL [--from=T] [--to=T] [--namespace=RE] [--job=RE] [--out=DIR]
//           [--scrape-interval=SECONDS] [--width=PIXELS] [--dashboards=DIR]
//       every panel's queries over the time range (T: ISO 8601 or unix seconds; default the last
//       hour), each dashboard drawn as <out>/<name>.png (default .brewery/dashboards)
//   scrape-config --kubeconfig=FILE [--interval=SECONDS] [--operator=HOST:PORT --operator-namespace=NS]
//       prometheus.yml for the local cluster: the chart's scrape configs, plus an operator process
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { BadInputError, ExitCode, UsageError } from '../../trainer/contract/errors.js';
import { DASHBOARDS_DIR } from './dashboards.js';
import { previewDashboards } from './preview.js';
import { scrapeConfigFor } from './scrape-config.js';

const HOUR_MS = 3_600_000;

function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('hack/dashboards: no package.json above the script');
    dir = parent;
  }
  return dir;
}

/** ISO 8601 or unix seconds, as unix milliseconds. */
export function parseTime(text: string, flag: string): number {
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw new BadInputError(`expected ISO 8601 or unix seconds, received ${JSON.stringify(text)}`, flag);
  }
  return ms;
}

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new BadInputError(`expected a positive number, received ${JSON.stringify(text)}`, flag);
  }
  return value;
}

async function preview(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      prometheus: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      namespace: { type: 'string', default: '.*' },
      job: { type: 'string', default: '.*' },
      out: { type: 'string', default: join(repositoryRoot(), '.brewery/dashboards') },
      'scrape-interval': { type: 'string', default: '15' },
      width: { type: 'string', default: '1600' },
      dashboards: { type: 'string', default: join(repositoryRoot(), DASHBOARDS_DIR) },
    },
  });
  if (!values.prometheus) throw new UsageError('preview: --prometheus=URL is required');
  const to = values.to ? parseTime(values.to, '--to') : Date.now();
  const from = values.from ? parseTime(values.from, '--from') : to - HOUR_MS;
  if (from >= to) throw new BadInputError(`expected --from before --to`, '--from');
  const previews = await previewDashboards({
    prometheus: values.prometheus.replace(/\/$/, ''),
    dashboards: resolve(values.dashboards),
    out: resolve(values.out),
    from,
    to,
    values: { datasource: 'prometheus', namespace: values.namespace, job_name: values.job },
    scrapeIntervalSeconds: positive(values['scrape-interval'], '--scrape-interval'),
    width: Math.round(positive(values.width, '--width')),
  });
  for (const { png, panels } of previews) {
    const empty = panels.filter((p) => p.series === 0).map((p) => p.title);
    const data = empty.length ? `no data in ${empty.join(', ')}` : 'all with data';
    console.log(`wrote ${relative(process.cwd(), png) || png}: ${panels.length} panels, ${data}`);
  }
  return ExitCode.Ok;
}

function scrapeConfig(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string', default: process.env.KUBECONFIG },
      interval: { type: 'string', default: '5' },
      operator: { type: 'string' },
      'operator-namespace': { type: 'string', default: 'default' },
    },
  });
  if (!values.kubeconfig)
    throw new UsageError('scrape-config: --kubeconfig=FILE (or KUBECONFIG) is required');
  const operator = values.operator
    ? { address: values.operator, namespace: values['operator-namespace'], pod: `operator-${hostname()}` }
    : undefined;
  const interval = positive(values.interval, '--interval');
  process.stdout.write(scrapeConfigFor(repositoryRoot(), resolve(values.kubeconfig), interval, operator));
  return ExitCode.Ok;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'preview') return preview(rest);
  if (command === 'scrape-config') return scrapeConfig(rest);
  throw new UsageError(`expected a command, preview or scrape-config, received ${command ?? 'none'}`);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // parseArgs throws a TypeError with a code for an unknown flag: a usage error too.
    const usage = error instanceof UsageError || (error instanceof TypeError && 'code' in error);
    console.error(`hack/dashboards: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode =
      error instanceof BadInputError ? ExitCode.BadInput : usage ? ExitCode.Usage : ExitCode.Failure;
  },
);
