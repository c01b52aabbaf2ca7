// The write-behind thread (write-behind.ts): its own SQLite connection to the same file, so batches of
// bookkeeping writes, their commits and the WAL checkpoints they trigger never block the event loop of
// the thread that answers requests. Plain CommonJS so that Node loads it directly in any setting.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
// This thread keeps the process's CPU priority, unlike the other background threads
// (background-thread.cjs): it holds SQLite's write lock while a batch runs, and a seat-taking write on
// the request thread waits for that lock (on a timer, sqlite-driver.ts). Starving it would hold back
// the answers that take seats.

const db = new SQLite(workerData.file);
db.pragma('journal_mode = WAL');
// Only writes that may be lost in a crash come here (see write-behind.ts); NORMAL keeps the file
// consistent after a power cut and saves an fsync per batch.
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
// As on the request connection (database.ts): overwritten last-seen IPs are zeroed, not left in free space.
db.pragma('secure_delete = ON');
db.pragma('busy_timeout = 5000');

// Batches repeat the same few statement shapes; preparing costs more than running a small one.
const statements = new Map();
function statement(text) {
  let s = statements.get(text);
  if (!s) {
    if (statements.size >= 200) statements.clear();
    s = db.prepare(text);
    statements.set(text, s);
  }
  return s;
}

const runBatch = db.transaction((queries) => {
  for (const q of queries) {
    const s = statement(q.sql);
    if (s.reader) s.all(q.parameters); else s.run(q.parameters);
  }
});

parentPort.on('message', (msg) => {
  if (msg.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    runBatch.immediate(msg.queries);
    parentPort.postMessage({ type: 'done', id: msg.id });
  } catch (err) {
    parentPort.postMessage({ type: 'done', id: msg.id, error: err && err.message ? err.message : String(err) });
  }
});
