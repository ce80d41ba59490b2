// Ties checks, their states, views, events and routes together.

import type { Health, HealthOptions } from './types.js';

export function createHealth(options: HealthOptions): Health {
  void options;
  throw new Error('health-views: createHealth is not implemented yet');
}
