/**
 * The admin API's route table: system (status, config, reload, OpenAPI, metrics), services and real
 * servers, and the running state. Handlers reach the daemon only through `ApiHost`.
 */
import type { ApiHost } from './context.js';
import { Router } from './router.js';
import { registerHaRoutes } from './routes-ha.js';
import { addRuntimeRoutes } from './routes-runtime.js';
import { addServiceRoutes } from './routes-services.js';
import { addSimulateRoute } from './routes-simulate.js';
import { addSystemRoutes } from './routes-system.js';

export interface RouterHost extends ApiHost {
  /** Environment for TSLVS_TOKEN when a whole config is posted. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export function buildRouter(host: RouterHost): Router {
  const router = new Router();
  addSystemRoutes(router, host, () => host.env);
  addServiceRoutes(router, host);
  addRuntimeRoutes(router, host);
  addSimulateRoute(router, host);
  registerHaRoutes(router, host);
  return router;
}
