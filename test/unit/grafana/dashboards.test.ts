// The chart's dashboards as the SDK's builders make them, read back through the SDK's types, and the
// pure parts of `hack/dashboards preview`: the query window, legend names, values in a unit, the grid.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { DASHBOARDS_DIR, dashboardJson, dashboards } from '../../../hack/grafana/dashboards.js';
import { dashboardPicture, formatValue, gridBands, timeFormat } from '../../../hack/grafana/picture.js';
import { queryWindow, seriesName } from '../../../hack/grafana/preview.js';
import { loadDashboards, panelQueries, panelsOf, parseDashboard } from '../../../hack/grafana/queries.js';
import { renderSvg } from '../../../trainer/plot/render.js';

// From dist/test/unit/grafana/ (compiled), four folders up is the repository.
const dir = () => join(fileURLToPath(new URL('../../../../', import.meta.url)), DASHBOARDS_DIR);

test('the chart holds exactly the dashboards the builders write, byte for byte', () => {
  const built = dashboards();
  const files = readdirSync(dir()).filter((name) => name.endsWith('.json'));
  assert.deepEqual(files.sort(), [...built.keys()].sort());
  for (const [file, board] of built) {
    assert.equal(
      readFileSync(join(dir(), file), 'utf8'),
      dashboardJson(board),
      `${file}: npm run gen:dashboards`,
    );
  }
});

test('each generated file loads as a dashboard.Dashboard, every panel placed and every query named', () => {
  for (const { file, dashboard } of loadDashboards(dir())) {
    assert.ok(dashboard.uid?.startsWith('brewery-'), `${file}: uid ${dashboard.uid}`);
    const ids = (dashboard.panels ?? []).map((p) => p.id);
    assert.deepEqual(
      ids,
      ids.map((_, i) => i + 1),
      `${file}: panel ids`,
    );
    for (const panel of panelsOf(dashboard)) {
      assert.ok(
        panel.title && panel.description,
        `${file}: ${panel.title ?? panel.type} has a title and description`,
      );
      assert.ok((panel.targets ?? []).length > 0, `${file}: ${panel.title} has queries`);
    }
  }
});

test('the training dashboard draws loss on a log axis and shows each job phase', () => {
  const training = dashboards().get('training.json')!;
  const byTitle = new Map(panelsOf(training).map((p) => [p.title, p]));
  for (const title of ['Train loss', 'Test loss']) {
    assert.equal(byTitle.get(title)?.fieldConfig?.defaults?.custom?.scaleDistribution?.type, 'log', title);
  }
  assert.equal(byTitle.get('Phase')?.type, 'state-timeline');
  assert.equal(byTitle.get('Test accuracy')?.fieldConfig?.defaults?.unit, 'percentunit');
});

test('every query reads the namespace and job variables, and none is left unreplaced', () => {
  const queries = panelQueries(
    dir(),
    { datasource: 'p', namespace: 'ns-a', job_name: 'job-b' },
    {
      rateInterval: '30s',
      range: '1h',
    },
  );
  assert.ok(queries.length >= 25, `found ${queries.length} queries`);
  for (const query of queries) {
    assert.ok(query.expr.includes('namespace=~"ns-a"'), `${query.where}: ${query.expr}`);
    assert.ok(!query.expr.includes('$'), `${query.where}: ${query.expr}`);
  }
});

test('a dashboard file without panels or with a query missing its refId is refused, naming the field', () => {
  assert.throws(() => parseDashboard('{"uid": "u", "title": "t", "schemaVersion": 41}', 'a.json'), {
    name: 'BadInputError',
    message: 'a.json: panels: expected a list of panels',
  });
  const noRefId = {
    uid: 'u',
    title: 't',
    schemaVersion: 41,
    panels: [
      { type: 'timeseries', title: 'Loss', gridPos: { x: 0, y: 0, w: 12, h: 8 }, targets: [{ expr: 'up' }] },
    ],
  };
  assert.throws(() => parseDashboard(JSON.stringify(noRefId), 'b.json'), {
    message: 'b.json: panels[0] (Loss).targets[0]: expected a Prometheus query with expr and refId',
  });
  assert.throws(() => parseDashboard('{', 'c.json'), {
    name: 'BadInputError',
    message: /^c\.json: expected a Grafana/,
  });
});

test("the query step gives about 300 points, and $__rate_interval is Grafana's: max(step + scrape, 4 scrapes)", () => {
  assert.deepEqual(queryWindow(0, 300_000, 2), { step: 2, rateInterval: '8s', range: '300s' });
  assert.deepEqual(queryWindow(0, 3_600_000, 2), { step: 12, rateInterval: '14s', range: '3600s' });
  assert.deepEqual(queryWindow(0, 60_000, 15), { step: 15, rateInterval: '60s', range: '60s' });
});

test('a series is named by its legend format, or by all its labels without one', () => {
  const labels = { __name__: 'caffe_test_output', job_name: 'mini', test_net: '0', output: 'accuracy' };
  assert.equal(seriesName('{{job_name}} net {{test_net}} {{output}}', labels), 'mini net 0 accuracy');
  assert.equal(seriesName('{{ job_name }} {{missing}}', labels), 'mini ');
  assert.equal(seriesName('', labels), 'caffe_test_output{job_name="mini", test_net="0", output="accuracy"}');
});

test('values print in their Grafana unit', () => {
  assert.equal(formatValue(0.4567, 'percentunit'), '45.7%');
  assert.equal(formatValue(0.0123, 's'), '12.3 ms');
  assert.equal(formatValue(2.5, 's'), '2.5 s');
  assert.equal(formatValue(123.456, 'suffix: img/s'), '123.5 img/s');
  assert.equal(formatValue(12345.6, 'none'), '12346');
});

test('time axes show seconds over half an hour at most, dates over two days', () => {
  assert.equal(timeFormat(5 * 60_000), '%H:%M:%S');
  assert.equal(timeFormat(6 * 3_600_000), '%H:%M');
  assert.equal(timeFormat(7 * 86_400_000), '%b %d %H:%M');
});

test('panels are laid out by grid row, left to right', () => {
  const at = (x: number, y: number) => ({
    type: 'timeseries',
    title: `${x},${y}`,
    gridPos: { x, y, w: 6, h: 8 },
  });
  const bands = gridBands([at(12, 9), at(0, 1), at(0, 9), at(6, 1)]);
  assert.deepEqual(
    bands.map((band) => band.map((p) => p.title)),
    [
      ['0,1', '6,1'],
      ['0,9', '12,9'],
    ],
  );
});

test('the picture of a dashboard names every panel, its unit and its series, and says where there is no data', async () => {
  const training = dashboards().get('training.json')!;
  const from = Date.UTC(2026, 0, 1);
  const data = panelsOf(training).map((panel) => ({
    panel,
    series:
      panel.title === 'Restarts'
        ? []
        : [
            {
              name: 'mini-caffenet smoothed',
              labels: { job_name: 'mini-caffenet', net: 'CaffeNet' },
              points: [0, 1, 2].map((i): [number, number] => [from + i * 60_000, 0.5 / (i + 1)]),
            },
          ],
  }));
  const svg = await renderSvg(
    dashboardPicture(training, data, { width: 1600, from, to: from + 180_000, subtitle: 's' }),
  );
  for (const panel of panelsOf(training)) assert.ok(svg.includes(`>${panel.title}<`), `${panel.title} drawn`);
  for (const text of [
    'Progress',
    'No data',
    'img/s',
    'seconds',
    'mini-caffenet smoothed   last 0.1667',
    'CaffeNet',
  ]) {
    assert.ok(svg.includes(text), `the picture shows ${text}`);
  }
  assert.equal(svg.split('No data').length - 1, 1, 'one panel without data');
});
