import { writeReplayLog } from './replayLog.js';
console.log(await writeReplayLog(Number(process.argv[2] ?? 200000), 40));
