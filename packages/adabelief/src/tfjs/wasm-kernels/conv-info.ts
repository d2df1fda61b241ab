/**
 * Geometry of a 2-D convolution for the wasm training kernels, computed by TensorFlow.js's own
 * `backend_util.computeConv2DInfo` (so `'same'`, `'valid'`, a number and explicit paddings, and
 * `dimRoundingMode`, mean exactly what they mean in the forward `Conv2D`), plus validation of what these
 * kernels support: float32, NHWC, dilation 1.
 *
 * @module
 */
import { backend_util } from "@tensorflow/tfjs-core";
import type { TensorInfo } from "@tensorflow/tfjs-core";

/** The attributes TensorFlow.js passes to `Conv2DBackpropFilter` / `Conv2DBackpropInput`. */
export interface ConvBackpropAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | backend_util.ExplicitPadding;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** The numbers the kernels use, all in NHWC order. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * Computes the geometry of the forward convolution `x[inShape] * filter[filterShape] -> y`, rejecting (with
 * an error naming `kernelName` and the value) NCHW data, non-float32 tensors and malformed shapes.
 */
export function convGeometry(
  kernelName: string,
  inShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvBackpropAttrs,
  tensors: Record<string, TensorInfo>,
): ConvGeometry {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== "float32")
      throw new Error(`${kernelName}: input '${name}' must be float32, got ${t.dtype}`);
    if (t.shape.length !== 4) {
      throw new Error(`${kernelName}: input '${name}' must be rank 4, got shape [${t.shape.join(", ")}]`);
    }
  }
  const format = attrs.dataFormat ?? "NHWC";
  if (format !== "NHWC") {
    throw new Error(`${kernelName}: dataFormat must be 'NHWC' on the wasm backend, got '${String(format)}'`);
  }
  if (inShape.length !== 4 || filterShape.length !== 4) {
    throw new Error(
      `${kernelName}: input shape [${inShape.join(", ")}] and filter shape [${filterShape.join(", ")}] must be rank 4`,
    );
  }
  const info = backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** Throws unless `actual` equals `expected`, naming the kernel, the tensor and both shapes. */
export function expectShape(
  kernelName: string,
  name: string,
  actual: readonly number[],
  expected: number[],
): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(
      `${kernelName}: '${name}' has shape [${actual.join(", ")}], expected [${expected.join(", ")}]`,
    );
  }
}
