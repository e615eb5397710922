// The PostgreSQL store's suites, in one file so they run one after another on one worker.
// Each suite skips (saying why) without a server, and fails under CI=true (see pgTestServer.ts).
// The server restart test is serverRestart.test.ts, run by `npm run test:faults` only.
import './postgresContract.suite.js';
import './schema.suite.js';
import './concurrency.suite.js';
import './acrossMachines.suite.js';
import './cliFlows.suite.js';
import './copy.suite.js';
