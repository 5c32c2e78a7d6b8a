export type { CreateOnnxRuntimeOptions, CreateOnnxRuntimeReturnType } from './createOnnxRuntime.ts'
export { createOnnxRuntime, ONNX_LIMITS } from './createOnnxRuntime.ts'
export type { EncodeOnnxModelOptions, OnnxAttribute, OnnxGraph, OnnxInitializer, OnnxNode, OnnxValueInfo } from './encodeOnnxModel.ts'
export { encodeOnnxModel } from './encodeOnnxModel.ts'
