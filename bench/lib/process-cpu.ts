import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * CPU time (user + system, every thread) used so far by a process and all its descendants, in ms, read
 * from Linux /proc; null where there is none. A server's CPU per request is steadier than its maximum
 * throughput on a VM whose speed drifts, and is not shared with the load generator's.
 */
export function treeCpuMs(pid: number): number | null {
  if (!fs.existsSync(`/proc/${pid}/stat`)) return null;
  let ticks = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after the command name in parentheses start at field 3; utime and stime are 14 and 15.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      for (const tid of fs.readdirSync(`/proc/${p}/task`)) {
        const children = fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (children) stack.push(...children.split(' ').map(Number));
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return (ticks * 1000) / clockTicks();
}

let hz: number | null = null;
function clockTicks(): number {
  if (hz === null) {
    try {
      hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      hz = 100;
    }
  }
  return hz;
}
