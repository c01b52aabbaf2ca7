/**
 * Server-drawn SVG charts with the numbers in a table beside them (DESIGN: charts where a person would
 * rather look than read; the table keeps them accessible and exact). No script, no third-party assets;
 * colours come from classes in site.css (the CSP forbids inline styles).
 */
export interface Series { name: string; values: number[] }

const W = 640;
const H = 240;
// The left pad holds four digits at the larger size phones get (site.css).
const PAD = { l: 64, r: 12, t: 12, b: 28 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const m = v / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

const fmt = (n: number) => (Math.abs(n) >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : Math.abs(n) >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : `${Math.round(n * 100) / 100}`);

/**
 * Every other x label, for narrow screens to leave out: the drawing scales with the screen, so on a
 * phone the labels are set larger (site.css) and only half of them fit.
 */
const minor = (i: number, step: number): string | undefined => ((i / step) % 2 === 1 ? 'minor' : undefined);

function Axes({ labels, max }: { labels: string[]; max: number }) {
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const step = Math.max(1, Math.ceil(labels.length / 8));
  const x = (i: number) => PAD.l + (labels.length <= 1 ? 0 : (i * (W - PAD.l - PAD.r)) / (labels.length - 1));
  return (
    <g class="axes">
      {ticks.map((t) => {
        const y = H - PAD.b - (t / max) * (H - PAD.t - PAD.b);
        return <g><line x1={PAD.l} x2={W - PAD.r} y1={y} y2={y} class="grid" /><text x={PAD.l - 6} y={y + 4} text-anchor="end">{fmt(t)}</text></g>;
      })}
      {labels.map((l, i) => (i % step === 0 ? <text x={x(i)} y={H - 8} text-anchor="middle" class={minor(i, step)}>{l}</text> : null))}
    </g>
  );
}

/** Lines over a shared x axis (e.g. days), one colour class per series (s0…s7). */
export function LineChart({ title, labels, series }: { title: string; labels: string[]; series: Series[] }) {
  if (series.length === 0) return <NoData title={title} />;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const x = (i: number) => PAD.l + (labels.length <= 1 ? 0 : (i * (W - PAD.l - PAD.r)) / (labels.length - 1));
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div class="chart-body"><div><svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <Axes labels={labels} max={max} />
        {series.map((s, si) => <polyline class={`line s${si % 8}`} points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')} />)}
      </svg>
      <Legend series={series} /></div>
      <DataTable labels={labels} series={series} /></div>
    </figure>
  );
}

/** Bars, one per label (e.g. revenue per month), optionally several series side by side. */
export function BarChart({ title, labels, series, unit = '', decimals }: { title: string; labels: string[]; series: Series[]; unit?: string; decimals?: number }) {
  if (series.length === 0) return <NoData title={title} />;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const slot = (W - PAD.l - PAD.r) / Math.max(1, labels.length);
  const bw = Math.max(2, (slot * 0.8) / Math.max(1, series.length));
  const labelStep = Math.max(1, Math.ceil(labels.length / 12));
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div class="chart-body"><div><svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <g class="axes">
          {[0, 0.5, 1].map((f) => <g><line x1={PAD.l} x2={W - PAD.r} y1={y(f * max)} y2={y(f * max)} class="grid" /><text x={PAD.l - 6} y={y(f * max) + 4} text-anchor="end">{fmt(f * max)}</text></g>)}
          {labels.map((l, i) => (i % labelStep === 0 ? <text x={PAD.l + slot * i + slot / 2} y={H - 8} text-anchor="middle" class={minor(i, labelStep)}>{l}</text> : null))}
        </g>
        {series.map((s, si) => s.values.map((v, i) => (
          <rect class={`bar s${si % 8}`} x={PAD.l + slot * i + slot * 0.1 + bw * si} y={y(v)} width={bw} height={Math.max(0, H - PAD.b - y(v))}><title>{`${s.name} ${labels[i]}: ${fmt(v)}${unit}`}</title></rect>
        )))}
      </svg>
      {series.length > 1 ? <Legend series={series} /> : null}</div>
      <DataTable labels={labels} series={series} decimals={decimals} /></div>
    </figure>
  );
}

function Legend({ series }: { series: Series[] }) {
  return <ul class="legend">{series.map((s, i) => <li><span class={`swatch s${i % 8}`} aria-hidden="true" />{s.name}</li>)}</ul>;
}

/** A chart with nothing to draw says so, instead of empty axes over a table of dates. */
function NoData({ title }: { title: string }) {
  return <figure class="chart"><figcaption>{title}</figcaption><p class="muted">Nothing to show yet.</p></figure>;
}

/** `decimals`: amounts shown with that many places (358.80, not 358.8). */
export function DataTable({ labels, series, decimals }: { labels: string[]; series: Series[]; decimals?: number }) {
  return (
    <div class="chart-data table-wrap" tabindex={0} aria-label="The numbers">
      <table>
        <thead><tr><th></th>{series.map((s) => <th class="num">{s.name}</th>)}</tr></thead>
        <tbody>{labels.map((l, i) => <tr><td>{l}</td>{series.map((s) => <td class="num">{decimals === undefined ? s.values[i] ?? 0 : (s.values[i] ?? 0).toFixed(decimals)}</td>)}</tr>)}</tbody>
      </table>
    </div>
  );
}
