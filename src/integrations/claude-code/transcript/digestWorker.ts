// The worker thread of digestTranscripts: digests the files it is sent, one
// message each, and answers with the digest (or the error).

import { parentPort } from 'node:worker_threads';
import { digestTranscriptSync, type TranscriptFileSpec } from './digestTranscript.js';

/** A file to digest, by its index in the caller's list. */
export interface DigestJob {
  index: number;
  spec: TranscriptFileSpec;
}

/**
 * The answer to a {@link DigestJob}: the digest's records as JSON text (the
 * receiving thread parses a string about twice as fast as it deserialises
 * the same records cloned object by object; they are plain JSON values).
 */
export type DigestAnswer = { index: number; recordsJson: string } | { index: number; error: { message: string; code?: string } };

const port = parentPort;
if (port !== null) {
  port.on('message', (job: DigestJob) => {
    let answer: DigestAnswer;
    try {
      answer = { index: job.index, recordsJson: JSON.stringify(digestTranscriptSync(job.spec).records) };
    } catch (error) {
      const { message, code } = error as NodeJS.ErrnoException;
      answer = { index: job.index, error: code === undefined ? { message } : { message, code } };
    }
    port.postMessage(answer);
  });
}
