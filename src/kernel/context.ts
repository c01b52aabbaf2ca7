import pino from 'pino';
import type { Config } from './config/config.js';
import { openDatabase, type Db, type DbHandle } from './db/database.js';
import type { DialectFlags } from './db/dialect.js';
import { loadSecrets, type Secrets } from './crypto/secrets.js';
import { systemClock, type Clock } from './clock.js';
import { JobQueue, type Logger } from './jobs/queue.js';
import { Mailer } from './mail/mailer.js';
import { Audit } from './audit/audit.js';
import { Settings } from './settings/settings.js';
import { cookiePolicy, type CookiePolicy } from './http/cookies.js';
import { InboundMail } from './mail/inbound.js';
import { registerHousekeeping } from './housekeeping.js';

/** Everything modules need from the kernel, made once per process (or per test). */
export interface Kernel {
  config: Config;
  dbh: DbHandle;
  db: Db;
  flags: DialectFlags;
  secrets: Secrets;
  clock: Clock;
  jobs: JobQueue;
  mail: Mailer;
  audit: Audit;
  settings: Settings;
  log: Logger;
  cookies: CookiePolicy;
  /** The SMTP/LMTP intake that modules route recipients on (support mail, bounces). */
  inbound: InboundMail;
  close(): Promise<void>;
}

/** Log fields that must never appear in logs; pino replaces them (declared in the privacy registry). */
export const LOG_REDACT = [
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  '*.password', '*.licence', '*.key', '*.token', '*.email',
];

export function createLogger(level: string): pino.Logger {
  return pino({ level, redact: { paths: LOG_REDACT, censor: '[redacted]' } });
}

export function createKernel(config: Config, opts: { clock?: Clock; log?: Logger; dbh?: DbHandle } = {}): Kernel {
  const dbh = opts.dbh ?? openDatabase(config.database);
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(config.logLevel);
  const secrets = loadSecrets({ secretKeyHex: config.secretKeyHex, dataDir: config.dataDir });
  const settings = new Settings(dbh.db, clock);
  const jobs = new JobQueue(dbh.db, dbh.flags, clock, log);
  const mail = new Mailer(dbh.db, clock, jobs, settings, { smtpUrl: config.smtpUrl, from: config.mailFrom }, log, secrets);
  const audit = new Audit(dbh.db, clock);
  const inbound = new InboundMail(log, config.inboundMaxBytes);
  const kernel: Kernel = {
    config, dbh, db: dbh.db, flags: dbh.flags, secrets, clock, jobs, mail, audit, settings, log,
    cookies: cookiePolicy(config.secureCookies),
    inbound,
    async close() {
      await inbound.close();
      await jobs.stop();
      mail.close();
      await dbh.close();
    },
  };
  registerHousekeeping(kernel);
  return kernel;
}
