/**
 * `@disco/runtime`: what every DISCO package needs at run time.
 *
 * - {@link selectBackend}: native TensorFlow if installed, else wasm, else cpu; in a browser
 *   webgpu, webgl, wasm, cpu.
 * - {@link registerTrainingKernels}: the wasm kernels backpropagation needs (fast conv gradients
 *   built from XNNPACK forward convolutions, segment sums for gather gradients) and a Conv2D
 *   gradient that supports dilation.
 *
 * Test helpers live in `@disco/runtime/testing`, Node-only CLI helpers in `@disco/runtime/node`.
 *
 * @packageDocumentation
 */
export {
  selectBackend,
  describeBackend,
  detectPlatform,
  BACKEND_CHOICES,
  BROWSER_BACKEND_CHOICES,
  NATIVE_PACKAGES,
  type BackendName,
  type BackendChoice,
  type BackendInfo,
  type BackendPlatform,
  type SelectBackendOptions,
  type WasmBinaryName,
  type WasmPaths,
} from './backend.js';
export { networkEngine, runNetwork, setNetworkEngine, type NetworkEngine } from './network_engine.js';
export { ruleStateDict, type RuleStateTensor, type StateTensor } from './rule_weights.js';
export { registerTrainingKernels, listTrainingKernels, type RegisteredKernel } from './training_kernels.js';
