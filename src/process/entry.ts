// The production entry (the bundle's, and `node dist/src/process/entry.js` unbundled): runs the service
// with this process's environment and no test seams. The test build has its own entry in test/support/.

import { runMain } from './main.js';

runMain(process.env);
