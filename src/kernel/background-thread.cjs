// Used by the background threads that hold no lock anyone waits for (commitments, reads): lowers
// the calling thread's CPU priority so that, when it and the request thread want the same core, the
// request thread runs first. Their work can wait a few milliseconds; an answer should not. On Linux
// each thread has its own nice value (setpriority on the thread's id); elsewhere this does nothing.
// The write-behind thread does not use it: it holds SQLite's write lock, which answers may wait for.
'use strict';
const fs = require('node:fs');
const os = require('node:os');

function yieldToRequests() {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, os.constants.priority.PRIORITY_LOW);
  } catch {
    // Not Linux, or not allowed: the thread keeps the process's priority.
  }
}

module.exports = { yieldToRequests };
