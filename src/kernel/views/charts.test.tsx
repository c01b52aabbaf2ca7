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
