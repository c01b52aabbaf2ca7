import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A tiny browser for app.inject(): keeps cookies like a browser would (session cookies die with
 * `closeBrowser()`, persistent ones survive), and fills in the CSRF token of the last page it read.
 */
export class TestBrowser {
  cookies = new Map<string, { value: string; persistent: boolean }>();
  lastHtml = '';
  constructor(readonly app: FastifyInstance, readonly headers: Record<string, string> = {}) {}

  private absorb(res: LightMyRequestResponse): void {
    const raw = res.headers['set-cookie'];
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const line of list) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = decodeURIComponent(pair!.slice(eq + 1));
      const expired = attrs.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, { value, persistent: attrs.some((a) => /^(max-age|expires)=/i.test(a)) });
    }
    if (String(res.headers['content-type'] ?? '').startsWith('text/html')) this.lastHtml = res.body;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v.value)}`).join('; ');
  }

  /** Simulates closing the browser: browser-session cookies go, persistent ones stay. */
  closeBrowser(): void {
    for (const [name, c] of this.cookies) if (!c.persistent) this.cookies.delete(name);
  }

  csrf(html = this.lastHtml): string {
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error('no CSRF token on the last page');
    return m[1]!;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({ method: 'GET', url, headers: { accept: 'text/html', ...this.headers, ...headers, cookie: this.cookieHeader() } });
    this.absorb(res);
    return res;
  }

  /** Posts a form; `_csrf` defaults to the token on the last page read (pass `_csrf: null` to omit it). */
  async post(url: string, form: Record<string, string | null>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const fields: Record<string, string> = {};
    if (!('_csrf' in form)) fields._csrf = this.csrf();
    for (const [k, v] of Object.entries(form)) if (v !== null) fields[k] = v;
    const res = await this.app.inject({
      method: 'POST', url, payload: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', ...this.headers, ...headers, cookie: this.cookieHeader() },
    });
    this.absorb(res);
    return res;
  }
}

export function setCookies(res: LightMyRequestResponse): string[] {
  const raw = res.headers['set-cookie'];
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
}
