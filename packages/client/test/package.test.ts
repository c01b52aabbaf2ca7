// What a vendor gets: `npm pack` of this package installs into a program's folder and runs with plain
// Node, no TypeScript loader, both as a library and as the keyward-client command.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

test('the packed SDK installs and runs with plain Node, as a library and as a command', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyward-vendor-'));
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  try {
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: packageDir, env });
    const [{ filename, files }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
    const shipped = files.map((f) => f.path);
    assert.ok(shipped.includes('dist/index.js') && shipped.includes('dist/index.d.ts') && shipped.includes('dist/cli.js'), shipped.join(', '));
    assert.deepEqual(shipped.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), [], 'no TypeScript sources to load');

    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'vendor-program', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, filename)], { cwd: dir, env });
    const script = "import { KeywardClient, computerIdFrom } from '@keyward/client'; console.log(computerIdFrom('machine', 'product-key').length, typeof KeywardClient);";
    const library = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env });
    assert.equal(library.stdout.trim(), '64 function');
    const help = await run(join(dir, 'node_modules', '.bin', 'keyward-client'), ['simulate', '--help'], { cwd: dir, env });
    assert.match(help.stdout, /^usage: keyward-client simulate --server URL/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
