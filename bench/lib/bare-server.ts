import http from 'node:http';

/** The baseline: a bare Node http server that parses a JSON POST and answers a fixed ~200-byte JSON. */
const answer = Buffer.from(JSON.stringify({
  ts: '2026-11-25T10:00:00.000Z', nonce: 'baseline-nonce-0000', valid: true, code: 'VALID',
  detail: 'The licence is valid.', flags: [], nextCheckSeconds: 86400, offlineUntil: '2026-12-25T10:00:00.000Z',
}));
const port = Number(process.env.PORT ?? 0);
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try { JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { res.writeHead(400).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
