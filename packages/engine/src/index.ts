/** @excite/engine: ONNX graphs with gradients, their runtime, models, training and synthesis. */
export { Graph, Value, type Node } from './onnx/graph.ts';
export { GraphError } from './onnx/errors.ts';
export * from './onnx/ndarray.ts';
export * from './onnx/shape.ts';
export { appendBackward, type Backward, type BackwardSpec } from './onnx/autodiff.ts';
export { evaluate } from './onnx/evaluate.ts';
export { serialize, decodeModel, type SerializeOptions } from './onnx/serialize.ts';
export { gradcheck, type GradCase, type GradResult } from './onnx/gradcheck.ts';
export { GRAD_CASES, REQUIRED_GRADIENT_OPS } from './onnx/gradcheck-cases.ts';
export { registeredOps } from './onnx/ops/registry.ts';
export * as ops from './onnx/ops/index.ts';
export * as nn from './nn/index.ts';
export { type Device, DeviceError, deviceFromEnv, parseDevice } from './runtime/device.ts';
export { EngineSession, SessionCache, createSession, type SessionOptions } from './runtime/session.ts';
export { Rng } from './random.ts';
