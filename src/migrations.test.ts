import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { allMigrations } from './migrations.js';

// An installation upgraded from an earlier release has run the released migrations; Kysely (with
// unordered migrations refused) fails on a new one whose name sorts before any of them.
const { released } = JSON.parse(fs.readFileSync(new URL('./migrations.released.json', import.meta.url), 'utf8')) as { released: string[] };

test('released migrations are all still there, unchanged in name and order', () => {
  const names = Object.keys(allMigrations).sort();
  assert.deepEqual(names.slice(0, released.length), released);
});

test('every migration added since the last release sorts after the released ones', () => {
  const last = released[released.length - 1]!;
  const added = Object.keys(allMigrations).filter((n) => !released.includes(n));
  for (const name of added) assert.ok(name > last, `${name} sorts before the released ${last}: rename it to a later time`);
});
