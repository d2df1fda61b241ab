/** Receives the warnings the core emits for legal but silently useless configurations. */
export type WarningHandler = (message: string) => void;

let handler: WarningHandler = (message) => console.warn(`[adabelief] ${message}`);

/**
 * Replaces the function that receives warnings (by default `console.warn` with an `[adabelief]` prefix)
 * and returns the previous one, so a caller can restore it. Pass `() => {}` to silence warnings.
 */
export function setWarningHandler(next: WarningHandler): WarningHandler {
  const previous = handler;
  handler = next;
  return previous;
}

/** Emits a warning through the current handler. */
export function warn(message: string): void {
  handler(message);
}

/**
 * Runs `fn` with the warnings it emits collected instead of delivered (the handler is restored afterwards,
 * also when `fn` throws), so the caller can deliver them once, or drop repeats.
 * @internal
 */
export function collectWarnings<T>(fn: () => T): { value: T; warnings: string[] } {
  const warnings: string[] = [];
  const previous = handler;
  handler = (message) => warnings.push(message);
  try {
    return { value: fn(), warnings };
  } finally {
    handler = previous;
  }
}
