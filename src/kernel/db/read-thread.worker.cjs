// The read thread (read-thread.ts): a read-only SQLite connection to the same file, on which the long
// aggregate reads of scheduled jobs run, so the thread that answers requests is never blocked by them.
// Plain CommonJS so that Node loads it directly in any setting.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
require('../background-thread.cjs').yieldToRequests();

const db = new SQLite(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('mmap_size = 1073741824');

// Jobs repeat the same few statements (a day's totals, day after day); preparing costs more than a small run.
const statements = new Map();
function statement(text) {
  let s = statements.get(text);
  if (!s) {
    if (statements.size >= 100) statements.clear();
    s = db.prepare(text);
    statements.set(text, s);
  }
  return s;
}

parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    const s = statement(msg.sql);
    if (!s.reader) throw new Error('only statements that return rows run on the read thread');
    parentPort.postMessage({ type: 'rows', id: msg.id, rows: s.all(msg.parameters) });
  } catch (err) {
    parentPort.postMessage({ type: 'rows', id: msg.id, error: err && err.message ? err.message : String(err) });
  }
});
