/** Hand-written SVG charts: no plotting dependency for two small figures. */

const COLORS: Record<string, string> = { service: '#d9480f', bare: '#1971c2', ceiling: '#2f9e44' };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} ${attrs}>${escapeXml(content)}</text>`;
}

export function compactNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value >= 10_000_000) return `${(value / 1_000_000).toFixed(0)}M`;
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${(value / 1000).toFixed(0)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return value >= 100 ? value.toFixed(0) : value.toPrecision(2);
}

function legend(x: number, y: number, series: { name: string; color: string; dashed?: boolean }[]): string {
  return series
    .map((s, i) => {
      const lx = x + i * 150;
      const line = `<line x1="${lx}" y1="${y - 4}" x2="${lx + 22}" y2="${y - 4}" stroke="${s.color}" stroke-width="4"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`;
      return line + text(lx + 28, y, s.name, 'font-size="12"');
    })
    .join('');
}

export interface RpsPanel {
  title: string;
  /** Scenario id → target → req/s. */
  bars: { scenario: string; values: Record<string, number> }[];
}

/** Grouped bars per scenario, one panel per table size, on a log scale (S7 is 1000× slower than S1). */
export function rpsChart(panels: RpsPanel[], targets: string[]): string {
  const panelWidth = 760;
  const panelHeight = 250;
  const margin = { left: 60, top: 40, bottom: 40 };
  const width = panelWidth + 20;
  const height = 50 + panels.length * (panelHeight + margin.top + margin.bottom);
  const all = panels.flatMap((p) => p.bars.flatMap((b) => Object.values(b.values))).filter((v) => v > 0);
  const maxExp = Math.ceil(Math.log10(Math.max(10, ...all)));
  const minExp = Math.max(0, Math.floor(Math.log10(Math.max(1, Math.min(...all)))));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    text(margin.left, 22, 'req/s per scenario (log scale): service, bare (node:http + pg), ceiling (pgbench)', 'font-size="14" font-weight="bold"'),
    legend(margin.left, 42, targets.map((t) => ({ name: t, color: COLORS[t] ?? '#555' }))),
  ];
  panels.forEach((panel, p) => {
    const top = 50 + p * (panelHeight + margin.top + margin.bottom) + margin.top;
    const plotWidth = panelWidth - margin.left;
    const y = (v: number) => top + panelHeight - ((Math.log10(Math.max(v, 10 ** minExp)) - minExp) / (maxExp - minExp)) * panelHeight;
    parts.push(text(margin.left, top - 10, panel.title, 'font-size="13" font-weight="bold"'));
    for (let e = minExp; e <= maxExp; e++) {
      parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y(10 ** e)}" y2="${y(10 ** e)}" stroke="#ddd"/>`);
      parts.push(text(margin.left - 8, y(10 ** e) + 4, compactNumber(10 ** e), 'font-size="11" text-anchor="end"'));
    }
    const groupWidth = plotWidth / Math.max(1, panel.bars.length);
    const barWidth = (groupWidth * 0.8) / targets.length;
    panel.bars.forEach((group, g) => {
      const gx = margin.left + g * groupWidth + groupWidth * 0.1;
      targets.forEach((target, t) => {
        const value = group.values[target] ?? 0;
        const x = gx + t * barWidth;
        const barTop = y(value);
        parts.push(`<rect x="${x.toFixed(1)}" y="${barTop.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(top + panelHeight - barTop).toFixed(1)}" fill="${COLORS[target] ?? '#555'}"/>`);
        parts.push(text(x + barWidth / 2 - 1, barTop - 3, compactNumber(value), 'font-size="9" text-anchor="middle"'));
      });
      parts.push(text(gx + groupWidth * 0.4, top + panelHeight + 16, group.scenario, 'font-size="12" text-anchor="middle"'));
    });
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${top + panelHeight}" y2="${top + panelHeight}" stroke="#333"/>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export interface LineSeries {
  name: string;
  target: string;
  dashed: boolean;
  points: { x: number; y: number }[];
}

/** p50 latency against table size, sizes on a log axis. */
export function latencyBySizeChart(series: LineSeries[], title: string): string {
  const width = 760;
  const height = 420;
  const m = { left: 60, right: 30, top: 70, bottom: 50 };
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const maxY = Math.max(0.1, ...series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite)) * 1.15;
  const minX = Math.log10(xs[0] ?? 1);
  const maxX = Math.log10(xs[xs.length - 1] ?? 10);
  const span = maxX > minX ? maxX - minX : 1;
  const x = (v: number) => m.left + ((Math.log10(v) - minX + (maxX === minX ? 0.5 : 0)) / span) * (width - m.left - m.right);
  const y = (v: number) => height - m.bottom - (v / maxY) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    text(m.left, 22, title, 'font-size="14" font-weight="bold"'),
    legend(m.left, 44, series.slice(0, 3).map((s) => ({ name: s.target, color: COLORS[s.target] ?? '#555' }))),
    text(m.left + 470, 44, 'solid: S1 · dashed: S3', 'font-size="12"'),
  ];
  const step = niceStep(maxY / 5);
  for (let v = 0; v <= maxY; v += step) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(text(m.left - 8, y(v) + 4, `${+v.toFixed(3)}`, 'font-size="11" text-anchor="end"'));
  }
  parts.push(text(14, m.top - 10, 'p50 ms', 'font-size="11"'));
  for (const size of xs) {
    parts.push(`<line x1="${x(size)}" x2="${x(size)}" y1="${m.top}" y2="${height - m.bottom}" stroke="#eee"/>`);
    parts.push(text(x(size), height - m.bottom + 18, `${compactNumber(size)} rows`, 'font-size="12" text-anchor="middle"'));
  }
  for (const s of series) {
    const color = COLORS[s.target] ?? '#555';
    const path = s.points.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
    for (const p of s.points) {
      parts.push(`<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3.5" fill="${color}"/>`);
      parts.push(text(x(p.x) + 6, y(p.y) - 6, `${s.name} ${p.y.toFixed(2)}`, 'font-size="9"'));
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}
