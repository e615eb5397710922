import { setup } from 'xstate';
import type { SessionMachineEvent } from './sessionNames.js';

export { SESSION_STATES, SESSION_EVENT_TYPES, type SessionStatus, type SessionEventType, type SessionMachineEvent } from './sessionNames.js';

/**
 * The session lifecycle. A session is `active` from its start (or resume, or
 * fork); it is `handing_off` while a handoff waits for a receiver, and
 * `recovering` while a recovery runs. Only an `active` session can hand off or
 * recover, and it can end from any state but `ended`, which is final: a handoff
 * left open when a session ends is abandoned, and the log says so.
 */
export const sessionMachine = setup({
  types: {
    events: {} as SessionMachineEvent,
  },
}).createMachine({
  id: 'session',
  initial: 'active',
  states: {
    active: {
      on: {
        REQUEST_HANDOFF: 'handing_off',
        START_RECOVERY: 'recovering',
        END: 'ended',
      },
    },
    handing_off: {
      on: {
        ACCEPT_HANDOFF: 'active',
        REJECT_HANDOFF: 'active',
        END: 'ended',
      },
    },
    recovering: {
      on: { COMPLETE_RECOVERY: 'active', END: 'ended' },
    },
    ended: { type: 'final' },
  },
});

/** The type of the session lifecycle machine. */
export type SessionMachine = typeof sessionMachine;
