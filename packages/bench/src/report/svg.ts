/**
 * Tiny inline-SVG charts (line charts with linear or log axes, horizontal and
 * stacked bars) so report.html needs no script, font or stylesheet from
 * anywhere else. Colours are fixed per design so every chart agrees.
 */
import { escapeHtml, fmtNum } from './format.ts'

export const DESIGN_COLORS: Record<string, string> = {
  l1: '#6b7280',
  channel: '#2563eb',
  paych: '#059669',
  htlc: '#d97706',
  rollup: '#7c3aed',
}
const PALETTE = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#dc2626', '#0891b2', '#65a30d', '#db2777', '#6b7280', '#92400e', '#4f46e5', '#0d9488', '#ca8a04', '#be123c']

export function colorFor(name: string, i = 0): string {
  return DESIGN_COLORS[name] ?? PALETTE[i % PALETTE.length]!
}

export interface Series {
  name: string
  color: string
  points: [number, number][]
  dashed?: boolean
  dots?: boolean
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
}

function niceLogTicks(min: number, max: number): number[] {
  const out: number[] = []
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e)
  return out
}

function niceLinearTicks(min: number, max: number, n = 5): number[] {
  const span = max - min || 1
  const step0 = span / n
  const mag = 10 ** Math.floor(Math.log10(step0))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? mag * 10
  const out: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

export function lineChart(series: readonly Series[], o: LineChartOptions): string {
  const W = o.width ?? 720
  const H = o.height ?? 360
  const m = { l: 70, r: 160, t: 36, b: 48 }
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.xLog || x > 0) && (!o.yLog || y > 0))
  if (pts.length === 0) return `<p class="empty">${escapeHtml(o.title)}: no data</p>`
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))]
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))]
  if (!o.yLog) y0 = Math.min(0, y0)
  if (x0 === x1) x1 = x0 + 1
  if (y0 === y1) y1 = y0 + 1
  if (o.xLog) [x0, x1] = [10 ** Math.floor(Math.log10(x0)), 10 ** Math.ceil(Math.log10(x1))]
  if (o.yLog) [y0, y1] = [10 ** Math.floor(Math.log10(y0)), 10 ** Math.ceil(Math.log10(y1))]
  const tx = (x: number) => m.l + ((o.xLog ? Math.log10(x) - Math.log10(x0) : x - x0) / (o.xLog ? Math.log10(x1) - Math.log10(x0) : x1 - x0)) * (W - m.l - m.r)
  const ty = (y: number) => H - m.b - ((o.yLog ? Math.log10(y) - Math.log10(y0) : y - y0) / (o.yLog ? Math.log10(y1) - Math.log10(y0) : y1 - y0)) * (H - m.t - m.b)
  const xf = o.xFormat ?? ((v: number) => fmtNum(v, v < 10 ? 1 : 0))
  const yf = o.yFormat ?? ((v: number) => fmtNum(v, v < 10 ? 2 : 0))
  const parts: string[] = []
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(o.title)}">`)
  parts.push(`<text x="${m.l}" y="20" class="t">${escapeHtml(o.title)}</text>`)
  const xt = o.xLog ? niceLogTicks(x0, x1) : niceLinearTicks(x0, x1)
  const yt = o.yLog ? niceLogTicks(y0, y1) : niceLinearTicks(y0, y1)
  for (const v of xt) {
    const x = tx(v)
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${H - m.b}" class="g"/><text x="${x}" y="${H - m.b + 16}" text-anchor="middle" class="a">${xf(v)}</text>`)
  }
  for (const v of yt) {
    const y = ty(v)
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" class="g"/><text x="${m.l - 6}" y="${y + 4}" text-anchor="end" class="a">${yf(v)}</text>`)
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" class="a">${escapeHtml(o.xLabel)}</text>`)
  parts.push(`<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" class="a">${escapeHtml(o.yLabel)}</text>`)
  series.forEach((s, i) => {
    const ps = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.xLog || x > 0) && (!o.yLog || y > 0))
    if (ps.length === 0) return
    const d = ps.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${tx(x).toFixed(1)},${ty(y).toFixed(1)}`).join('')
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`)
    if (s.dots) for (const [x, y] of ps) parts.push(`<circle cx="${tx(x).toFixed(1)}" cy="${ty(y).toFixed(1)}" r="3.5" fill="${s.color}"/>`)
    const ly = m.t + 14 + i * 18
    parts.push(
      `<line x1="${W - m.r + 10}" x2="${W - m.r + 34}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>` +
        `<text x="${W - m.r + 40}" y="${ly}" class="a">${escapeHtml(s.name)}</text>`,
    )
  })
  parts.push('</svg>')
  return parts.join('')
}

export interface BarRow {
  label: string
  /** One segment per entry (stacked); a single entry = a plain bar. */
  segments: { name: string; value: number; color: string }[]
  note?: string
}

export function barChart(rows: readonly BarRow[], o: { title: string; unit: string; width?: number; format?: (v: number) => string }): string {
  const W = o.width ?? 720
  const rowH = 28
  const m = { l: 110, r: 130, t: 36, b: 40 }
  const legend = [...new Map(rows.flatMap((r) => r.segments).filter((s) => s.value > 0).map((s) => [s.name, s.color])).entries()]
  const stacked = rows.some((r) => r.segments.length > 1)
  const H = m.t + rows.length * rowH + m.b + (stacked ? Math.ceil(legend.length / 2) * 18 : 0)
  const max = Math.max(1e-12, ...rows.map((r) => r.segments.reduce((a, s) => a + s.value, 0)))
  const fmt = o.format ?? ((v: number) => fmtNum(v))
  const sx = (v: number) => (v / max) * (W - m.l - m.r)
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(o.title)}">`]
  parts.push(`<text x="${m.l}" y="20" class="t">${escapeHtml(o.title)}</text>`)
  rows.forEach((r, i) => {
    const y = m.t + i * rowH
    parts.push(`<text x="${m.l - 8}" y="${y + 17}" text-anchor="end" class="a">${escapeHtml(r.label)}</text>`)
    let x = m.l
    for (const s of r.segments) {
      const w = sx(s.value)
      if (w > 0) parts.push(`<rect x="${x.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${s.color}"><title>${escapeHtml(`${s.name}: ${fmt(s.value)} ${o.unit}`)}</title></rect>`)
      x += w
    }
    const total = r.segments.reduce((a, s) => a + s.value, 0)
    parts.push(`<text x="${x + 6}" y="${y + 17}" class="a">${fmt(total)} ${escapeHtml(o.unit)}${r.note ? ` ${escapeHtml(r.note)}` : ''}</text>`)
  })
  if (stacked)
    legend.forEach(([name, color], i) => {
      const lx = m.l + (i % 2) * 300
      const ly = m.t + rows.length * rowH + 24 + Math.floor(i / 2) * 18
      parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${color}"/><text x="${lx + 18}" y="${ly}" class="a">${escapeHtml(name)}</text>`)
    })
  parts.push('</svg>')
  return parts.join('')
}

export { PALETTE }
