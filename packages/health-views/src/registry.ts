// Assembles a Health object from its options: the state store (store.ts) of checks and views, the
// events (listeners, history ring, watch hub) and the routes (routes.ts) that answer from them.

import { checkedClock, iso } from './clock.js';
import { createDisclosureGate } from './disclosure.js';
import { createEventLog } from './events.js';
import { createRoutes } from './routes.js';
import { createStore } from './store.js';
import { builtInPaths, validateOptions } from './validate.js';
import { createWatchHub, type WatchHub } from './watch.js';
import type {
  CheckDefinition,
  CheckNameOf,
  Clock,
  FlagNameOf,
  Health,
  HealthOptions,
  ViewDefinition,
  ViewNameOf,
  WatchOptions,
} from './types.js';

/**
 * Builds a registry from its options. The `const` type parameters keep inline names as literals, so
 * `flag('drainig')`, `view('nope')` or a view naming an undefined check are type errors; options
 * built as `CheckDefinition[]`/`ViewDefinition[]` give a registry whose names are plain strings.
 */
export function createHealth<
  const Checks extends readonly CheckDefinition[],
  const Views extends readonly ViewDefinition<CheckNameOf<Checks>>[],
>(options: HealthOptions<Checks, Views>): Health<CheckNameOf<Checks>, FlagNameOf<Checks>, ViewNameOf<Views>> {
  validateOptions(options);
  const clock = checkedClock(options.clock, 'option clock');
  const serviceId = options.serviceId ?? 'service';
  const watch = options.watch === false ? undefined : (options.watch ?? {});
  const hub = watch && createHub(watch, clock);
  const events = createEventLog(options.historySize ?? 100, hub);
  const store = createStore({
    checks: options.checks,
    views: options.views,
    clock,
    serviceId,
    emit: (event) => events.emit(event),
  });
  const routes = createRoutes({
    source: {
      views: store.views,
      checkNames: store.checkNames,
      viewReport: store.viewReport,
      checkReport: store.checkReport,
      history: () => events.history(),
      snapshot: store.snapshot,
    },
    gate: createDisclosureGate(options.disclosure),
    hub,
    ...builtInPaths(options),
    serviceId,
  });
  const health: Health = {
    start: store.start,
    close(reason = 'closing') {
      store.close(reason);
      hub?.close({ reason, at: iso(clock.now()) });
    },
    flag: store.flag,
    view(name, query) {
      const view = store.view(name);
      return view === undefined ? undefined : store.viewReport(view, query?.exclude);
    },
    check: store.checkReport,
    checkNames: store.checkNames,
    viewNames: store.viewNames,
    on: (listener) => events.on(listener),
    onWatcherDropped: (listener) => hub?.onDropped(listener) ?? (() => {}),
    history: () => events.history(),
    answer: routes.answer,
    routes: routes.templates,
  };
  return health;
}

function createHub(watch: WatchOptions, clock: Clock): WatchHub {
  return createWatchHub({
    clock,
    maxSubscribers: watch.maxSubscribers ?? 10,
    heartbeatMs: watch.heartbeatMs ?? 15_000,
    maxQueuedBytes: watch.maxQueuedBytes ?? 65_536,
  });
}
