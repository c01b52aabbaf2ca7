// IP addresses cut to their network (IPv4 /24, IPv6 /48): what the abuse signals compare and what a
// machine's last IP becomes after the retention period.

import net from 'node:net';

/** `203.0.113.7` → `203.0.113.0/24`; `2001:db8:1:2::5` → `2001:db8:1::/48`; anything else → null. */
export function ipNetwork(ip: string): string | null {
  // A plain IPv4 address first, without the pattern and the split: this runs on every call home.
  if (ip.charCodeAt(0) !== 0x3a && net.isIPv4(ip)) return `${ip.slice(0, ip.lastIndexOf('.'))}.0/24`;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const addr = mapped ? mapped[1] : ip;
  const kind = net.isIP(addr);
  if (kind === 4) {
    const [a, b, c] = addr.split('.');
    return `${a}.${b}.${c}.0/24`;
  }
  if (kind === 6) {
    const groups = expandIpv6(addr);
    return groups ? `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/48` : null;
  }
  return null;
}

/** True for a value already cut to a network by ipNetwork. */
export function isNetwork(value: string): boolean {
  return value.includes('/');
}

/** Eight 4-digit hex groups, or null. Handles `::` and an embedded IPv4 tail. */
function expandIpv6(addr: string): string[] | null {
  let s = addr.split('%')[0].toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const p = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((p[0] << 8) | p[1]).toString(16)}:${((p[2] << 8) | p[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = 8 - h.length - t.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  return [...h, ...Array(tail === undefined ? 0 : missing).fill('0'), ...t].map((g) => g.padStart(4, '0'));
}
