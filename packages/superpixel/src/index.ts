/**
 * `@disco/superpixel` (work in progress).
 *
 * @packageDocumentation
 */
/** Package version. */
export const VERSION = '0.1.0';
