import type { FastifyInstance } from 'fastify';
import type { Kernel } from '../../kernel/context.js';
import { page } from '../../kernel/http/page.js';
import { BarChart, LineChart, type Series } from '../../kernel/views/charts.js';
import { requireStaff, type StaffRole } from '../accounts/index.js';
import { allows } from './access.js';
import type { DashboardData, DashboardService } from './dashboard.service.js';

const day = (t: number) => new Date(t).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const date = (t: number) => new Date(t).toISOString().slice(0, 10);
const time = (t: number) => new Date(t).toISOString().slice(11, 16) + ' UTC';

function installSeries(d: DashboardData): Series[] {
  const top = new Set(d.versions);
  const series: Series[] = d.versions.map((v) => ({ name: v, values: d.days.map((x) => x.installs.get(v) ?? 0) }));
  const other = d.days.map((x) => [...x.installs].reduce((s, [v, c]) => s + (top.has(v) ? 0 : c), 0));
  if (other.some((v) => v > 0)) series.push({ name: 'other', values: other });
  return series;
}

export function Dashboard({ d, showRevenue }: { d: DashboardData; showRevenue: boolean }) {
  const labels = d.days.map((x) => day(x.day));
  return (
    <>
      <section class="card" aria-labelledby="h-use">
        <h2 id="h-use">Installed base</h2>
        {d.pendingDays ? <p class="muted">{d.pendingDays} earlier day(s) are still being summarised by a background job: the charts fill in within the next few minutes.</p> : null}
        <LineChart title={`Licences calling home, by version (last ${d.days.length} days; today so far)`} labels={labels} series={installSeries(d)} />
        <BarChart title="Call-home requests per day" labels={labels} series={[{ name: 'Requests', values: d.days.map((x) => x.calls) }]} />
        <LineChart title="Users in use against licensed users (licences that called that day)" labels={labels}
          series={[{ name: 'Users in use', values: d.days.map((x) => x.usersInUse) }, { name: 'Licensed users', values: d.days.map((x) => x.usersLicensed) }]} />
      </section>
      <section class="card" aria-labelledby="h-shared">
        <h2 id="h-shared">Licences that look shared</h2>
        <p class="muted">{d.shared.total} licence(s) used from more computers or networks than they allow over the last 30 days (as of {time(d.shared.asOf)}). A signal is a reason to ask, not proof.</p>
        {d.shared.rows.length ? (
          <>
            <BarChart title="Computers seen against computers allowed (most spread first)" labels={d.shared.rows.map((s) => s.licenceId.slice(0, 8))}
              series={[
                { name: 'Computers seen', values: d.shared.rows.map((s) => s.distinctComputers) },
                { name: 'Allowed', values: d.shared.rows.map((s) => s.maxMachines ?? 0) },
                { name: 'Networks', values: d.shared.rows.map((s) => s.distinctNetworks) },
              ]} />
            <div class="table-wrap"><table>
              <thead><tr><th>Licence</th><th>Product</th><th>Why</th></tr></thead>
              <tbody>{d.shared.rows.map((s) => <tr><td><a class="mono" href={`/admin/licences/${s.licenceId}`}>{s.licenceId.slice(0, 8)}</a></td><td>{s.product}</td><td>{s.reasons.join('; ')}</td></tr>)}</tbody>
            </table></div>
          </>
        ) : <p>No licence looks shared.</p>}
      </section>
      <section class="card" aria-labelledby="h-renewals">
        <h2 id="h-renewals">Renewals due in the next 90 days</h2>
        <BarChart title="Maintenance and add-on subscriptions ending, per week" labels={d.renewals.map((r) => `from ${day(r.weekStart)}`)}
          series={[{ name: 'Maintenance', values: d.renewals.map((r) => r.maintenance) }, { name: 'Add-ons', values: d.renewals.map((r) => r.addons) }]} />
      </section>
      {showRevenue ? (
        <section class="card" aria-labelledby="h-revenue">
          <h2 id="h-revenue">Revenue</h2>
          {d.currencies.length ? (
            <BarChart title="Invoiced per month by currency (gross, less credit notes, in major units)" labels={d.revenue.map((r) => r.month)}
              series={d.currencies.map((c) => ({ name: c, values: d.revenue.map((r) => Math.round(r.byCurrency[c] ?? 0) / 100) }))} decimals={2} />
          ) : <p>No invoices in the last 12 months.</p>}
        </section>
      ) : null}
    </>
  );
}

/** The dashboard: charts drawn on the server, each with its numbers beside it. */
export function registerDashboardPage(app: FastifyInstance, k: Kernel, dashboard: DashboardService): void {
  app.get('/admin', { preHandler: requireStaff() }, async (request, reply) => {
    const [d, jobs, held, uncertain] = await Promise.all([
      dashboard.data(),
      k.jobs.counts(),
      k.db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'held').executeTakeFirstOrThrow(),
      k.db.selectFrom('mail_outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'uncertain').executeTakeFirstOrThrow(),
    ]);
    const role = request.auth!.role as StaffRole;
    return page(k.settings, request, reply, { title: 'Dashboard', variant: 'admin' }, (
      <>
        <div class="page-head">
          <h1>Dashboard</h1>
          <p class="muted">{date(k.clock.now())} · figures per UTC day</p>
        </div>
        <div class="grid">
          <section class="card"><h2>Mail</h2><p>{Number(held.n)} message(s) held in the outbox{Number(held.n) ? ' (no SMTP server is configured)' : ''}.</p>{Number(uncertain.n) ? <p>{Number(uncertain.n)} message(s) with uncertain delivery wait for a decision.</p> : null}{allows(role, 'GET', '/admin/mail') ? <p><a href="/admin/mail">Open the outbox</a></p> : null}</section>
          <section class="card"><h2>Jobs</h2><p>{Object.entries(jobs).map(([s, n]) => `${n} ${s}`).join(', ') || 'No jobs yet.'}</p></section>
        </div>
        <Dashboard d={d} showRevenue={allows(role, 'GET', '/admin/billing')} />
      </>
    ));
  });
}
