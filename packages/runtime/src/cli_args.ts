/**
 * Argument parsers of the project's command lines (commander `argParser`s): one message format,
 * `<flag> must be an integer ≥ <min>; got '<value>'`, for `disco`, `spixnet` and `disco-experiments`.
 *
 * The errors carry commander's `commander.invalidArgument` code, which commander turns into its
 * usual one-line `error: option '…' argument '…' is invalid. …` message; this module does not
 * import commander itself.
 */

/** An invalid option value, in the shape commander reports as one line (`code`, `exitCode`). */
export class InvalidOptionValue extends Error {
  /** commander's code for an argument its parser rejected. */
  readonly code = 'commander.invalidArgument';
  /** Exit status of the command. */
  readonly exitCode = 1;
}

/** Largest seed the project's generator takes (its state is 32 bits). */
export const MAX_SEED = 0xffffffff;

/**
 * A parser for an integer option of at least `min` (and at most `max`, when given).
 *
 * @example
 * ```ts
 * program.option('--steps <n>', 'optimisation steps', intArg('--steps', 1), 2000);
 * program.option('--seed <n>', 'seed', intArg('--seed', 0, MAX_SEED), 0);
 * ```
 */
export function intArg(name: string, min: number, max?: number): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (max !== undefined && (v.trim() === '' || !Number.isInteger(n) || n < min || n > max)) throw new InvalidOptionValue(`${name} must be an integer from ${min} to ${max}; got '${v}'`);
    if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidOptionValue(`${name} must be an integer ≥ ${min}; got '${v}'`);
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
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidOptionValue(`${name} must be a positive number; got '${v}'`);
    return n;
  };
}

/**
 * A parser for a finite number of at least `min`.
 *
 * @example
 * ```ts
 * program.option('--anchor-rebalance <alpha>', 'rebalancing strength', numberArg('--anchor-rebalance', -1));
 * ```
 */
export function numberArg(name: string, min: number): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) throw new InvalidOptionValue(`${name} must be a number ≥ ${min}; got '${v}'`);
    return n;
  };
}

/**
 * A parser for a comma-separated list of finite numbers, each passing `ok`; `what` names the
 * allowed values in the message (`<flag> must be a comma-separated list of <what>; got '<value>'`).
 *
 * @example
 * ```ts
 * program.option('--anchor-rebalances <list>', 'α values', numberListArg('--anchor-rebalances', (a) => a >= -1, 'numbers ≥ −1'));
 * ```
 */
export function numberListArg(name: string, ok: (n: number) => boolean, what: string): (v: string) => number[] {
  return (v: string): number[] => {
    const ns = v.split(',').map(Number);
    if (ns.length === 0 || !ns.every((n) => Number.isFinite(n) && ok(n))) throw new InvalidOptionValue(`${name} must be a comma-separated list of ${what}; got '${v}'`);
    return ns;
  };
}
