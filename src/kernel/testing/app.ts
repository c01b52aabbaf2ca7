import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import { buildApp, type App } from '../../app.js';
import { testKernel, type TestKernel } from './db.js';
import type { ManualClock } from '../clock.js';

export interface TestApp extends TestKernel {
  app: FastifyInstance;
  modules: App;
}

/** A fresh database and the whole app on it, for app.inject() tests. */
export async function testApp(opts: { config?: Partial<Config>; clock?: ManualClock } = {}): Promise<TestApp> {
  const t = await testKernel(opts);
  const modules = await buildApp(t.k);
  await modules.app.ready();
  return {
    ...t, app: modules.app, modules,
    async close() {
      await modules.app.close();
      await t.close();
    },
  };
}
