// moai-session/cli: the command line as a library, for embedding it or testing it in-process.
export { runCli } from './program.js';
export { EXIT, exitCodeFor, CliUsageError } from './exitCodes.js';
export { processIo, type CliIo, type GlobalOptions } from './io.js';
