/**
 * Argument helpers shared by the experiments commands: paths resolve against the folder the user
 * invoked the command from (Nx runs targets inside the package folder), integer options validate.
 */
import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';

const invokedFrom = process.env['INIT_CWD'] ?? process.cwd();

/** `p` resolved against the caller's folder (`INIT_CWD` under npm/Nx, else the working folder). */
export function resolveFromCaller(p: string): string {
  return path.resolve(invokedFrom, p);
}

/** A commander parser for an integer option `name` of at least `min`. */
export function intOption(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}
