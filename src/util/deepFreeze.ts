/** Freeze a plain JSON value and everything inside it, so it can be shared without copies. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    // for-in over a plain JSON object: no key array allocated, on the append hot path.
    for (const key in value) {
      const child = value[key];
      if (typeof child === 'object' && child !== null) deepFreeze(child);
    }
  }
  return value;
}
