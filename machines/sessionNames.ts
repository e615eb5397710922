// The names of the session lifecycle's states and events, without the machine.

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
