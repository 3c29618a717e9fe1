// Writes the chart's Grafana dashboards from the builders in this folder:
//   charts/brewery/dashboards/training.json   from training.ts
//   charts/brewery/dashboards/operator.json   from operator.ts
//   npm run gen:dashboards [-- --check]
// --check writes nothing and fails when a file differs from what would be written, or when the folder
// holds a dashboard no builder writes (dashboards are code: none is written by hand).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DASHBOARDS_DIR, dashboardJson, dashboards } from './dashboards.js';

// From dist/hack/grafana/ (compiled) or hack/grafana/ the repository root is found by its package.json.
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('gen-dashboards: no package.json above the script');
    dir = parent;
  }
  return dir;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const root = repositoryRoot();
  const dir = join(root, DASHBOARDS_DIR);
  const files = dashboards();
  const stale: string[] = [];
  for (const [name, board] of files) {
    const path = join(dir, name);
    const text = dashboardJson(board);
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    stale.push(`${DASHBOARDS_DIR}/${name}`);
    if (!check) writeFileSync(path, text);
  }
  const unknown = readdirSync(dir)
    .filter((name) => name.endsWith('.json') && !files.has(name))
    .map((name) => `${DASHBOARDS_DIR}/${name} (no builder writes it: write it in hack/grafana or delete it)`);
  const shown = relative(process.cwd(), root) || '.';
  if (check) {
    const problems = [...stale, ...unknown];
    if (problems.length === 0) return 0;
    console.error(
      `dashboards in ${shown} are stale; run \`npm run gen:dashboards\`. Out of date: ${problems.join(', ')}`,
    );
    return 1;
  }
  console.log(stale.length ? `wrote ${stale.join(', ')}` : 'dashboards are up to date');
  if (unknown.length) console.error(`not generated: ${unknown.join(', ')}`);
  return unknown.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
