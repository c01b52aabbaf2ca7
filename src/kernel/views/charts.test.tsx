import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'preact-render-to-string';
import { BarChart, LineChart } from './charts.js';

test('a chart with no series says there is nothing to show, instead of empty axes over a table of dates', () => {
  for (const html of [render(<LineChart title="Calls by version" labels={['1 Dec', '2 Dec']} series={[]} />), render(<BarChart title="Revenue" labels={['2026-11']} series={[]} />)]) {
    assert.match(html, /Nothing to show yet/);
    assert.doesNotMatch(html, /<svg|<table/);
  }
  const drawn = render(<LineChart title="Calls" labels={['1 Dec']} series={[{ name: '8.6.0', values: [3] }]} />);
  assert.match(drawn, /<svg/);
  assert.doesNotMatch(drawn, /Nothing to show/);
});

test('amounts in a chart\'s table keep their decimals when asked (358.80, not 358.8)', () => {
  const html = render(<BarChart title="Revenue" labels={['2026-11']} series={[{ name: 'GBP', values: [358.8] }]} decimals={2} />);
  assert.match(html, /<td class="num">358\.80<\/td>/);
  assert.match(render(<BarChart title="Count" labels={['a']} series={[{ name: 'n', values: [3] }]} />), /<td class="num">3<\/td>/);
});

test('x labels alternate between kept and minor (left out on phones, where the labels are drawn larger)', () => {
  const labels = Array.from({ length: 30 }, (_, i) => `d${i}`);
  const html = render(<LineChart title="Calls" labels={labels} series={[{ name: 'calls', values: labels.map((_, i) => i) }]} />);
  const shown = [...html.matchAll(/<text x="[^"]+" y="232" text-anchor="middle"( class="minor")?>(d\d+)<\/text>/g)].map((m) => `${m[2]}${m[1] ? '-' : '+'}`);
  // Every 4th label of 30 is drawn (at most 8); every other one of those is minor.
  assert.deepEqual(shown, ['d0+', 'd4-', 'd8+', 'd12-', 'd16+', 'd20-', 'd24+', 'd28-']);
  const bars = render(<BarChart title="Revenue" labels={labels.slice(0, 5)} series={[{ name: 'r', values: [1, 2, 3, 4, 5] }]} />);
  assert.equal((bars.match(/class="minor"/g) ?? []).length, 2, 'd1 and d3 of five');
});
