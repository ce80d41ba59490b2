// GET|PUT /testability/healthy/:state, the article's switch. Registered only when enabled.

import type { FastifyPluginAsync } from 'fastify';
import { httpError } from '../shared/http-error.js';
import { parseGoBool, STATE_RULE, type TestabilitySwitch } from './testability-switch.js';

export interface TestabilityRoutesOptions {
  readonly testability: TestabilitySwitch;
}

export const testabilityRoutes: FastifyPluginAsync<TestabilityRoutesOptions> = async (app, { testability }) => {
  for (const method of ['GET', 'PUT'] as const) {
    app.route<{ Params: { state: string } }>({
      method,
      url: '/testability/healthy/:state',
      handler: async (request) => {
        const healthy = parseGoBool(request.params.state);
        if (healthy === undefined) throw httpError(400, `${STATE_RULE} (got ${JSON.stringify(request.params.state)})`);
        if (healthy !== testability.healthy) {
          request.log.warn({ healthy }, `testability switch set: healthy=${healthy}`);
        }
        testability.set(healthy);
        return { healthy };
      },
    });
  }
};
