/**
 * Argument parsers of the project's command lines (commander `argParser`s): one message format,
 * `<flag> must be an integer ≥ <min>; got '<value>'`, for `disco`, `spixnet` and `disco-experiments`.
 */
import { InvalidArgumentError } from 'commander';

/**
 * A parser for an integer option of at least `min`.
 *
 * @example
 * ```ts
 * program.option('--steps <n>', 'optimisation steps', intArg('--steps', 1), 2000);
 * ```
 */
export function intArg(name: string, min: number): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}; got '${v}'`);
    return n;
  };
}

/**
 * A parser for a positive finite number.
 *
 * @example
 * ```ts
 * program.option('--lr <rate>', 'learning rate', positiveArg('--lr'), 2e-4);
 * ```
 */
export function positiveArg(name: string): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number; got '${v}'`);
    return n;
  };
}
