import net from 'node:net';
import path from 'node:path';

/**
 * Keyward's process configuration: read once from the environment, validated synchronously before
 * anything listens, with messages that say how to fix each bad value. Operational settings that staff
 * change at run time (seller details, SMTP, tax rates) live in the settings table instead.
 */
export interface Config {
  env: 'production' | 'development' | 'test';
  host: string;
  port: number;
  dataDir: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema?: string };
  publicUrl: string;
  /** true when publicUrl is https: cookies get the __Host- prefix and Secure. */
  secureCookies: boolean;
  redisUrl?: string;
  smtpUrl?: string;
  mailFrom: string;
  trustedProxies: string[];
  /** 32-byte key for encryption at rest and HMACs; from KEYWARD_SECRET_KEY or a file in the data dir. */
  secretKeyHex?: string;
  logLevel: string;
  role: 'web' | 'worker' | 'all';
  /** Processes `serve` runs on this machine (KEYWARD_PROCESSES or --processes; one per core at most is useful). */
  processes: number;
  /** Migrate an existing database with pending migrations at start (after a backup on SQLite). */
  autoMigrate: boolean;
  /** Sign-in, registration and reset attempts allowed per IP address per minute. */
  loginRatePerMinute: number;
  /** Where the built-in SMTP listener for support mail and bounces listens (port, or host:port); off when unset. */
  smtpListen?: { host: string; port: number };
  /** Largest inbound message accepted, in bytes. */
  inboundMaxBytes: number;
  /** Where the same intake also listens as LMTP (for a local MTA such as Postfix or Dovecot); off when unset. */
  lmtpListen?: { host: string; port: number };
  /** Optional IMAP polling of a mailbox into the same intake; off unless KEYWARD_IMAP_HOST is set. */
  imap?: ImapConfig;
}

/** IMAP polling. `password` is not enumerable, so it never appears when the config is logged or serialised. */
export interface ImapConfig {
  host: string;
  port: number;
  /** tls: implicit TLS (993); starttls: plain connection upgraded, refused without STARTTLS; none: no TLS at all. */
  tls: 'tls' | 'starttls' | 'none';
  user: string;
  readonly password: string;
  mailbox: string;
  pollMs: number;
  /** Processed messages are moved here; unset: they are only marked \Seen and stay in the mailbox. */
  moveTo?: string;
  /** The recipient the polled mail is delivered to in the intake; unset: the support address. */
  deliverTo?: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Keyward cannot start; fix the configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** An address, a network (address/bits) or one of proxy-addr's names. */
function isProxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [addr = '', bits, more] = entry.split('/');
  const family = net.isIP(addr);
  if (family === 0 || more !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];

  const port = intInRange(env.PORT ?? '3000', 0, 65535);
  if (port === null) problems.push(`PORT="${env.PORT}" is not a port number; use a whole number from 1 to 65535, e.g. PORT=3000.`);
  const host = env.HOST ?? '127.0.0.1';
  const dataDir = path.resolve(env.KEYWARD_DATA_DIR ?? './data');

  let database: Config['database'] = { kind: 'sqlite', file: path.join(dataDir, 'keyward.sqlite') };
  const dbUrl = env.DATABASE_URL;
  if (dbUrl) {
    if (/^postgres(ql)?:\/\//.test(dbUrl)) {
      // A schema chosen with ?options=-c search_path=NAME is where the tables and migration records live.
      let schema: string | undefined;
      try { schema = /search_path=([A-Za-z_][A-Za-z0-9_]*)/.exec(new URL(dbUrl).searchParams.get('options') ?? '')?.[1]; } catch { /* reported by pg */ }
      database = { kind: 'postgres', url: dbUrl, ...(schema ? { schema } : {}) };
    }
    else if (dbUrl.startsWith('sqlite:')) database = { kind: 'sqlite', file: path.resolve(dbUrl.slice('sqlite:'.length).replace(/^\/\//, '')) };
    else problems.push(`DATABASE_URL must start with postgres:// (PostgreSQL) or sqlite: (a file path); leave it unset for the embedded SQLite file in ${dataDir}.`);
  }

  const defaultPublic = `http://${host.includes(':') ? `[${host}]` : host}:${port ?? 3000}`;
  const publicUrl = (env.KEYWARD_PUBLIC_URL ?? defaultPublic).replace(/\/+$/, '');
  let secureCookies = false;
  try {
    const u = new URL(publicUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    secureCookies = u.protocol === 'https:';
  } catch {
    problems.push(`KEYWARD_PUBLIC_URL="${env.KEYWARD_PUBLIC_URL}" is not an http(s) address; set it to the address customers and installed programs use, e.g. https://licensing.example.com.`);
  }

  if (env.REDIS_URL && !/^rediss?:\/\//.test(env.REDIS_URL)) problems.push('REDIS_URL must look like redis://127.0.0.1:6379; leave it unset to keep rate-limit counters in the database.');
  if (env.SMTP_URL && !/^smtps?:\/\//.test(env.SMTP_URL)) problems.push('SMTP_URL must look like smtp://user:pass@mail.example.com:587 or smtps://…; leave it unset to keep mail in the outbox (readable in the admin).');

  const secretKeyHex = env.KEYWARD_SECRET_KEY;
  if (secretKeyHex !== undefined && !/^[0-9a-fA-F]{64}$/.test(secretKeyHex)) {
    problems.push('KEYWARD_SECRET_KEY must be 64 hex characters (32 bytes); generate one with: openssl rand -hex 32. Leave it unset on a single node to keep one in the data directory.');
  }

  const role = (env.KEYWARD_ROLE ?? 'all') as Config['role'];
  if (!['web', 'worker', 'all'].includes(role)) problems.push(`KEYWARD_ROLE="${env.KEYWARD_ROLE}" must be web, worker or all.`);
  const processes = env.KEYWARD_PROCESSES === undefined || env.KEYWARD_PROCESSES === '' ? 1 : Number(env.KEYWARD_PROCESSES);
  if (!Number.isInteger(processes) || processes < 1 || processes > 64) {
    problems.push(`KEYWARD_PROCESSES="${env.KEYWARD_PROCESSES}" (or --processes) must be a whole number from 1 to 64; one per CPU core is the most that helps.`);
  }

  const nodeEnv = env.NODE_ENV === 'production' ? 'production' : env.NODE_ENV === 'test' ? 'test' : 'development';
  const trustedProxies = (env.KEYWARD_TRUSTED_PROXIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  // Checked here: Fastify's proxy-addr throws its own words at start-up, after the database was opened.
  const badProxies = trustedProxies.filter((p) => !isProxyEntry(p));
  if (badProxies.length) problems.push(`KEYWARD_TRUSTED_PROXIES has ${badProxies.map((p) => `"${p}"`).join(', ')}: give addresses (10.0.0.5), networks (10.0.0.0/8, fd00::/8) or loopback, linklocal, uniquelocal, separated by commas.`);
  if (env.KEYWARD_AUTO_MIGRATE !== undefined && !['', '0', '1'].includes(env.KEYWARD_AUTO_MIGRATE)) {
    problems.push(`KEYWARD_AUTO_MIGRATE="${env.KEYWARD_AUTO_MIGRATE}" must be 1 (migrate at start) or 0.`);
  }
  if (env.KEYWARD_MAIL_FROM !== undefined && !/^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(env.KEYWARD_MAIL_FROM.trim())) {
    problems.push(`KEYWARD_MAIL_FROM="${env.KEYWARD_MAIL_FROM}" must be an address, alone or with a name: Vendor Ltd <noreply@vendor.example>.`);
  }
  const logLevel = env.LOG_LEVEL ?? (nodeEnv === 'test' ? 'silent' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL="${env.LOG_LEVEL}" must be one of ${LOG_LEVELS.join(', ')}.`);

  let smtpListen: Config['smtpListen'];
  if (env.KEYWARD_SMTP_LISTEN) {
    const m = /^(?:(.+):)?(\d{1,5})$/.exec(env.KEYWARD_SMTP_LISTEN);
    if (!m || Number(m[2]) > 65535) problems.push('KEYWARD_SMTP_LISTEN must be a port (2525) or host:port (0.0.0.0:25) for incoming support mail and bounces.');
    else smtpListen = { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
  }
  const inboundMax = env.KEYWARD_INBOUND_MAX_MB === undefined ? 10 : Number(env.KEYWARD_INBOUND_MAX_MB);
  if (!Number.isInteger(inboundMax) || inboundMax < 1 || inboundMax > 100) problems.push('KEYWARD_INBOUND_MAX_MB must be a whole number of megabytes from 1 to 100 (default 10).');

  let lmtpListen: Config['lmtpListen'];
  if (env.KEYWARD_LMTP_LISTEN) {
    const m = /^(?:(.+):)?(\d{1,5})$/.exec(env.KEYWARD_LMTP_LISTEN);
    if (!m || Number(m[2]) > 65535) problems.push('KEYWARD_LMTP_LISTEN must be a port (2424) or host:port (127.0.0.1:24) where a local MTA hands support mail over by LMTP.');
    else lmtpListen = { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
  }
  const imap = readImap(env, problems);

  const loginRate = env.KEYWARD_LOGIN_RATE_LIMIT === undefined ? null : intInRange(env.KEYWARD_LOGIN_RATE_LIMIT, 1, 100000);
  if (env.KEYWARD_LOGIN_RATE_LIMIT !== undefined && loginRate === null) problems.push('KEYWARD_LOGIN_RATE_LIMIT must be a whole number of attempts per minute per IP address, e.g. 10.');

  if (problems.length) throw new ConfigError(problems);

  return {
    env: nodeEnv,
    host,
    port: port ?? 3000,
    dataDir,
    database,
    publicUrl,
    secureCookies,
    redisUrl: env.REDIS_URL || undefined,
    smtpUrl: env.SMTP_URL || undefined,
    mailFrom: env.KEYWARD_MAIL_FROM ?? 'Keyward <noreply@localhost>',
    trustedProxies,
    secretKeyHex: secretKeyHex?.toLowerCase(),
    logLevel,
    role,
    processes,
    autoMigrate: env.KEYWARD_AUTO_MIGRATE === '1',
    loginRatePerMinute: loginRate ?? 10,
    smtpListen,
    inboundMaxBytes: inboundMax * 1024 * 1024,
    lmtpListen,
    imap,
    ...overrides,
  };
}

function readImap(env: Env, problems: string[]): ImapConfig | undefined {
  const host = env.KEYWARD_IMAP_HOST?.trim();
  if (!host) {
    if (env.KEYWARD_IMAP_USER || env.KEYWARD_IMAP_PASSWORD) problems.push('KEYWARD_IMAP_USER/KEYWARD_IMAP_PASSWORD are set but KEYWARD_IMAP_HOST is not; set the IMAP server (e.g. imap.example.com) or remove them.');
    return undefined;
  }
  const before = problems.length;
  const tls = (env.KEYWARD_IMAP_TLS ?? 'tls').toLowerCase();
  if (tls !== 'tls' && tls !== 'starttls' && tls !== 'none') problems.push('KEYWARD_IMAP_TLS must be tls (port 993), starttls (port 143, upgraded) or none (only for a server on this machine).');
  const port = env.KEYWARD_IMAP_PORT === undefined ? (tls === 'tls' ? 993 : 143) : intInRange(env.KEYWARD_IMAP_PORT, 1, 65535);
  if (port === null) problems.push('KEYWARD_IMAP_PORT must be a port number, e.g. 993.');
  const user = env.KEYWARD_IMAP_USER ?? '';
  const password = env.KEYWARD_IMAP_PASSWORD ?? '';
  if (!user || !password) problems.push('KEYWARD_IMAP_USER and KEYWARD_IMAP_PASSWORD must both be set when KEYWARD_IMAP_HOST is (the mailbox account to poll).');
  const seconds = env.KEYWARD_IMAP_POLL_SECONDS === undefined ? 60 : intInRange(env.KEYWARD_IMAP_POLL_SECONDS, 10, 86400);
  if (seconds === null) problems.push('KEYWARD_IMAP_POLL_SECONDS must be a whole number of seconds from 10 to 86400 (default 60).');
  const mailbox = env.KEYWARD_IMAP_MAILBOX?.trim() || 'INBOX';
  const moveTo = env.KEYWARD_IMAP_MOVE_TO?.trim() || undefined;
  if (moveTo && moveTo === mailbox) problems.push('KEYWARD_IMAP_MOVE_TO must be a different mailbox than KEYWARD_IMAP_MAILBOX (or unset to only mark messages as read).');
  const deliverTo = env.KEYWARD_IMAP_DELIVER_TO?.trim().toLowerCase() || undefined;
  if (deliverTo && !/^[^\s@<>]+@[^\s@<>]+$/.test(deliverTo)) problems.push('KEYWARD_IMAP_DELIVER_TO must be an address such as support@example.com (or unset for the support address).');
  if (problems.length > before) return undefined;
  const cfg: Omit<ImapConfig, 'password'> = { host, port: port!, tls: tls as ImapConfig['tls'], user, mailbox, pollMs: seconds! * 1000, ...(moveTo ? { moveTo } : {}), ...(deliverTo ? { deliverTo } : {}) };
  return withImapPassword(cfg, password);
}

/** Attaches the IMAP password as a non-enumerable property: JSON, pino and util.inspect leave it out. */
export function withImapPassword(cfg: Omit<ImapConfig, 'password'>, password: string): ImapConfig {
  return Object.defineProperty({ ...cfg }, 'password', { value: password, enumerable: false }) as ImapConfig;
}

function intInRange(s: string, min: number, max: number): number | null {
  if (!/^\d{1,5}$/.test(s)) return null;
  const n = Number(s);
  return n >= min && n <= max ? n : null;
}
