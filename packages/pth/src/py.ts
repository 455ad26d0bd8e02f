/**
 * The Python values a checkpoint's pickle can hold that JavaScript has no exact match for, and the
 * one error type of the package.
 */

/**
 * A Python `dict` or `collections.OrderedDict` read from a pickle: a `Map` in insertion (file)
 * order whose keys are whatever Python used (`string`, `number`, `bigint`, `boolean`, `null`,
 * {@link PyTuple}), plus the class it was and the instance attributes a pickle `BUILD` set on it
 * (PyTorch stores a state dict's per-module versions as the OrderedDict attribute `_metadata`).
 *
 * @example
 * ```ts
 * const sd = new PyDict([['conv.weight', tensor]], 'collections.OrderedDict');
 * sd.attributes.set('_metadata', new PyDict([['', new PyDict([['version', 1]])]], 'collections.OrderedDict'));
 * sd.get('conv.weight'); // tensor
 * ```
 */
export class PyDict extends Map<unknown, unknown> {
  /** The Python class: `'dict'` or `'collections.OrderedDict'`. */
  pyClass: string;
  /** Instance attributes set by the pickle's `BUILD` (e.g. `_metadata`); empty for a plain dict. */
  attributes: Map<string, unknown>;

  /**
   * @param entries initial key/value pairs, in order.
   * @param pyClass the Python class name (default `'dict'`).
   */
  constructor(entries?: Iterable<readonly [unknown, unknown]> | null, pyClass = 'dict') {
    super(entries ?? undefined);
    this.pyClass = pyClass;
    this.attributes = new Map();
  }
}

/**
 * A Python tuple: an `Array` subclass, so code can tell `(0.9, 0.999)` from `[0.9, 0.999]` with
 * `instanceof PyTuple` and still index and iterate it like any array.
 *
 * @example
 * ```ts
 * const betas = PyTuple.from([0.9, 0.999]);
 * betas instanceof PyTuple; // true
 * betas[1];                  // 0.999
 * ```
 */
export class PyTuple extends Array<unknown> {}

/**
 * The error every reading and writing failure throws. Its message is one line,
 * `<source>: <what is wrong>`, where `<source>` is the name given in `options.source` (the file
 * path, usually).
 *
 * @example
 * ```ts
 * try {
 *   readPth(bytes, { source: 'model.pth' });
 * } catch (e) {
 *   if (e instanceof PthError) console.error(e.message); // "model.pth: not a PyTorch checkpoint (…)"
 * }
 * ```
 */
export class PthError extends Error {
  /** The name of the file (or other source) the error is about. */
  readonly source: string;

  /**
   * @param source the file name or other source named in the message.
   * @param problem what is wrong, one line; without it `source` is taken as the whole message.
   */
  constructor(source: string, problem?: string) {
    const line = (s: string): string => s.replace(/\s*\n\s*/g, ' ');
    super(problem === undefined ? line(source) : `${source}: ${line(problem)}`);
    this.name = 'PthError';
    this.source = problem === undefined ? '' : source;
  }
}
