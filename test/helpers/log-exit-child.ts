// A process that writes access lines through the service's own loggers and stdout destination, then
// ends in the same event-loop turn, the way its argument says: the exit paths whose flush
// test/unit/log-destination.test.ts checks.
//
//   node --import tsx test/helpers/log-exit-child.ts <count> exit|throw|reject|fatal

import { createLoggers } from '../../src/process/logger.js';
import { createStdoutDestination } from '../../src/process/log-destination.js';

const [countArg = '0', how = 'exit'] = process.argv.slice(2);
const { logger, accessLogger } = createLoggers({ level: 'info', pretty: false }, createStdoutDestination());
for (let i = 0; i < Number(countArg); i++) accessLogger.info({ requestId: `r${i}` }, `GET /accounts/${10_000 + i} 200`);
// Nothing below waits: each way out comes in the turn that logged the lines.
if (how === 'exit') process.exit(0);
if (how === 'throw') throw new Error('thrown in the same turn');
if (how === 'reject') void Promise.reject(new Error('rejected in the same turn'));
if (how === 'fatal') {
  logger.fatal('fatal after the access lines');
  process.exit(1);
}
