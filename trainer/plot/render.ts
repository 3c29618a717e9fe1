// Turns a Vega-Lite spec into a picture: Vega renders it headless to SVG (no canvas, no browser), and
// sharp rasterises the SVG when a PNG is asked for.
import sharp from 'sharp';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type ImageFormat = 'png' | 'svg';

/** The picture's format from the output's file name: `.png` or `.svg`, or undefined for anything else. */
export function formatFor(file: string): ImageFormat | undefined {
  const match = /\.(png|svg)$/i.exec(file);
  return match ? (match[1]?.toLowerCase() as ImageFormat) : undefined;
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Data is inline, so the loader never fetches; renderer 'none' keeps Vega from wanting a canvas.
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The chart in the given format; a PNG is exactly width×height pixels. */
export async function renderImage(
  spec: TopLevelSpec,
  format: ImageFormat,
  size: { width: number; height: number },
): Promise<Buffer> {
  const svg = await renderSvg(spec);
  if (format === 'svg') return Buffer.from(svg, 'utf8');
  // Vega's autosize 'fit' makes the SVG the asked size; resizing holds the PNG to it should a spec not fit.
  return sharp(Buffer.from(svg, 'utf8'))
    .resize(size.width, size.height, { fit: 'contain', background: 'white' })
    .flatten({ background: 'white' })
    .png()
    .toBuffer();
}
