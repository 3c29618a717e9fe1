// The chart's dashboards as the builders make them, and the JSON text of each file
// (hack/grafana/generate.ts writes them into the chart).
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import { operatorDashboard } from './operator.js';
import { trainingDashboard } from './training.js';

export const DASHBOARDS_DIR = 'charts/brewery/dashboards';

/** File name in DASHBOARDS_DIR -> the dashboard. */
export function dashboards(): Map<string, dashboard.Dashboard> {
  return new Map([
    ['training.json', numberPanels(trainingDashboard())],
    ['operator.json', numberPanels(operatorDashboard())],
  ]);
}

/** The file's text: what Grafana imports, and what the chart's ConfigMaps carry. */
export function dashboardJson(board: dashboard.Dashboard): string {
  return `${JSON.stringify(board, null, 2)}\n`;
}

/**
 * Panel ids 1, 2, ... in layout order. The builders leave ids out; Grafana would number the panels on
 * import, but a link to one panel (viewPanel=N) needs its id fixed in the file.
 */
function numberPanels(board: dashboard.Dashboard): dashboard.Dashboard {
  return { ...board, panels: (board.panels ?? []).map((panel, i) => ({ ...panel, id: i + 1 })) };
}
