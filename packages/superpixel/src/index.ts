/**
 * `@disco/superpixel`: DISCO's soft superpixels (Xia et al. 2022, §3.1) — 9-neighbour pool and diffuse
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
export {
  SpixNet,
  SPIXNET_DEFAULTS,
  SPIXNET_PRESETS,
  resolveSpixNetConfig,
  type SpixNetConfig,
  type SpixNetPreset,
} from './spixnet.js';
export {
  stage1Loss,
  pixelCoordinates,
  STAGE1_LOSS_DEFAULTS,
  resolveStage1LossOptions,
  type Stage1Loss,
  type Stage1LossOptions,
} from './stage1_loss.js';
export {
  trainSpixNet,
  spixnetLearningRate,
  createSpixNetOptimizer,
  saveOptimizerState,
  loadOptimizerState,
  replayAdamBetaPowers,
  TRAIN_SPIXNET_DEFAULTS,
  resolveTrainSpixNetOptions,
  type TrainSpixNetOptions,
  type TrainSpixNetHooks,
  type TrainSpixNetResult,
  type TrainStepInfo,
  type Stage1Batch,
  type OptimizerState,
} from './train.js';
export { reconstructionError, gridAssociation, drawBoundaries } from './quality.js';
