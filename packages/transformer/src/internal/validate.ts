/** Helpers for the `resolveXOptions` functions: copy, reject unknown keys, check ranges. */

/** Throws unless every key of `partial` is a key of `defaults`. */
export function rejectUnknownKeys(fn: string, partial: object, defaults: object): void {
  const valid = Object.keys(defaults);
  for (const key of Object.keys(partial)) {
    if (!valid.includes(key)) throw new Error(`${fn}: unknown option '${key}'; valid: ${valid.join(', ')}`);
  }
}

/** Throws unless `value` is an integer in `[min, max]`. */
export function checkInt(fn: string, name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new Error(`${fn}: ${name} must be ${range} (got ${String(value)})`);
  }
  return value;
}

/** Throws unless `value` is a finite number in `[min, max]` (or `[min, max)` when `maxOpen`). */
export function checkNumber(fn: string, name: string, value: unknown, min: number, max: number, maxOpen = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && (maxOpen ? value < max : value <= max);
  if (!ok) throw new Error(`${fn}: ${name} must be a number in [${min}, ${max}${maxOpen ? ')' : ']'} (got ${String(value)})`);
  return value as number;
}

/** Throws unless `value` is one of `choices`. */
export function checkChoice<T extends string>(fn: string, name: string, value: unknown, choices: readonly T[]): T {
  if (!(choices as readonly unknown[]).includes(value)) {
    throw new Error(`${fn}: ${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')} (got ${String(value)})`);
  }
  return value as T;
}

/** Throws unless `value` is null or an integer seed `>= 0`. */
export function checkSeed(fn: string, value: unknown): number | null {
  if (value === null) return null;
  return checkInt(fn, 'seed', value, 0, 0xffffffff);
}
