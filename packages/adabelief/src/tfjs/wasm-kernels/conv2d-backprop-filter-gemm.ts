/**
 * The filter gradient of a 2-D convolution as chunked matrix products on the TensorFlow.js wasm backend
 * (the arithmetic in the backend's own XNNPACK `BatchMatMul`, SIMD):
 *
 *   dW[(r, s, ci), co] = Σ_p A[(r, s, ci), p] · dy[p, co],   A[(r, s, ci), (n, i, j)] = xpad[n, i·sh + r, j·sw + s, ci]
 *
 * where `p = (n, i, j)` runs over the output positions (`A` is the transposed im2col matrix, `fh·fw·ci` rows).
 * `Conv2DBackpropFilter` uses it for layers with few input channels (see `GEMM_MAX_TAPS` in
 * `conv2d-backprop-filter.ts`): for a first layer of 1 input channel at 28×28, batch 128, it takes 7 ms
 * instead of the dilated convolution's 14 ms (16 filters) and 13 ms instead of 37 ms (32 filters), measured
 * here on a quiet moment of this machine.
 *
 * The batch is cut into chunks of about {@link TARGET_ROWS} output positions and the chunks' products are
 * summed: one product over the whole batch has an inner dimension of `n·ho·wo` (100,352 for 128 images of
 * 28×28), too long for XNNPACK's packed panels to stay in cache (measured for the product alone at
 * `[288 × P]·[P × 32]`: 5.7 GMAC/s in one piece, 11–14 GMAC/s in chunks of 2–8 images; for the few rows of
 * a first layer the chunk size makes no measurable difference). `A` is built per chunk from a channel-major
 * copy of the chunk's images, so that its rows are contiguous runs of `wo` pixels (strided by `sw`).
 *
 * @module
 */
import type { NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { callWasmKernel, f32, type WasmBackendLike } from "./wasm-backend.js";
import type { ConvGeometry } from "./conv-info.js";

/** Output positions (rows of `dy`) per chunk: the inner dimension of each matrix product. */
export const TARGET_ROWS = 4096;

const NO_TRANSPOSE = { transposeA: false, transposeB: false } as unknown as NamedAttrMap;

/**
 * Computes `dW` (`[fh, fw, ci, co]`, returned, owned by the caller) from `x` (`[n, h, w, ci]`) and `dy`
 * (`[n, ho, wo, co]`), both float32 on the wasm heap, for the convolution geometry `g` (already validated
 * by `convGeometry`, `dy`'s shape checked). Frees its temporaries, also when it throws.
 *
 * @param targetRows - output positions per chunk (rounded to whole images, at least one); default
 *   {@link TARGET_ROWS}.
 */
export function filterGradientGemm(
  b: WasmBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
  targetRows = TARGET_ROWS,
): TensorInfo {
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outChannels: CO } = g;
  const { outHeight: HO, outWidth: WO, filterHeight: FH, filterWidth: FW } = g;
  const { strideHeight: SH, strideWidth: SW, padTop: PT, padLeft: PL } = g;
  const K = FH * FW * C;
  const HW = H * W;
  const OHW = HO * WO;
  const chunk = Math.max(1, Math.min(N, Math.round(targetRows / OHW)));
  const out = b.makeOutput([FH, FW, C, CO], "float32");
  const temps: TensorInfo[] = [];
  try {
    f32(b, out).fill(0);
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const nb = Math.min(chunk, N - n0);
      const P = nb * OHW;
      const xc = b.makeOutput([C, nb, H, W], "float32");
      temps.push(xc);
      const a = b.makeOutput([K, P], "float32");
      temps.push(a);
      const dyc = b.makeOutput([P, CO], "float32");
      temps.push(dyc);
      {
        const xv = f32(b, x);
        const xcv = f32(b, xc);
        const av = f32(b, a);
        const dycv = f32(b, dyc);
        // The chunk's images, channel-major: xc[ci, n, h, w] = x[n0 + n, h, w, ci].
        const plane = nb * HW;
        if (C === 1) {
          xcv.set(xv.subarray(n0 * HW, (n0 + nb) * HW));
        } else {
          for (let n = 0; n < nb; n++) {
            let src = (n0 + n) * HW * C;
            const dst0 = n * HW;
            for (let hw = 0; hw < HW; hw++, src += C) {
              for (let c = 0; c < C; c++) xcv[c * plane + dst0 + hw] = xv[src + c]!;
            }
          }
        }
        // A[(r, s, ci), (n, i, j)]: for each row, runs of wo pixels (strided by sw), zeros in the padding.
        for (let r = 0; r < FH; r++) {
          for (let s = 0; s < FW; s++) {
            // Output columns j whose input column j·sw + s − pl lies inside the image.
            const jLo = Math.min(WO, Math.max(0, Math.ceil((PL - s) / SW)));
            const jHi = Math.max(jLo, Math.min(WO, Math.floor((W - 1 + PL - s) / SW) + 1));
            for (let ci = 0; ci < C; ci++) {
              let dst = ((r * FW + s) * C + ci) * P;
              const srcC = ci * plane;
              for (let n = 0; n < nb; n++) {
                const srcN = srcC + n * HW;
                for (let i = 0; i < HO; i++, dst += WO) {
                  const h = i * SH + r - PT;
                  if (h < 0 || h >= H) {
                    av.fill(0, dst, dst + WO);
                    continue;
                  }
                  for (let j = 0; j < jLo; j++) av[dst + j] = 0;
                  let src = srcN + h * W + jLo * SW + s - PL;
                  if (SW === 1) {
                    for (let j = jLo; j < jHi; j++, src++) av[dst + j] = xcv[src]!;
                  } else {
                    for (let j = jLo; j < jHi; j++, src += SW) av[dst + j] = xcv[src]!;
                  }
                  for (let j = jHi; j < WO; j++) av[dst + j] = 0;
                }
              }
            }
          }
        }
        dycv.set(f32(b, dy).subarray(n0 * OHW * CO, (n0 + nb) * OHW * CO));
      }
      const prod = callWasmKernel(b, "BatchMatMul", { a, b: dyc }, NO_TRANSPOSE);
      temps.push(prod);
      const pv = f32(b, prod);
      const ov = f32(b, out);
      for (let k = 0; k < K * CO; k++) ov[k] = ov[k]! + pv[k]!;
      for (const t of temps.splice(0)) b.disposeData(t.dataId);
    }
    return out;
  } catch (e) {
    b.disposeData(out.dataId);
    throw e;
  } finally {
    for (const t of temps) b.disposeData(t.dataId);
  }
}
