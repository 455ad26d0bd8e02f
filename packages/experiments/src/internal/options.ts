/** Helpers for the options pattern: unknown-key rejection and range checks with one-line errors. */

/** Throws if `partial` has a key that `defaults` lacks. */
export function rejectUnknownKeys(fn: string, partial: object, defaults: object): void {
  for (const key of Object.keys(partial)) {
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      throw new Error(`${fn}: unknown option '${key}'; valid: ${Object.keys(defaults).join(', ')}`);
    }
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(fn: string, name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${fn}: ${name} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? 'inf' : max}], got ${value}`);
  }
}

/** Throws unless `value` is one of `valid`. */
export function checkOneOf<T extends string>(fn: string, name: string, value: T, valid: readonly T[]): void {
  if (!valid.includes(value)) throw new Error(`${fn}: ${name} must be one of ${valid.join(', ')}, got '${value}'`);
}

export { mulberry32 } from '@disco/random';
