// The external IP of a call (spec/callhome.md): the connection's peer address, or, only when the peer is
// a configured trusted proxy, the rightmost address in X-Forwarded-For that is not itself a trusted
// proxy (the peer address when there is none). Only addresses count: an entry that is not one (a
// garbled or hostile header passed along by a proxy) is skipped, so nothing but an IP address is ever
// stored as "the external IP" (the privacy notice promises only that).

import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';

// The names proxy-addr (Fastify's trustProxy) accepts besides addresses and CIDRs.
const NAMED: Record<string, string[]> = {
  loopback: ['127.0.0.1/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

export class ExternalIp {
  private readonly trusted: net.BlockList | null;

  constructor(trustedProxies: readonly string[]) {
    if (trustedProxies.length === 0) {
      this.trusted = null;
      return;
    }
    const list = new net.BlockList();
    for (const entry of trustedProxies.flatMap((e) => NAMED[e] ?? [e])) {
      const [addr, bits] = entry.split('/');
      const type = net.isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (net.isIP(addr) === 0) continue;
      if (bits === undefined) list.addAddress(addr, type);
      else list.addSubnet(addr, Number(bits), type);
    }
    this.trusted = list;
  }

  /** `request`: Fastify's or Node's (the fast lane's). */
  of(request: { socket: { remoteAddress?: string }; headers: IncomingHttpHeaders }): string {
    // No peer address only once the socket is gone: nobody is left to answer, nothing to record.
    const peer = request.socket.remoteAddress ?? '';
    if (this.trusted === null || !this.isTrusted(peer)) return peer;
    const header = request.headers['x-forwarded-for'];
    const entries = (Array.isArray(header) ? header.join(',') : header ?? '').split(',');
    for (let i = entries.length - 1; i >= 0; i--) {
      const addr = address(entries[i]);
      if (addr !== null && !this.isTrusted(addr)) return addr;
    }
    return peer;
  }

  private isTrusted(addr: string): boolean {
    const plain = unmapped(addr);
    const type = net.isIP(plain);
    return type !== 0 && this.trusted!.check(plain, type === 6 ? 'ipv6' : 'ipv4');
  }
}

/** An X-Forwarded-For entry as an address (`[v6]:port` and `v4:port` lose the port), or null. */
export function address(entry: string): string | null {
  let s = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (bracketed) s = bracketed[1];
  else if (/^\d+\.\d+\.\d+\.\d+:\d{1,5}$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  return net.isIP(s) !== 0 ? s : null;
}

function unmapped(addr: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1] : addr;
}
