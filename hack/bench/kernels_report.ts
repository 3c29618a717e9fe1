// The table hack/bench/kernels.ts prints: whole-step speeds with ratios to PyTorch, then the slowest
// kernels of each tfjs backend.

export type BenchResult = {
  backend: string;
  detail: string;
  batch: number;
  forwardMsPerImage: number;
  stepMsPerImage: number;
  kernels: { name: string; ms: number; calls: number }[];
  peakRssMiB: number;
};

export function formatReport(results: BenchResult[], skipped: string[]): string {
  const torch = results.find((r) => r.backend === 'pytorch');
  const ratio = (value: number, reference: number | undefined) =>
    reference ? `${(value / reference).toFixed(2)}x` : '-';
  const rows = [
    ['backend', 'batch', 'fwd ms/img', 'fwd+bwd ms/img', 'fwd vs torch', 'fwd+bwd vs torch', 'peak RSS MiB'],
    ...results.map((r) => [
      r.backend,
      String(r.batch),
      r.forwardMsPerImage.toFixed(1),
      r.stepMsPerImage.toFixed(1),
      ratio(r.forwardMsPerImage, torch?.forwardMsPerImage),
      ratio(r.stepMsPerImage, torch?.stepMsPerImage),
      r.peakRssMiB.toFixed(0),
    ]),
  ];
  const lines = [table(rows), ''];
  for (const r of results) lines.push(`${r.backend}: ${r.detail}`);
  for (const r of results.filter((x) => x.kernels.length > 0)) {
    lines.push('', `${r.backend}: slowest kernels of one forward-backward step (ms per image)`);
    const top = r.kernels.slice(0, 12).map((k) => [k.name, (k.ms / r.batch).toFixed(2), String(k.calls)]);
    lines.push(table([['kernel', 'ms/img', 'calls'], ...top]));
  }
  for (const s of skipped) lines.push('', `skipped ${s}`);
  return lines.join('\n');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
}
