// examples/bare-http: health-views with no framework at all (see example-contract.ts).

import { describeExample } from './example-contract.js';

describeExample('bare-http');
