// The admin's one table: per-day totals of completed days (the dashboard's read model). Not personal.

export interface AdminDailyTable {
  /** Epoch ms of the UTC midnight starting the day. */
  day: number;
  /** 'calls', 'installs' (key: version), 'users_in_use', 'users_licensed', 'done'. */
  metric: string;
  key: string;
  value: number;
}

declare module '../../kernel/db/schema.js' {
  interface Database {
    admin_daily: AdminDailyTable;
  }
}
