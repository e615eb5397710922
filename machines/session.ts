import { setup } from 'xstate';

/** The states a session can be in. */
export const SESSION_STATES = ['active', 'handing_off', 'recovering', 'ended'] as const;

/** One of the session lifecycle states. */
export type SessionStatus = (typeof SESSION_STATES)[number];

/** The events the session lifecycle machine accepts. */
export const SESSION_EVENT_TYPES = [
  'REQUEST_HANDOFF',
  'ACCEPT_HANDOFF',
  'REJECT_HANDOFF',
  'START_RECOVERY',
  'COMPLETE_RECOVERY',
  'END',
] as const;

/** The name of a session lifecycle event. */
export type SessionEventType = (typeof SESSION_EVENT_TYPES)[number];

/** An event sent to the session lifecycle machine. */
export interface SessionMachineEvent {
  type: SessionEventType;
}

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
