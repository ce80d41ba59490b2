// examples/express: health-views' Express middleware in a whole Express 5 service (see example-contract.ts).

import { describeExample } from './example-contract.js';

describeExample('express');
