/**
 * A faster `Conv2DBackpropInput` for the TensorFlow.js wasm backend. The built-in one is a plain
 * (non-XNNPACK) loop; this one expresses the input gradient as a forward convolution and runs it in the
 * backend's own XNNPACK `Conv2D`:
 *
 *   dx[n, h, w, ci] = Σ_{r', s', co} D[n, h + r', w + s', co] · W'[r', s', co, ci]
 *
 * where `W'[r', s', co, ci] = W[fh-1-r', fw-1-s', ci, co]` (the filter rotated by 180° with its channel axes
 * swapped) and `D` is `dy` dilated by the strides (`D[n, i·sh + fh-1-pt, j·sw + fw-1-pl] = dy[n, i, j]`,
 * zero elsewhere). With stride 1 and non-negative paddings, `D` is just `dy` with explicit padding, which
 * XNNPACK applies itself; otherwise `D` is built on the heap.
 *
 * @module
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs-core";
import { asWasmBackend, callWasmKernel, f32 } from "./wasm-backend.js";
import { convGeometry, expectShape, type ConvBackpropAttrs } from "./conv-info.js";

const NAME = "Conv2DBackpropInput";

/**
 * The kernel function: inputs `{dy: [n, ho, wo, co], filter: [fh, fw, ci, co]}`, attrs `{strides, pad,
 * dataFormat: 'NHWC', dimRoundingMode, inputShape: [n, h, w, ci]}` exactly as TensorFlow.js's conv2d
 * gradient (and `conv2dTranspose`) pass them; returns `dx` of `inputShape`.
 */
export const conv2dBackpropInputWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = asWasmBackend(backend, NAME);
  const { dy, filter } = inputs as { dy?: TensorInfo; filter?: TensorInfo };
  if (!dy || !filter) throw new Error(`${NAME}: inputs 'dy' and 'filter' are required`);
  const a = attrs as unknown as ConvBackpropAttrs & { inputShape: number[] };
  const g = convGeometry(NAME, a.inputShape, filter.shape, a, { dy, filter });
  const { batch: N, inHeight: H, inWidth: W, inChannels: C, outChannels: CO } = g;
  const { outHeight: HO, outWidth: WO, filterHeight: FH, filterWidth: FW } = g;
  const { strideHeight: SH, strideWidth: SW, padTop: PT, padLeft: PL } = g;
  expectShape(NAME, "dy", dy.shape, [N, HO, WO, CO]);

  const top = FH - 1 - PT;
  const left = FW - 1 - PL;
  const bottom = H - 1 + PT - (HO - 1) * SH;
  const right = W - 1 + PL - (WO - 1) * SW;
  const direct = SH === 1 && SW === 1 && top >= 0 && left >= 0 && bottom >= 0 && right >= 0;

  const rotated = b.makeOutput([FH, FW, CO, C], "float32");
  const padded = direct ? undefined : b.makeOutput([N, H + FH - 1, W + FW - 1, CO], "float32");
  let result: TensorInfo | undefined;
  try {
    {
      const fv = f32(b, filter);
      const rv = f32(b, rotated);
      for (let r = 0; r < FH; r++) {
        for (let s = 0; s < FW; s++) {
          const src = (r * FW + s) * C * CO;
          const dst = ((FH - 1 - r) * FW + (FW - 1 - s)) * CO * C;
          for (let ci = 0; ci < C; ci++) {
            for (let co = 0; co < CO; co++) rv[dst + co * C + ci] = fv[src + ci * CO + co]!;
          }
        }
      }
      if (padded) {
        const dyv = f32(b, dy);
        const pv = f32(b, padded);
        pv.fill(0);
        const HPD = H + FH - 1;
        const WPD = W + FW - 1;
        for (let n = 0; n < N; n++) {
          for (let i = 0; i < HO; i++) {
            const row = i * SH + top;
            if (row < 0 || row >= HPD) continue;
            for (let j = 0; j < WO; j++) {
              const col = j * SW + left;
              if (col < 0 || col >= WPD) continue;
              const src = ((n * HO + i) * WO + j) * CO;
              pv.set(dyv.subarray(src, src + CO), ((n * HPD + row) * WPD + col) * CO);
            }
          }
        }
      }
    }
    const pad = direct
      ? [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ]
      : "valid";
    const convAttrs = {
      strides: [1, 1],
      pad,
      dataFormat: "NHWC",
      dilations: [1, 1],
      dimRoundingMode: undefined,
    } as unknown as NamedAttrMap;
    result = callWasmKernel(b, "Conv2D", { x: padded ?? dy, filter: rotated }, convAttrs);
    expectShape(NAME, "result", result.shape, [N, H, W, C]);
    const out = result;
    result = undefined;
    return out;
  } finally {
    b.disposeData(rotated.dataId);
    if (padded) b.disposeData(padded.dataId);
    if (result) b.disposeData(result.dataId);
  }
};
