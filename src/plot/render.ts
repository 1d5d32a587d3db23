/**
 * Charts as files. A chart is a Vega-Lite spec; vega-lite compiles it to Vega, and Vega's View renders it to
 * SVG headless (the 'none' renderer: no canvas, no browser, no DOM). resvg (@resvg/resvg-js, a Rust
 * rasteriser shipped prebuilt in its npm package, so nothing is downloaded) turns the SVG into a PNG at twice
 * the size. resvg draws text only with the fonts it loads: the system's, where Vega's 'sans-serif' is mapped
 * to DejaVu Sans (Debian's fonts-dejavu-core; CI installs it).
 *
 * Both libraries are imported on first use, so commands that draw nothing do not pay for loading them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPath, type PathLike } from '../util/path.js';
import { types } from 'node:util';
import { show } from '../util/show.js';

/** A Vega-Lite specification (https://vega.github.io/vega-lite/docs/spec.html), as a plain object. */
export type ChartSpec = Record<string, unknown>;

export interface ChartFiles {
  /** The file name without extension: `<name>.svg`, `<name>.png`. */
  name: string;
  title: string;
  svgPath: string;
  pngPath: string;
  svg: string;
}

/** Shared look: white background, DejaVu-sized labels, room for titles. */
const THEME = {
  background: 'white',
  padding: 12,
  font: 'sans-serif',
  title: { fontSize: 15, anchor: 'middle', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', grid: true, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', symbolStrokeWidth: 2.5, symbolSize: 300 },
  header: { labelFontSize: 12, titleFontSize: 13 },
  view: { stroke: '#bbb' },
  line: { strokeWidth: 2 },
};

export async function renderSvg(spec: ChartSpec): Promise<string> {
  if (!isPlainObject(spec) || !(spec.config === undefined || isPlainObject(spec.config))) throw new TypeError(`renderSvg: spec must be a Vega-Lite spec object, got ${show(spec)}`);
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const themed = { ...spec, config: { ...THEME, ...(spec.config as object | undefined) } };
  let view;
  try {
    const compiled = vegaLite.compile(themed as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  } catch (error) {
    throw new RangeError('renderSvg: Vega-Lite could not compile the spec (see cause)', { cause: error });
  }
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !types.isProxy(value);
}

/** resvg's font setup: the system's fonts, with Vega's 'sans-serif' drawn in DejaVu Sans. */
export const RESVG_FONTS = { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' };

let fontsChecked = false;

/**
 * Throws when resvg finds no font to draw text with (a machine with no fonts installed), rather than
 * writing charts without a word on them.
 */
async function checkFonts(): Promise<void> {
  if (fontsChecked) return;
  const { Resvg } = await import('@resvg/resvg-js');
  const probe = '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="30"><text x="4" y="20" font-family="sans-serif" font-size="14">Ag</text></svg>';
  if (new Resvg(probe, { font: RESVG_FONTS }).getBBox() === undefined) {
    throw new Error('PNG charts: resvg found no font to draw text with; install one (Debian: apt-get install fonts-dejavu-core)');
  }
  fontsChecked = true;
}

export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  if (typeof svg !== 'string') throw new TypeError(`svgToPng: svg must be a string, got ${show(svg)}`);
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 16)) throw new RangeError(`svgToPng: scale must be a number in (0, 16], got ${show(scale)}`);
  await checkFonts();
  const { Resvg } = await import('@resvg/resvg-js');
  try {
    return new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: scale }, font: RESVG_FONTS }).render().asPng();
  } catch (error) {
    throw new RangeError(`svgToPng: resvg could not render the SVG (${(error as Error).message})`, { cause: error });
  }
}

/** Renders `spec` into `dir/<name>.svg` and `dir/<name>.png`. */
export async function writeChart(dir: PathLike, name: string, spec: ChartSpec): Promise<ChartFiles> {
  const out = checkPath(dir, 'writeChart: dir');
  if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) throw new TypeError(`writeChart: name must be a file name (letters, digits, _ . -), got ${show(name)}`);
  const svg = await renderSvg(spec);
  const svgPath = join(out, `${name}.svg`);
  const pngPath = join(out, `${name}.png`);
  writeFileSync(svgPath, svg);
  writeFileSync(pngPath, await svgToPng(svg));
  const title = spec.title;
  return { name, title: typeof title === 'string' ? title : typeof (title as { text?: unknown })?.text === 'string' ? (title as { text: string }).text : name, svgPath, pngPath, svg };
}
