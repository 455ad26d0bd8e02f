/**
 * `@disco/superpixel`: DISCO's soft superpixels (design.md §3) — 9-neighbour pool and diffuse
 * ops, their hard variant, label maps and boundaries, SPixNet and its stage-1 training.
 *
 * @packageDocumentation
 */
export { pool, type PoolResult } from './pool.js';
export { diffuse } from './diffuse.js';
export { hardAssociation } from './hard_association.js';
export { superpixelSizes } from './superpixel_sizes.js';
export { labelMap } from './label_map.js';
export { boundaries } from './boundaries.js';
