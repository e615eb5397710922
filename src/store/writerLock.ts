import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { link, open, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LogLockedError, StorageError } from '../errors.js';

/*
 * One writer process at a time: `writer.lock`, a small JSON file saying who
 * holds it (pid, host, since, a token, and on Linux the boot id, the PID
 * namespace and the process's start time, which tell a live owner from a pid
 * reused after a crash). It is made whole under a temporary name and then hard-linked into
 * place, which fails when the name exists: taking the lock and saying who
 * holds it are one step, so a second writer never finds a lock without an
 * owner. The holder touches the file every 2 s.
 *
 * A lock is stale, and taken over with a warning saying whose it was:
 * - on this host and in this PID namespace, at once when its process is gone
 *   (or the machine restarted, or its pid now belongs to another process);
 * - from another host, or from another PID namespace of this host (a
 *   container with host networking, `unshare -p`: its pid means another
 *   process here, or none), or when its namespace is not recorded, only once
 *   it has gone 10 s without a touch (its process cannot be asked; a live
 *   holder touches it every 2 s), and the refusal before then names the host
 *   or the namespace.
 * Takeovers are serialised by `writer.lock.takeover` (made with O_EXCL), and
 * a stale lock is removed only if it still holds the token that was judged.
 */

const LOCK_NAME = 'writer.lock';
const TAKEOVER_NAME = 'writer.lock.takeover';
/** How long a lock from another host (or of unknown liveness) lasts without a touch. */
export const STALE_MS = 10_000;
const REFRESH_MS = 2_000;
/** A takeover mutex older than this was left by a process that died taking over. */
const TAKEOVER_STALE_MS = 5_000;
const RETRY_MS = 50;

/** Options of {@link acquireWriterLock}. */
export interface WriterLockOptions {
  /** How long to wait for another writer to let go; 0 fails at once (a stale lock is still taken over at once). */
  waitMs: number;
  /** Called when the lock was lost while held (its file removed or replaced under it). */
  onCompromised: (error: Error) => void;
  /** How often the held lock is touched and checked, in ms; 2,000 by default (tests make it shorter). */
  refreshMs?: number;
}

/** A held writer lock. */
export interface WriterLock {
  /** Why a stale lock was taken over to get this one (a sentence), if one was. */
  readonly tookOver: string | undefined;
  /** Let the lock go (only if it is still ours); never fails. */
  release(): Promise<void>;
}

/** What `writer.lock` says about its holder. */
export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  token: string;
  bootId?: string;
  /** The process's start time, in clock ticks since boot (Linux, /proc/<pid>/stat field 22). */
  startTicks?: string;
  /** The PID namespace its pid belongs to (Linux: the target of /proc/self/ns/pid, e.g. `pid:[4026531836]`). */
  pidNamespace?: string;
}

/** What was found at `writer.lock` when it could not be taken. */
type Holder =
  | { kind: 'owner'; owner: LockOwner; mtimeMs: number }
  | { kind: 'unreadable'; mtimeMs: number; why: string }
  | { kind: 'directory'; mtimeMs: number }
  | { kind: 'gone' };

/**
 * Take the writer lock of the log in `dir`. A lock another live writer holds
 * is a {@link LogLockedError} naming it (pid and host), after waiting up to
 * `waitMs` for it; a stale one is taken over (see the file comment).
 */
export async function acquireWriterLock(dir: string, options: WriterLockOptions): Promise<WriterLock> {
  const lockPath = join(dir, LOCK_NAME);
  const owner = ownIdentity();
  const deadline = Date.now() + Math.max(0, options.waitMs);
  let tookOver: string | undefined;
  for (;;) {
    if (await tryCreate(dir, lockPath, owner)) break;
    const holder = await readHolder(lockPath);
    if (holder.kind === 'gone') continue; // let go between our try and our look: try again at once
    const stale = staleness(holder);
    if (stale !== undefined) {
      const removed = await takeOver(dir, lockPath, holder);
      if (removed) tookOver = `Took over the writer lock of ${dir}: ${stale}.`;
      continue;
    }
    if (Date.now() >= deadline) throw new LogLockedError(dir, describeHolder(holder));
    await delay(Math.min(RETRY_MS, Math.max(1, deadline - Date.now())));
  }
  return holdLock(lockPath, owner, tookOver, options);
}

/** This process as a lock owner. */
function ownIdentity(): LockOwner {
  const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomUUID() };
  const bootId = readBootId();
  const startTicks = processStartTicks(process.pid);
  const pidNamespace = ownPidNamespace();
  if (bootId !== undefined) owner.bootId = bootId;
  if (pidNamespace !== undefined) owner.pidNamespace = pidNamespace;
  if (startTicks !== undefined) owner.startTicks = startTicks;
  return owner;
}

/** Make the lock file whole under a temporary name, then link it into place: false when another holds the name. */
async function tryCreate(dir: string, lockPath: string, owner: LockOwner): Promise<boolean> {
  const text = `${JSON.stringify(owner)}\n`;
  const temporary = join(dir, `${LOCK_NAME}.${owner.pid}.${owner.token}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx' });
  } catch (error) {
    throw new StorageError(`Cannot lock the event log in ${dir}: cannot write ${temporary} (${(error as Error).message}).`, { cause: error });
  }
  try {
    await link(temporary, lockPath);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EXDEV') {
      throw new StorageError(`Cannot lock the event log in ${dir}: ${(error as Error).message}`, { cause: error });
    }
    // A file system without hard links: create it exclusively (its content follows at once).
    return createExclusively(dir, lockPath, text);
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

async function createExclusively(dir: string, lockPath: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StorageError(`Cannot lock the event log in ${dir}: ${(error as Error).message}`, { cause: error });
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function readHolder(lockPath: string): Promise<Holder> {
  let mtimeMs: number;
  try {
    const info = await stat(lockPath);
    mtimeMs = info.mtimeMs;
    if (info.isDirectory()) return { kind: 'directory', mtimeMs };
  } catch {
    return { kind: 'gone' };
  }
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch {
    return { kind: 'gone' };
  }
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.token === 'string') {
      return { kind: 'owner', owner: value as LockOwner, mtimeMs };
    }
    return { kind: 'unreadable', mtimeMs, why: 'it names no pid, host and token' };
  } catch {
    return { kind: 'unreadable', mtimeMs, why: text.length === 0 ? 'it is empty' : 'it is not JSON' };
  }
}

/** Why the lock found is stale (a sentence naming its owner), or undefined while it is held. */
function staleness(holder: Exclude<Holder, { kind: 'gone' }>): string | undefined {
  const age = Date.now() - holder.mtimeMs;
  if (holder.kind === 'directory') {
    // The lock of an earlier version (proper-lockfile, touched while held): its time rule.
    return age > STALE_MS ? `it was an earlier version's lock directory, untouched for ${seconds(age)}` : undefined;
  }
  if (holder.kind === 'unreadable') {
    // Only the fallback without hard links writes the file after creating it: give it a moment.
    return age > REFRESH_MS ? `its lock file was unreadable (${holder.why}) and ${seconds(age)} old` : undefined;
  }
  const { owner } = holder;
  const who = `pid ${owner.pid} on ${owner.host === hostname() ? 'this host' : `host ${owner.host}`}, holding it since ${owner.since}`;
  if (owner.host !== hostname()) {
    return age > STALE_MS ? `its owner, ${who}, had not touched it for ${seconds(age)} (a lock from another host is stale after ${seconds(STALE_MS)})` : undefined;
  }
  const bootId = readBootId();
  if (owner.bootId !== undefined && bootId !== undefined && owner.bootId !== bootId) {
    return `its owner, ${who}, ran before this machine last started`;
  }
  if (!sameNamespace(owner)) {
    // Its pid means nothing here (another process, or none): only the time rule can tell.
    return age > STALE_MS ? `its owner, ${who} ${namespaceOf(owner)}, had not touched it for ${seconds(age)}` : undefined;
  }
  if (!isAlive(owner.pid)) return `its owner, ${who}, is no longer running`;
  if (owner.startTicks !== undefined) {
    const ticks = processStartTicks(owner.pid);
    if (ticks !== undefined && ticks !== owner.startTicks) return `its owner, ${who}, is no longer running (pid ${owner.pid} is now another process)`;
    if (ticks !== undefined) return undefined; // that very process is alive: it holds the lock, touched or not
  }
  // Liveness is known only by pid: the time rule too, for a pid reused by another process.
  return age > STALE_MS ? `its owner, ${who}, had not touched it for ${seconds(age)}` : undefined;
}

/** Who holds the lock, for the refusal a second writer gets. */
function describeHolder(holder: Exclude<Holder, { kind: 'gone' }>): string {
  if (holder.kind === 'directory') return `a lock directory of an earlier version of moai-session, touched ${seconds(Date.now() - holder.mtimeMs)} ago`;
  if (holder.kind === 'unreadable') return `its lock file is being written (${holder.why})`;
  const { owner } = holder;
  if (owner.host === hostname() && sameNamespace(owner)) return `pid ${owner.pid} on this host, since ${owner.since}`;
  if (owner.host === hostname()) {
    return (
      `pid ${owner.pid} on this host ${namespaceOf(owner)}, since ${owner.since}, touched ${seconds(Date.now() - holder.mtimeMs)} ago; ` +
      `a lock from another PID namespace is taken over only once it has gone ${seconds(STALE_MS)} without a touch`
    );
  }
  return (
    `pid ${owner.pid} on host ${owner.host}, since ${owner.since}, touched ${seconds(Date.now() - holder.mtimeMs)} ago; ` +
    `a lock from another host is taken over only once it has gone ${seconds(STALE_MS)} without a touch`
  );
}

/**
 * Remove a stale lock, one process at a time: under the takeover mutex, and
 * only if the lock still holds what was judged stale. False when another
 * process is taking over (or took over) first.
 */
async function takeOver(dir: string, lockPath: string, judged: Exclude<Holder, { kind: 'gone' }>): Promise<boolean> {
  const mutexPath = join(dir, TAKEOVER_NAME);
  let mutex;
  try {
    mutex = await open(mutexPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new StorageError(`Cannot take over the stale writer lock of ${dir}: ${(error as Error).message}`, { cause: error });
    }
    await clearStaleMutex(mutexPath);
    await delay(RETRY_MS);
    return false;
  }
  try {
    await mutex.writeFile(JSON.stringify({ pid: process.pid, host: hostname() }));
    const now = await readHolder(lockPath);
    const same =
      (now.kind === 'owner' && judged.kind === 'owner' && now.owner.token === judged.owner.token) ||
      (now.kind !== 'owner' && now.kind !== 'gone' && now.kind === judged.kind && now.mtimeMs === judged.mtimeMs);
    if (!same) return false;
    if (now.kind === 'directory') {
      await rm(lockPath, { recursive: true, force: true });
      await rm(join(dir, 'writer.json'), { force: true }); // its owner file, beside it
    } else {
      await unlink(lockPath).catch(() => undefined);
    }
    return true;
  } finally {
    await mutex.close();
    await unlink(mutexPath).catch(() => undefined);
  }
}

/** A takeover mutex left by a process that died taking over is removed (its owner gone, or too old). */
async function clearStaleMutex(mutexPath: string): Promise<void> {
  try {
    const info = await stat(mutexPath);
    const text = await readFile(mutexPath, 'utf8').catch(() => '');
    let dead = false;
    try {
      const value = JSON.parse(text) as { pid?: number; host?: string };
      dead = value.host === hostname() && typeof value.pid === 'number' && !isAlive(value.pid);
    } catch {
      // being written, or left empty by a crash: the time rule decides
    }
    if (dead || Date.now() - info.mtimeMs > TAKEOVER_STALE_MS) await unlink(mutexPath);
  } catch {
    // gone already
  }
}

/** The lock, held: touched and checked every `refreshMs`; lost when its file is no longer ours. */
function holdLock(lockPath: string, owner: LockOwner, tookOver: string | undefined, options: WriterLockOptions): WriterLock {
  let released = false;
  let checking: Promise<void> = Promise.resolve();
  const check = async (): Promise<void> => {
    const now = new Date();
    try {
      await utimes(lockPath, now, now);
      const holder = await readHolder(lockPath);
      if (holder.kind === 'owner' && holder.owner.token === owner.token) return;
      throw new Error(holder.kind === 'owner' ? `pid ${holder.owner.pid} on ${holder.owner.host} took it over` : 'its lock file was removed or replaced');
    } catch (error) {
      if (released) return;
      clearInterval(timer);
      options.onCompromised(error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT' ? new Error('its lock file was removed') : (error as Error));
    }
  };
  const timer = setInterval(() => {
    checking = checking.then(check);
  }, options.refreshMs ?? REFRESH_MS);
  timer.unref();
  return {
    tookOver,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await checking;
      const holder = await readHolder(lockPath);
      if (holder.kind === 'owner' && holder.owner.token === owner.token) await unlink(lockPath).catch(() => undefined);
    },
  };
}

/** True when a process with this pid exists (one we may not signal exists too). */
function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the owner's pid is one of this process's PID namespace (both unknown counts as the same: no namespaces there). */
function sameNamespace(owner: LockOwner): boolean {
  return owner.pidNamespace === ownPidNamespace();
}

/** Where the owner's pid lives, said for a namespace other than ours. */
function namespaceOf(owner: LockOwner): string {
  return owner.pidNamespace === undefined ? '(its PID namespace not recorded)' : `in another PID namespace (${owner.pidNamespace})`;
}

let pidNamespaceCache: string | null | undefined;
/** This process's PID namespace (Linux); undefined where there is none to read. */
function ownPidNamespace(): string | undefined {
  if (pidNamespaceCache === undefined) {
    try {
      pidNamespaceCache = readlinkSync('/proc/self/ns/pid');
    } catch {
      pidNamespaceCache = null;
    }
  }
  return pidNamespaceCache ?? undefined;
}

let bootIdCache: string | null | undefined;
function readBootId(): string | undefined {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache ?? undefined;
}

/** The start time of a process, in clock ticks since boot (Linux); undefined elsewhere or when it is gone. */
function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (in parentheses, which may hold spaces): state is field 3, start time field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
