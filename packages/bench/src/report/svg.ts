/**
 * Tiny inline-SVG charts (line charts with linear or log axes, horizontal and
 * stacked bars) so report.html needs no script, font or stylesheet from
 * anywhere else.
 *
 * Every chart is self-styled: it carries its own <style> (scoped to
 * `svg.l2b`), a white background and its fonts, so the same SVG reads the
 * same inlined in report.html, opened on its own, or embedded from
 * docs/results/ on a dark page. Colours, markers and dash patterns are fixed
 * per design so every chart agrees and two overlapping lines stay apart.
 */
import { escapeHtml, fmtNum } from './format.ts'

export const DESIGN_COLORS: Record<string, string> = {
  l1: '#6b7280',
  channel: '#2563eb',
  paych: '#059669',
  htlc: '#d97706',
  virtual: '#db2777',
  rollup: '#7c3aed',
}
const PALETTE = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#dc2626', '#0891b2', '#65a30d', '#db2777', '#6b7280', '#92400e', '#4f46e5', '#0d9488', '#ca8a04', '#be123c']

export type Marker = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross'
const MARKERS: Marker[] = ['circle', 'square', 'triangle', 'diamond', 'cross']
export const DESIGN_MARKERS: Record<string, Marker> = { l1: 'circle', channel: 'square', paych: 'triangle', htlc: 'diamond', virtual: 'square', rollup: 'cross' }
/** Dash patterns for fitted/modelled lines, one per design, so two fits on top of each other stay distinguishable. */
const DASHES = ['6 4', '2 3', '10 3 2 3', '12 4', '4 2 1 2']
export const DESIGN_DASHES: Record<string, string> = { l1: '6 4', channel: '2 3', paych: '10 3 2 3', htlc: '12 4', virtual: '8 2 2 2', rollup: '4 2 1 2' }
/**
 * Line widths: channel and paych cost almost the same gas, so their measured lines lie on top of each other.
 * The channel's is drawn first and wider, the paych's thin on top of it: both stay visible.
 */
export const DESIGN_WIDTHS: Record<string, number> = { channel: 5 }

export function colorFor(name: string, i = 0): string {
  return DESIGN_COLORS[name] ?? PALETTE[i % PALETTE.length]!
}
export function markerFor(name: string, i = 0): Marker {
  return DESIGN_MARKERS[name] ?? MARKERS[i % MARKERS.length]!
}
export function widthFor(name: string): number {
  return DESIGN_WIDTHS[name] ?? 2
}
export function dashFor(name: string, i = 0): string {
  return DESIGN_DASHES[name] ?? DASHES[i % DASHES.length]!
}

/** The style every chart carries (scoped, so inlining several in one page is harmless). */
export const SVG_STYLE =
  'svg.l2b{background:#fff}svg.l2b text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}' +
  'svg.l2b .t{font-size:13px;font-weight:600;fill:#111827}svg.l2b .a{font-size:11px;fill:#374151}svg.l2b .l{font-size:11px;fill:#111827}' +
  'svg.l2b .g{stroke:#e5e7eb;stroke-width:1}svg.l2b .m{stroke:#f3f4f6;stroke-width:1}svg.l2b .k{stroke:#9ca3af;stroke-width:1}'

function open(W: number, H: number, title: string, kind: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="l2b" data-chart="${kind}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">` +
    `<title>${escapeHtml(title)}</title><style>${SVG_STYLE}</style><rect class="bg" x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`
  )
}

/** Approximate rendered width of `s` at 11px sans-serif (for laying out legends without a font engine). */
export function textWidth(s: string, px = 11): number {
  let w = 0
  for (const ch of s) w += /[il.,:;|'!1 ()†]/.test(ch) ? 0.32 : /[mwMW@%]/.test(ch) ? 0.85 : /[A-Z]/.test(ch) ? 0.7 : 0.6
  return Math.ceil(w * px)
}

export function markerSvg(m: Marker, x: number, y: number, color: string, r = 4): string {
  const X = x.toFixed(1)
  const Y = y.toFixed(1)
  const stroke = `stroke="#fff" stroke-width="1"`
  switch (m) {
    case 'circle':
      return `<circle cx="${X}" cy="${Y}" r="${r}" fill="${color}" ${stroke}/>`
    case 'square':
      return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}" ${stroke}/>`
    case 'triangle':
      return `<path d="M${X},${(y - r - 1).toFixed(1)}L${(x + r + 1).toFixed(1)},${(y + r).toFixed(1)}L${(x - r - 1).toFixed(1)},${(y + r).toFixed(1)}Z" fill="none" stroke="${color}" stroke-width="2"/>`
    case 'diamond':
      return `<path d="M${X},${(y - r - 1).toFixed(1)}L${(x + r + 1).toFixed(1)},${Y}L${X},${(y + r + 1).toFixed(1)}L${(x - r - 1).toFixed(1)},${Y}Z" fill="${color}" ${stroke}/>`
    case 'cross':
      return `<path d="M${(x - r).toFixed(1)},${(y - r).toFixed(1)}L${(x + r).toFixed(1)},${(y + r).toFixed(1)}M${(x - r).toFixed(1)},${(y + r).toFixed(1)}L${(x + r).toFixed(1)},${(y - r).toFixed(1)}" stroke="${color}" stroke-width="2.5"/>`
  }
}

export interface Series {
  name: string
  color: string
  points: [number, number][]
  /** A dash pattern (e.g. "6 4"); true = the default dash. */
  dashed?: boolean | string
  /** Draw a marker at each point (true = circle). */
  dots?: boolean | Marker
  /** Stroke width (default 2); wider lines are drawn first. */
  width?: number
}

export interface Ticks {
  major: number[]
  minor: number[]
}

export interface LineChartOptions {
  title: string
  xLabel: string
  yLabel: string
  xLog?: boolean
  yLog?: boolean
  width?: number
  height?: number
  yFormat?: (v: number) => string
  xFormat?: (v: number) => string
  /** Tick positions for the x axis (e.g. time units); default: decades (log) or 1-2-5 steps (linear). */
  xTicks?: (min: number, max: number) => Ticks
}

/** Decades as major ticks, 2…9 × 10^e as minor ones; over two decades or less, 2 and 5 get labels too. */
export function logTicks(min: number, max: number): Ticks {
  const lo = Math.floor(Math.log10(min))
  const hi = Math.ceil(Math.log10(max))
  const major: number[] = []
  const minor: number[] = []
  const few = hi - lo <= 2
  for (let e = lo; e <= hi; e++) {
    const d = 10 ** e
    if (d >= min * (1 - 1e-9) && d <= max * (1 + 1e-9)) major.push(Number(d.toPrecision(12)))
    if (e === hi) break
    for (let k = 2; k <= 9; k++) {
      const v = Number((k * d).toPrecision(12))
      if (v < min || v > max) continue
      if (few && (k === 2 || k === 5)) major.push(v)
      else minor.push(v)
    }
  }
  major.sort((a, b) => a - b)
  return { major, minor }
}

/** Time ticks for a log axis in ms at readable units: 1 µs … 1 ms … 1 s, 10 s, 1 min, 10 min, 1 h. */
export function timeLogTicks(min: number, max: number): Ticks {
  const majors = [0.001, 0.01, 0.1, 1, 10, 100, 1000, 10_000, 60_000, 600_000, 3_600_000, 36_000_000]
  const minors = [0.002, 0.005, 0.02, 0.05, 0.2, 0.5, 2, 5, 20, 50, 200, 500, 2000, 5000, 20_000, 30_000, 120_000, 300_000, 1_200_000, 1_800_000, 7_200_000, 18_000_000]
  const inRange = (v: number) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)
  const major = majors.filter(inRange)
  const minor = minors.filter(inRange)
  if (major.length < 3) {
    // A narrow range: promote the minors to labelled ticks.
    return { major: [...major, ...minor].sort((a, b) => a - b), minor: [] }
  }
  return { major, minor }
}

/** "1 µs", "10 ms", "1 s", "10 s", "1 min", "10 min", "1 h" — round time labels for axes. */
export function fmtDuration(ms: number): string {
  const trim = (x: number) => String(Number(x.toPrecision(3)))
  if (ms >= 3_600_000) return `${trim(ms / 3_600_000)} h`
  if (ms >= 60_000) return `${trim(ms / 60_000)} min`
  if (ms >= 1000) return `${trim(ms / 1000)} s`
  if (ms >= 1) return `${trim(ms)} ms`
  return `${trim(ms * 1000)} µs`
}

function linearTicks(min: number, max: number, n = 5): Ticks {
  const span = max - min || 1
  const step0 = span / n
  const mag = 10 ** Math.floor(Math.log10(step0))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? mag * 10
  const major: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) major.push(Number(v.toPrecision(12)))
  return { major, minor: [] }
}

function finitePoints(s: Series, o: LineChartOptions): [number, number][] {
  return s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.xLog || x > 0) && (!o.yLog || y > 0))
}

export function lineChart(series: readonly Series[], o: LineChartOptions): string {
  const legendW = Math.max(110, ...series.map((s) => 44 + textWidth(s.name))) + 8
  const W = (o.width ?? 720) + Math.max(0, legendW - 160)
  const H = Math.max(o.height ?? 360, 36 + 14 + series.length * 18 + 48)
  const m = { l: 70, r: legendW, t: 36, b: 48 }
  const pts = series.flatMap((s) => finitePoints(s, o))
  if (pts.length === 0) return `<p class="empty">${escapeHtml(o.title)}: no data</p>`
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))]
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))]
  if (!o.yLog) y0 = Math.min(0, y0)
  if (x0 === x1) x1 = o.xLog ? x0 * 10 : x0 + 1
  if (y0 === y1) y1 = o.yLog ? y0 * 10 : y0 + 1
  if (o.xLog) [x0, x1] = [10 ** Math.floor(Math.log10(x0)), 10 ** Math.ceil(Math.log10(x1))]
  if (o.yLog) [y0, y1] = [10 ** Math.floor(Math.log10(y0)), 10 ** Math.ceil(Math.log10(y1))]
  const tx = (x: number) => m.l + ((o.xLog ? Math.log10(x) - Math.log10(x0) : x - x0) / (o.xLog ? Math.log10(x1) - Math.log10(x0) : x1 - x0)) * (W - m.l - m.r)
  const ty = (y: number) => H - m.b - ((o.yLog ? Math.log10(y) - Math.log10(y0) : y - y0) / (o.yLog ? Math.log10(y1) - Math.log10(y0) : y1 - y0)) * (H - m.t - m.b)
  const xf = o.xFormat ?? ((v: number) => fmtNum(v, v < 10 ? 1 : 0))
  const yf = o.yFormat ?? ((v: number) => fmtNum(v, v < 10 ? 2 : 0))
  const parts: string[] = [open(W, H, o.title, 'line')]
  parts.push(`<text x="${m.l}" y="20" class="t">${escapeHtml(o.title)}</text>`)
  const xt = o.xTicks ? o.xTicks(x0, x1) : o.xLog ? logTicks(x0, x1) : linearTicks(x0, x1)
  const yt = o.yLog ? logTicks(y0, y1) : linearTicks(y0, y1)
  for (const v of xt.minor) {
    const x = tx(v).toFixed(1)
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" class="m"/><line x1="${x}" x2="${x}" y1="${H - m.b}" y2="${H - m.b + 3}" class="k"/>`)
  }
  for (const v of yt.minor) {
    const y = ty(v).toFixed(1)
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" class="m"/><line x1="${m.l - 3}" x2="${m.l}" y1="${y}" y2="${y}" class="k"/>`)
  }
  for (const v of xt.major) {
    const x = tx(v).toFixed(1)
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" class="g"/><line x1="${x}" x2="${x}" y1="${H - m.b}" y2="${H - m.b + 5}" class="k"/><text x="${x}" y="${H - m.b + 17}" text-anchor="middle" class="a">${escapeHtml(xf(v))}</text>`,
    )
  }
  for (const v of yt.major) {
    const y = ty(v).toFixed(1)
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" class="g"/><line x1="${m.l - 5}" x2="${m.l}" y1="${y}" y2="${y}" class="k"/><text x="${m.l - 7}" y="${Number(y) + 4}" text-anchor="end" class="a">${escapeHtml(yf(v))}</text>`,
    )
  }
  parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" class="k"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" class="k"/>`)
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" class="a" data-axis="x">${escapeHtml(o.xLabel)}</text>`)
  parts.push(`<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" class="a" data-axis="y">${escapeHtml(o.yLabel)}</text>`)
  const legend: string[] = []
  const styleOf = (s: Series) => ({
    dash: s.dashed === true ? '6 4' : typeof s.dashed === 'string' ? s.dashed : undefined,
    marker: (s.dots === true ? 'circle' : typeof s.dots === 'string' ? s.dots : undefined) as Marker | undefined,
    width: s.width ?? 2,
  })
  // Wider lines first, so a thin line on top of a wide one leaves both visible.
  const order = series.map((s, i) => ({ s, i })).sort((a, b) => styleOf(b.s).width - styleOf(a.s).width || a.i - b.i)
  for (const { s } of order) {
    const ps = finitePoints(s, o)
    const { dash, marker, width } = styleOf(s)
    if (ps.length === 0) continue
    const d = ps.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${tx(x).toFixed(1)},${ty(y).toFixed(1)}`).join('')
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}${width > 2 ? ' stroke-opacity="0.55"' : ''}/>`)
    if (marker !== undefined) for (const [x, y] of ps) parts.push(markerSvg(marker, tx(x), ty(y), s.color, width > 2 ? 5.5 : 4))
  }
  series.forEach((s, i) => {
    const { dash, marker, width } = styleOf(s)
    const lx = W - m.r + 10
    const ly = m.t + 14 + i * 18
    legend.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}${width > 2 ? ' stroke-opacity="0.55"' : ''}/>` +
        (marker === undefined ? '' : markerSvg(marker, lx + 13, ly - 4, s.color, 3.5)) +
        `<text x="${lx + 32}" y="${ly}" class="l">${escapeHtml(s.name)}</text>`,
    )
  })
  parts.push(`<g class="legend">${legend.join('')}</g>`)
  parts.push('</svg>')
  return parts.join('')
}

export interface BarRow {
  label: string
  /** One segment per entry (stacked); a single entry = a plain bar. */
  segments: { name: string; value: number; color: string }[]
  note?: string
}

export interface BarChartOptions {
  title: string
  unit: string
  /** Label of the category axis (default "design"). */
  yLabel?: string
  width?: number
  format?: (v: number) => string
  /**
   * Log scale for plain bars: 'auto' (default) switches to it when the largest
   * bar is over 100 × the smallest, so a 0.2/s bar stays visible beside 5,926/s.
   */
  log?: boolean | 'auto'
}

export function barChart(rows: readonly BarRow[], o: BarChartOptions): string {
  const W = o.width ?? 720
  const rowH = 28
  const legend = [...new Map(rows.flatMap((r) => r.segments).filter((s) => s.value > 0).map((s) => [s.name, s.color])).entries()]
  const stacked = rows.some((r) => r.segments.length > 1)
  const totals = rows.map((r) => r.segments.reduce((a, s) => a + s.value, 0))
  const positive = totals.filter((t) => t > 0)
  const log = !stacked && positive.length > 1 && (o.log === true || ((o.log ?? 'auto') === 'auto' && Math.max(...positive) / Math.min(...positive) > 100))
  const fmt = o.format ?? ((v: number) => fmtNum(v))
  const labelW = Math.max(60, ...rows.map((r) => textWidth(r.label) + 34))
  const valueW = Math.max(90, ...rows.map((r, i) => textWidth(`${fmt(totals[i]!)} ${o.unit}${r.note ? ` ${r.note}` : ''}`) + 12))
  const m = { l: labelW, r: valueW, t: 36, b: 44 }
  const colW = Math.max(200, ...legend.map(([name]) => textWidth(name) + 30))
  const legendCols = m.l + 2 * colW <= W ? 2 : 1
  const legendRows = stacked ? Math.ceil(legend.length / legendCols) : 0
  const H = m.t + rows.length * rowH + m.b + legendRows * 18
  const plotW = W - m.l - m.r
  const max = Math.max(1e-12, ...totals)
  const lo = log ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : 0
  const hi = log ? 10 ** Math.ceil(Math.log10(max)) : max
  // Log: the bar's length is its position on the log axis from the decade below the smallest value; a value
  // above zero is never drawn thinner than 2 px either way.
  const sx = (v: number) => (v <= 0 ? 0 : Math.max(2, log ? ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW : (v / hi) * plotW))
  const title = log ? `${o.title} (log scale)` : o.title
  const parts: string[] = [open(W, H, title, 'bar')]
  parts.push(`<text x="${m.l}" y="20" class="t">${escapeHtml(title)}</text>`)
  if (log) {
    const ticks = logTicks(lo, hi)
    const yb = m.t + rows.length * rowH
    for (const v of ticks.minor) parts.push(`<line x1="${(m.l + sx(v)).toFixed(1)}" x2="${(m.l + sx(v)).toFixed(1)}" y1="${m.t}" y2="${yb}" class="m"/>`)
    for (const v of ticks.major) {
      const x = (m.l + sx(v)).toFixed(1)
      parts.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${yb + 4}" class="g"/><text x="${x}" y="${yb + 16}" text-anchor="middle" class="a">${escapeHtml(fmt(v))}</text>`)
    }
  }
  const yb = m.t + rows.length * rowH
  parts.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${yb}" class="k"/>`)
  parts.push(`<text x="${m.l + plotW / 2}" y="${yb + 34}" text-anchor="middle" class="a" data-axis="x">${escapeHtml(o.unit)}${log ? ' (log scale)' : ''}</text>`)
  parts.push(`<text transform="translate(12 ${(m.t + yb) / 2}) rotate(-90)" text-anchor="middle" class="a" data-axis="y">${escapeHtml(o.yLabel ?? 'design')}</text>`)
  const rowLegend: string[] = []
  rows.forEach((r, i) => {
    const y = m.t + i * rowH
    const swatch = stacked ? '' : `<rect x="${m.l - 20}" y="${y + 8}" width="12" height="12" fill="${r.segments[0]?.color ?? '#9ca3af'}"/>`
    rowLegend.push(`${swatch}<text x="${m.l - (stacked ? 8 : 26)}" y="${y + 17}" text-anchor="end" class="l">${escapeHtml(r.label)}</text>`)
    let x = m.l
    if (log) {
      const s = r.segments[0]
      const w = s === undefined ? 0 : sx(s.value)
      if (s !== undefined && w > 0) parts.push(`<rect x="${x}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${s.color}"><title>${escapeHtml(`${s.name}: ${fmt(s.value)} ${o.unit}`)}</title></rect>`)
      x += w
    } else {
      const total = totals[i]!
      const wTotal = sx(total)
      for (const s of r.segments) {
        const w = total > 0 ? (s.value / total) * wTotal : 0
        if (w > 0) parts.push(`<rect x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${s.color}"><title>${escapeHtml(`${s.name}: ${fmt(s.value)} ${o.unit}`)}</title></rect>`)
        x += w
      }
    }
    parts.push(`<text x="${x + 6}" y="${y + 17}" class="a">${escapeHtml(fmt(totals[i]!))} ${escapeHtml(o.unit)}${r.note ? ` ${escapeHtml(r.note)}` : ''}</text>`)
  })
  // Plain bars: the coloured row labels are the legend; stacked bars: one entry per segment name, below.
  if (!stacked) parts.push(`<g class="legend">${rowLegend.join('')}</g>`)
  else parts.push(rowLegend.join(''))
  if (stacked) {
    const items = legend.map(([name, color], i) => {
      const lx = m.l + (i % legendCols) * colW
      const ly = m.t + rows.length * rowH + m.b + 4 + Math.floor(i / legendCols) * 18
      return `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color}"/><text x="${lx + 18}" y="${ly}" class="l">${escapeHtml(name)}</text>`
    })
    parts.push(`<g class="legend">${items.join('')}</g>`)
  }
  parts.push('</svg>')
  return parts.join('')
}

export { PALETTE }
