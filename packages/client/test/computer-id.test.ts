import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computerIdFrom, readMachineIdentifier, suspiciousIdentifierReason } from '../src/index.js';

const MACHINE = '3d1219c7-c4c5-404a-aa1f-6d2a48adfda4';

test('a computer ID is 64 lowercase hex and the same for the same machine and product', () => {
  const id = computerIdFrom(MACHINE, 'mailserver-secret');
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(computerIdFrom(MACHINE, 'mailserver-secret'), id);
  // Tools print the same identifier in different cases and with trailing newlines.
  assert.equal(computerIdFrom(` ${MACHINE.toUpperCase()}\n`, 'mailserver-secret'), id);
});

test('one machine gets unrelated computer IDs in two products', () => {
  const mail = computerIdFrom(MACHINE, 'mailserver-secret');
  const backup = computerIdFrom(MACHINE, 'backup-secret');
  assert.notEqual(mail, backup);
  // Unrelated, not merely different: no long shared prefix a vendor could join on.
  assert.notEqual(mail.slice(0, 8), backup.slice(0, 8));
  assert.notEqual(computerIdFrom('another-machine', 'mailserver-secret'), mail);
});

test('placeholder identifiers are flagged as suspicious, real ones are not', () => {
  for (const junk of [
    '00000000-0000-0000-0000-000000000000',
    'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
    '03000200-0400-0500-0006-000700080009',
    'uninitialized\n',
    '',
  ]) {
    assert.ok(suspiciousIdentifierReason(junk), `${JSON.stringify(junk)} should be suspicious`);
  }
  assert.equal(suspiciousIdentifierReason(MACHINE), undefined);
  assert.equal(suspiciousIdentifierReason('3d1219c7c4c5404aaa1f6d2a48adfda4'), undefined);
});

test('this machine has a readable identifier', { skip: process.platform !== 'linux' && 'Linux only here' }, async () => {
  const machine = await readMachineIdentifier();
  assert.ok(machine.identifier.length > 0);
  assert.match(machine.source, /^linux-/);
  assert.equal(typeof machine.suspicious, 'boolean');
});
