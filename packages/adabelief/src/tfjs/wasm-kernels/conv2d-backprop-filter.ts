/**
 * `Conv2DBackpropFilter` for the TensorFlow.js wasm backend, which has none (tfjs#8474: training a conv net
 * on wasm throws). The filter gradient
 *
 *   dW[r, s, ci, co] = Σ_{n,i,j} xpad[n, i·sh + r, j·sw + s, ci] · dy[n, i, j, co]
 *
 * is itself a convolution: with `X'[ci, h, w, n] = xpad[n, h, w, ci]` (channels as the batch, the batch as
 * the channels) and `F'[i, j, n, co] = dy[n, i, j, co]` (the output gradient as a filter, dilated by the
 * forward strides), `dW' = conv2d(X', F', stride 1, 'valid', dilation [sh, sw])` has shape
 * `[ci, fh, fw, co]`. So the arithmetic runs in the backend's own XNNPACK `Conv2D` (SIMD); this kernel only
 * rearranges memory (two transposes in, one small one out) in JavaScript on the wasm heap. Layers with few
 * input channels take the im2col + matrix-product path of `conv2d-backprop-filter-gemm.ts` instead (see
 * {@link GEMM_MAX_TAPS}).
 *
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { asWasmBackend, callWasmKernel, f32 } from "./wasm-backend.js";
import { convGeometry, expectShape, type ConvBackpropAttrs } from "./conv-info.js";
import { filterGradientGemm } from "./conv2d-backprop-filter-gemm.js";

const NAME = "Conv2DBackpropFilter";

/**
 * Largest `fh·fw·ci` (taps per output channel) for which the filter gradient runs as chunked matrix
 * products ({@link filterGradientGemm}) instead of the dilated convolution below: with few input channels
 * (a network's first layer, `ci` = 1 or 3) the dilated convolution has only `ci` images of `fh×fw` outputs
 * and is 2–3× slower than the matrix products (measured here at 28×28, batch 128: 1→16 channels 34 ms →
 * 12–17 ms; 1→32 channels 48–55 ms → 13–17 ms). From 16 input channels up both run at the same speed within
 * the noise of this shared machine, and the dilated convolution needs no im2col buffer.
 */
export const GEMM_MAX_TAPS = 36;

/** Elements of the batch transposed per inner block (keeps reads and writes within a few cache lines). */
const BLOCK = 16;

/**
 * The kernel function: inputs `{x: [n, h, w, ci], dy: [n, ho, wo, co]}`, attrs `{strides, pad,
 * dataFormat: 'NHWC', dimRoundingMode, filterShape: [fh, fw, ci, co]}` exactly as TensorFlow.js's conv2d
 * gradient passes them; returns `dW` of `filterShape`. Dilations are always 1 here (TensorFlow.js's
 * gradient asserts it).
 */
export const conv2dBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = asWasmBackend(backend, NAME);
  const { x, dy } = inputs as { x?: TensorInfo; dy?: TensorInfo };
  if (!x || !dy) throw new Error(`${NAME}: inputs 'x' and 'dy' are required`);
  const a = attrs as unknown as ConvBackpropAttrs & { filterShape: number[] };
  const g = convGeometry(NAME, x.shape, a.filterShape, a, { x, dy });
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outChannels: CO } = g;
  const { outHeight: HO, outWidth: WO, filterHeight: FH, filterWidth: FW } = g;
  const { strideHeight: SH, strideWidth: SW, padTop: PT, padLeft: PL } = g;
  expectShape(NAME, "dy", dy.shape, [N, HO, WO, CO]);
  if (FH * FW * C <= GEMM_MAX_TAPS) return filterGradientGemm(b, x, dy, g);

  // X' covers exactly the rows/columns the gradient reads: FH + (HO-1)·SH of them, starting at -PT.
  const HP = FH + (HO - 1) * SH;
  const WP = FW + (WO - 1) * SW;
  const xT = b.makeOutput([C, HP, WP, N], "float32");
  const dyT = b.makeOutput([HO, WO, N, CO], "float32");
  let result: TensorInfo | undefined;
  try {
    {
      const xv = f32(b, x);
      const dyv = f32(b, dy);
      const xTv = f32(b, xT);
      const dyTv = f32(b, dyT);
      const h0 = Math.max(0, PT);
      const h1 = Math.min(HP, H + PT);
      const w0 = Math.max(0, PL);
      const w1 = Math.min(WP, W + PL);
      if (h0 > 0 || w0 > 0 || h1 < HP || w1 < WP) xTv.fill(0);
      const planeT = HP * WP * N;
      for (let hp = h0; hp < h1; hp++) {
        const h = hp - PT;
        for (let wp = w0; wp < w1; wp++) {
          const srcHW = (h * W + wp - PL) * C;
          const dstHW = (hp * WP + wp) * N;
          for (let n0 = 0; n0 < N; n0 += BLOCK) {
            const n1 = Math.min(N, n0 + BLOCK);
            for (let c = 0; c < C; c++) {
              const dst = c * planeT + dstHW;
              let src = n0 * H * W * C + srcHW + c;
              for (let n = n0; n < n1; n++, src += H * W * C) xTv[dst + n] = xv[src]!;
            }
          }
        }
      }
      // dy [n, i, j, co] -> [i, j, n, co]: whole channel rows move.
      for (let n = 0; n < N; n++) {
        for (let ij = 0; ij < HO * WO; ij++) {
          const src = (n * HO * WO + ij) * CO;
          dyTv.set(dyv.subarray(src, src + CO), (ij * N + n) * CO);
        }
      }
    }
    const convAttrs = {
      strides: [1, 1],
      pad: "valid",
      dataFormat: "NHWC",
      dilations: [SH, SW],
      dimRoundingMode: undefined,
    } as unknown as NamedAttrMap;
    result = callWasmKernel(b, "Conv2D", { x: xT, filter: dyT }, convAttrs);
    const out = b.makeOutput([FH, FW, C, CO], "float32");
    const rv = f32(b, result);
    const ov = f32(b, out);
    // [ci, r, s, co] -> [r, s, ci, co]
    for (let c = 0; c < C; c++) {
      for (let rs = 0; rs < FH * FW; rs++) {
        const src = (c * FH * FW + rs) * CO;
        ov.set(rv.subarray(src, src + CO), (rs * C + c) * CO);
      }
    }
    return out;
  } finally {
    b.disposeData(xT.dataId);
    b.disposeData(dyT.dataId);
    if (result) b.disposeData(result.dataId);
  }
};
