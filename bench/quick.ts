import { benchAppendConcurrent } from './appendConcurrent.js';
import { benchAppendSingle } from './appendSingle.js';
import { benchTaskCommands } from './taskCommands.js';
const which = process.argv[2];
if (which === 'c') await benchAppendConcurrent();
if (which === 's') await benchAppendSingle();
if (which === 't') await benchTaskCommands();
if (which === 'r') { const { benchReplay } = await import('./replay.js'); await benchReplay(); }
