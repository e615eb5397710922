import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sessionStream, type StoredEvent } from '../events/envelope.js';
import { isUnknownSessionError } from '../errors.js';
import type { EventStore } from '../store/eventStore.js';
import { isValidId } from '../validation/ids.js';
import { EVENT_KINDS, eventKindOf } from './eventKinds.js';
import { readSessionPage, type ReadSessionPageOptions } from './readSessionPage.js';
import { renderSessionPage, sessionPagePolicy } from './sessionPage.js';
import { createSessionStepper, type SessionStep } from './sessionSteps.js';
import { forkBase } from '../engine/loadSessionView.js';

/** Options of {@link startInspectServer}. */
export interface InspectServerOptions {
  store: EventStore;
  settings: ReadSessionPageOptions['settings'];
  /** The session `/` opens. */
  sessionId: string;
  /** The address to listen on; 127.0.0.1 (loopback only) by default. */
  host?: string;
  /** The port; 0 (any free one) by default. */
  port?: number;
  /** The most steps a page holds before it aggregates. */
  maxSteps?: number;
  /** Seconds between keep-alive comments on an open event stream (default 15). */
  keepAliveSeconds?: number;
}

/** A running inspector. */
export interface InspectServer {
  /** The URL of the session's page. */
  url: string;
  /** The address and port it listens on. */
  host: string;
  port: number;
  /** Stop listening and end every open event stream. */
  close(): Promise<void>;
}

/** A step as the live page takes it: the step and the lane of its event. */
const liveStep = (step: SessionStep) => ({ ...step, kind: EVENT_KINDS.indexOf(eventKindOf(step.type)) });

const pagePath = (sessionId: string) => `/session/${encodeURIComponent(sessionId)}`;

/**
 * Serve the session inspector: `/session/<id>` is the page of `viz session`
 * (with links to its forks' pages), and `/session/<id>/events?after=<v>` a
 * stream of server-sent events carrying each step after version `v`, first
 * those already in the log, then each one as it is appended (by any process:
 * a read-only store follows its writer). Requests naming another host are
 * refused, so a web page elsewhere cannot reach it by rebinding a name.
 */
export async function startInspectServer(options: InspectServerOptions): Promise<InspectServer> {
  const { store } = options;
  const host = options.host ?? '127.0.0.1';
  const streams = new Set<() => void>();
  let port = 0;
  const loopback = host === '127.0.0.1' || host === '::1' || host === 'localhost';
  // On the loopback address only its own names are answered (a page elsewhere cannot rebind a name to it);
  // bound to another address on purpose, whatever name reached it is answered.
  const hostAllowed = (header: string | undefined) =>
    !loopback || [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(header ?? '');

  const fail = (response: ServerResponse, status: number, text: string) => {
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    response.end(`${text}\n`);
  };

  const page = async (sessionId: string, response: ServerResponse) => {
    const { data } = await readSessionPage(store, sessionId, {
      settings: options.settings,
      href: pagePath,
      ...(options.maxSteps === undefined ? {} : { maxSteps: options.maxSteps }),
    });
    const html = renderSessionPage(data, { liveUrl: `${pagePath(sessionId)}/events` });
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': sessionPagePolicy(true),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    response.end(html);
  };

  const events = async (sessionId: string, after: number, response: ServerResponse) => {
    const stream = sessionStream(sessionId);
    if ((await store.streamVersion(stream)) === 0) return fail(response, 404, `No session ${sessionId} in the log.`);
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    response.write('retry: 2000\n\n');
    let base;
    for await (const first of store.readStream(stream, { toVersion: 1 })) if (first.type === 'SessionForked') base = await forkBase(store, first);
    const stepper = createSessionStepper({ settings: options.settings, ...(base === undefined ? {} : { forkBase: base }) });
    let pending: ReturnType<typeof liveStep>[] = [];
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      if (pending.length === 0) return;
      response.write(`event: steps\ndata: ${JSON.stringify(pending)}\n\n`);
      pending = [];
    };
    const take = (event: StoredEvent) => {
      const step = stepper.add(event);
      // What the page holds (up to `after`) is folded, not sent.
      if (step === undefined || event.version <= after) return;
      pending.push(liveStep(step));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    };
    const subscription = store.subscribe({ stream }).subscribe({ next: take, error: () => response.end(), complete: () => response.end() });
    const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), (options.keepAliveSeconds ?? 15) * 1000);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(keepAlive);
      subscription.unsubscribe();
      streams.delete(end);
      response.end();
    };
    streams.add(end);
    // The page went away (or the server is closing): stop following.
    response.on('close', end);
  };

  const server = createServer((request, response) => {
    void (async () => {
      if (!hostAllowed(request.headers.host)) return fail(response, 421, 'This inspector answers only to its own address.');
      if (request.method !== 'GET') return fail(response, 405, 'Only GET.');
      const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
      if (url.pathname === '/') {
        response.writeHead(302, { location: pagePath(options.sessionId) });
        return response.end();
      }
      const match = /^\/session\/([^/]+)(\/events)?$/.exec(url.pathname);
      const sessionId = match === null ? undefined : decodeURIComponent(match[1]!);
      if (sessionId === undefined || !isValidId('session', sessionId)) return fail(response, 404, 'Not found.');
      if (match![2] === undefined) return page(sessionId, response);
      const after = Number(url.searchParams.get('after') ?? '0');
      return events(sessionId, Number.isInteger(after) && after >= 0 ? after : 0, response);
    })().catch((error: unknown) => {
      if (response.headersSent) return response.end();
      if (isUnknownSessionError(error)) return fail(response, 404, (error as Error).message);
      return fail(response, 500, `The inspector could not read the log: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}${pagePath(options.sessionId)}`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const end of [...streams]) end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
