/** Shared argument checks of the options resolvers. */

/** Throws unless every key of `partial` is one of `allowed`. */
export function rejectUnknownKeys(fn: string, partial: object, allowed: readonly string[]): void {
  for (const key of Object.keys(partial)) {
    if (!allowed.includes(key)) {
      throw new Error(`${fn}: unknown option '${key}'; valid options: ${allowed.join(', ')}`);
    }
  }
}

/** Throws unless `value` is an integer in [lo, hi]. */
export function checkInt(fn: string, name: string, value: unknown, lo: number, hi = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    const range = hi === Number.MAX_SAFE_INTEGER ? `an integer >= ${lo}` : `an integer in [${lo}, ${hi}]`;
    throw new Error(`${fn}: ${name} must be ${range}, got ${String(value)}`);
  }
}

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(fn: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${fn}: ${name} must be a finite number >= 0, got ${String(value)}`);
  }
}

/** Throws unless `value` is one of `choices`. */
export function checkChoice<T>(fn: string, name: string, value: unknown, choices: readonly T[]): void {
  if (!choices.includes(value as T)) {
    throw new Error(`${fn}: ${name} must be one of ${choices.map((c) => String(c)).join(', ')}, got ${String(value)}`);
  }
}
