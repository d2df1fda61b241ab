/**
 * Stands in for `@tensorflow/tfjs-backend-webgpu` when it is not installed (it is not a dependency): the
 * page then has no WebGPU backend and the WebGPU checks report it.
 */
export const installed = false;
