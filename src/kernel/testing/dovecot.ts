import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A private Dovecot IMAP server for tests: its own config, runtime and state directories, a maildir and
 * a passwd-file in a temporary directory, listening on 127.0.0.1 on a free port. It never reads
 * /etc/dovecot and never talks to an installed (systemd) Dovecot. Tests skip when Dovecot is missing.
 */
export const DOVECOT = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'].find((p) => fs.existsSync(p)) ?? null;
export const skipWithoutDovecot: string | false = DOVECOT ? false : 'Dovecot is not installed (apt-get install dovecot-imapd)';

export interface DovecotServer {
  host: string;
  port: number;
  user: string;
  password: string;
  dir: string;
  stop(): Promise<void>;
}

function groupName(gid: number): string {
  try {
    const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[2] === String(gid));
    if (line) return line.split(':')[0]!;
  } catch { /* fall back to the user name */ }
  return os.userInfo().username;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => { c.destroy(); resolve(ok); };
    c.setTimeout(1000, () => done(false));
    c.once('error', () => done(false));
    c.once('data', (d) => done(d.toString().startsWith('* OK')));
  });
}

export async function startDovecot(opts: { user?: string; password?: string } = {}): Promise<DovecotServer> {
  if (!DOVECOT) throw new Error('Dovecot is not installed');
  const user = opts.user ?? 'helpdesk';
  const password = opts.password ?? 'imap-test-password';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-dovecot-'));
  fs.chmodSync(dir, 0o755);
  const root = process.getuid?.() === 0;
  // As root, Dovecot wants unprivileged users for its own processes and for mail; otherwise it runs
  // everything as the current user.
  const me = os.userInfo().username;
  const mailUid = root ? 65534 : process.getuid!();
  const mailGid = root ? 65534 : process.getgid!();
  for (const d of ['run', 'state', 'mail', 'home']) fs.mkdirSync(path.join(dir, d));
  for (const d of ['mail', 'home']) fs.chownSync(path.join(dir, d), mailUid, mailGid);
  fs.writeFileSync(path.join(dir, 'users'), `${user}:{PLAIN}${password}::::::\n`, { mode: 0o644 });
  const port = await freePort();
  const conf = `
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = kw-test-${port}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = ${root ? 'dovecot' : me}
default_internal_group = ${root ? 'dovecot' : groupName(process.getgid!())}
default_login_user = ${root ? 'dovenull' : me}
first_valid_uid = ${Math.min(mailUid, 500)}
first_valid_gid = ${Math.min(mailGid, 500)}
mail_location = maildir:${dir}/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${mailUid} gid=${mailGid} home=${dir}/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
service stats {
  inet_listener http {
    port = 0
  }
}
`;
  const confPath = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(confPath, conf);
  const child: ChildProcess = spawn(DOVECOT, ['-F', '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const stop = async () => {
    if (!exited) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (!exited) child.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (exited) break;
    if (await greets(port)) return { host: '127.0.0.1', port, user, password, dir, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = fs.existsSync(path.join(dir, 'dovecot.log')) ? fs.readFileSync(path.join(dir, 'dovecot.log'), 'utf8') : '';
  await stop();
  throw new Error(`Dovecot did not start:\n${output}\n${log}`);
}
