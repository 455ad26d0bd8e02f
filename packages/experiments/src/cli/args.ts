/**
 * Argument helpers shared by the experiments commands: paths resolve against the folder the user
 * invoked the command from (Nx runs targets inside the package folder). Integer options use
 * `intArg` of `@disco/runtime/node`.
 */
import * as path from 'node:path';

const invokedFrom = process.env['INIT_CWD'] ?? process.cwd();

/** `p` resolved against the caller's folder (`INIT_CWD` under npm/Nx, else the working folder). */
export function resolveFromCaller(p: string): string {
  return path.resolve(invokedFrom, p);
}

