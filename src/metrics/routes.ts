// GET /metrics on the service's own port (when no separate metrics port is configured).

import type { FastifyPluginAsync } from 'fastify';
import { METRICS_PATH, type Metrics } from './metrics.js';

export interface MetricsRoutesOptions {
  readonly metrics: Pick<Metrics, 'render' | 'contentType'>;
}

export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { metrics }) => {
  app.get(METRICS_PATH, async (_request, reply) => {
    const text = await metrics.render();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
  });
};
