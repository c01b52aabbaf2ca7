// Settings → Team (owner only, by the admin access table's /admin/settings rule and requireStaff):
// who works in the back office, in which role, with or without two-factor, and when they last signed
// in; invite a member, change a role, switch an account off and on. Every form works without JavaScript.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Kernel } from '../../kernel/context.js';
import { formBody, page } from '../../kernel/http/page.js';
import { Csrf, ErrorSummary, Field } from '../../kernel/views/layout.js';
import { requireStaff } from './auth.hooks.js';
import type { StaffRole } from './accounts.tables.js';
import { STAFF_ROLES } from './staff.service.js';
import { ROLE_NAME, TeamService, roleLabel } from './team.service.js';

const fmt = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC');
const isOurs = (err: unknown): err is { message: string } => /^ACC_/.test(String((err as { code?: unknown })?.code ?? ''));

function RoleSelect({ name, value, id, short = false }: { name: string; value: StaffRole | ''; id: string; short?: boolean }) {
  return (
    <select id={id} name={name} required>
      {value === '' ? <option value="">Choose…</option> : null}
      {STAFF_ROLES.map((r) => <option value={r} selected={r === value}>{short ? ROLE_NAME[r] : roleLabel(r)}</option>)}
    </select>
  );
}

export function registerTeamPages(app: FastifyInstance, k: Kernel): void {
  const team = new TeamService(k);
  const OWNER = requireStaff('owner');
  const idParams = { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) };

  const show = async (request: FastifyRequest, reply: FastifyReply, s: { error?: string; flash?: string; values?: Record<string, string | undefined> } = {}) => {
    const members = await team.list();
    const csrf = request.csrfToken();
    const v = s.values ?? {};
    return page(k.settings, request, reply, { title: 'Team', variant: 'admin', flash: s.flash, status: s.error ? 400 : 200 }, (
      <>
        <h1>Team</h1>
        <p><a href="/admin/settings">← Settings</a></p>
        {s.error ? <ErrorSummary errors={{ _form: s.error }} /> : null}
        <section class="card">
          <h2>Members</h2>
          <div class="table-wrap"><table>
            <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Two-factor</th><th>Last sign-in</th><th>Account</th></tr></thead>
            <tbody>{members.map((m) => (
              <tr>
                <td>{m.name}{m.id === request.auth!.subjectId ? <span class="muted"> (you)</span> : null}</td>
                <td>{m.email}</td>
                <td>
                  <form method="post" action={`/admin/settings/team/${m.id}/role`} class="inline">
                    <Csrf token={csrf} />
                    <label class="visually-hidden" for={`role-${m.id}`}>Role of {m.name}</label>
                    <RoleSelect name="role" value={m.role} id={`role-${m.id}`} short />
                    <button type="submit" class="secondary">Change</button>
                  </form>
                </td>
                <td>{m.twoFactor ? 'on' : 'off'}</td>
                <td>{fmt(m.lastLoginAt)}</td>
                <td>
                  {m.disabled ? 'switched off' : m.lastLoginAt === null ? 'invited, not signed in yet' : 'active'}
                  {m.id === request.auth!.subjectId ? null : (
                    <form method="post" action={`/admin/settings/team/${m.id}/${m.disabled ? 'enable' : 'disable'}`} class="inline">
                      <Csrf token={csrf} />
                      <button type="submit" class={m.disabled ? 'secondary' : 'danger'}>{m.disabled ? 'Switch on' : 'Switch off'}</button>
                    </form>
                  )}
                </td>
              </tr>
            ))}</tbody>
          </table></div>
          <p class="muted">Switching an account off signs it out everywhere at once; its history stays in the audit log.</p>
        </section>
        <section class="card">
          <h2>Invite a team member</h2>
          <form method="post" action="/admin/settings/team">
            <Csrf token={csrf} />
            <Field label="Name" name="name" value={v.name} required maxLength={200} />
            <Field label="Email" name="email" type="email" value={v.email} required autocomplete="off" maxLength={254} />
            <div class="field"><label for="f-role">Role</label><RoleSelect name="role" value={(v.role as StaffRole) ?? ''} id="f-role" /></div>
            <p class="hint">They get an email with a link to choose their own password (it works once, for seven days).</p>
            <button type="submit">Send the invitation</button>
          </form>
        </section>
      </>
    ));
  };

  app.get('/admin/settings/team', { preHandler: OWNER }, async (request, reply) => show(request, reply));

  const act = (fn: (request: FastifyRequest) => Promise<string>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const flash = await fn(request);
      return show(request, reply, { flash });
    } catch (err) {
      if (!isOurs(err)) throw err;
      return show(request, reply, { error: err.message, values: request.body as Record<string, string | undefined> });
    }
  };

  app.post('/admin/settings/team', { preHandler: OWNER, schema: { body: formBody({ name: 200, email: 254, role: 20 }) } }, act(async (request) => {
    const b = request.body as Record<string, string | undefined>;
    await team.invite(b, request.auth!.subjectId);
    return `Invitation sent to ${b.email?.trim()}.`;
  }));
  app.post('/admin/settings/team/:id/role', { preHandler: OWNER, schema: { ...idParams, body: formBody({ role: 20 }) } }, act(async (request) => {
    await team.changeRole((request.params as { id: string }).id, (request.body as { role?: string }).role, request.auth!.subjectId);
    return 'Role saved.';
  }));
  for (const [path, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post(`/admin/settings/team/:id/${path}`, { preHandler: OWNER, schema: { ...idParams, body: formBody({}) } }, act(async (request) => {
      await team.setDisabled((request.params as { id: string }).id, disabled, request.auth!.subjectId);
      return disabled ? 'Account switched off; its sessions have ended.' : 'Account switched on.';
    }));
  }
}
