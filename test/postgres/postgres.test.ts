// Every PostgreSQL test, in one file so they run one after another on one worker: the server
// restart at the end must not pull the server from under another file's test running beside it.
// Each suite skips (saying why) without a server, and fails under CI=true (see pgTestServer.ts).
import './postgresContract.suite.js';
import './schema.suite.js';
import './concurrency.suite.js';
import './acrossMachines.suite.js';
import './cliFlows.suite.js';
import './copy.suite.js';
import './serverRestart.suite.js';
