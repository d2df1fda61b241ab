/**
 * A faster `MaxPoolGrad` for the TensorFlow.js wasm backend (the built-in one takes a large share of a
 * small CNN's training step). The gradient of max pooling routes each output gradient to the position of
 * its window's maximum:
 *
 *   dx[n, h, w, c] = Σ_{(i, j) : argmax of window (i, j) is (h, w)} dy[n, i, j, c]
 *
 * where the argmax is the first maximum in row-major window order (`x > best`), exactly as the cpu
 * backend chooses it, which matters after a ReLU (windows of equal zeros). One pass over the windows in
 * JavaScript on the wasm heap.
 *
 * @module
 */
import { backend_util } from "@tensorflow/tfjs-core";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { asWasmBackend, f32 } from "./wasm-backend.js";
import { expectShape } from "./conv-info.js";

const NAME = "MaxPoolGrad";

/**
 * The kernel function: inputs `{dy, input, output}` (the pooled `output` is not needed), attrs
 * `{filterSize, strides, pad, dimRoundingMode}` as TensorFlow.js's max-pool gradient passes them; returns
 * `dx` of `input`'s shape. float32 NHWC only.
 */
export const maxPoolGradWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = asWasmBackend(backend, NAME);
  const { dy, input } = inputs as { dy?: TensorInfo; input?: TensorInfo };
  if (!dy || !input) throw new Error(`${NAME}: inputs 'dy' and 'input' are required`);
  for (const [name, t] of [
    ["dy", dy],
    ["input", input],
  ] as const) {
    if (t.dtype !== "float32") throw new Error(`${NAME}: input '${name}' must be float32, got ${t.dtype}`);
    if (t.shape.length !== 4)
      throw new Error(`${NAME}: input '${name}' must be rank 4, got shape [${t.shape.join(", ")}]`);
  }
  const a = attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: "valid" | "same" | number | backend_util.ExplicitPadding;
    dimRoundingMode?: "floor" | "round" | "ceil";
  };
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    a.filterSize,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: HO, outWidth: WO } = info;
  const { strideHeight: SH, strideWidth: SW, filterHeight: FH, filterWidth: FW } = info;
  const PT = info.padInfo.top;
  const PL = info.padInfo.left;
  expectShape(NAME, "dy", dy.shape, [N, HO, WO, C]);

  const dx = b.makeOutput([N, H, W, C], "float32");
  const xv = f32(b, input);
  const dyv = f32(b, dy);
  const dxv = f32(b, dx);
  dxv.fill(0);
  if (FH === 2 && FW === 2 && SH === 2 && SW === 2 && PT === 0 && PL === 0 && 2 * HO <= H && 2 * WO <= W) {
    pool2x2Grad(xv, dyv, dxv, N, H, W, C, HO, WO);
    return dx;
  }
  for (let n = 0; n < N; n++) {
    const xn = n * H * W * C;
    for (let i = 0; i < HO; i++) {
      const r0 = Math.max(0, i * SH - PT);
      const r1 = Math.min(H, i * SH - PT + FH);
      for (let j = 0; j < WO; j++) {
        const c0 = Math.max(0, j * SW - PL);
        const c1 = Math.min(W, j * SW - PL + FW);
        const o = ((n * HO + i) * WO + j) * C;
        for (let c = 0; c < C; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = r0; r < r1; r++) {
            let k = xn + (r * W + c0) * C + c;
            for (let s = c0; s < c1; s++, k += C) {
              const v = xv[k]!;
              if (v > best) {
                best = v;
                at = k;
              }
            }
          }
          // An all-NaN (or empty) window routes its gradient nowhere, as on cpu.
          if (at >= 0) dxv[at] = dxv[at]! + dyv[o + c]!;
        }
      }
    }
  }
  return dx;
};

/**
 * The common case — 2×2 windows, stride 2, no padding, every window inside the input — unrolled: the same
 * first-maximum rule (`x > best` in row-major window order, starting from −∞, so an all-NaN window routes
 * nothing) as the general loop, without its per-window bounds and inner loops. `dxv` must be zeroed.
 */
function pool2x2Grad(
  xv: Float32Array,
  dyv: Float32Array,
  dxv: Float32Array,
  N: number,
  H: number,
  W: number,
  C: number,
  HO: number,
  WO: number,
): void {
  const row = W * C;
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < HO; i++) {
      let k0 = (n * H + 2 * i) * row;
      let o = (n * HO + i) * WO * C;
      for (let j = 0; j < WO; j++, k0 += 2 * C) {
        for (let c = 0; c < C; c++, o++) {
          const a = k0 + c;
          const b = a + C;
          const d = a + row;
          const e = d + C;
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          const va = xv[a]!;
          if (va > best) {
            best = va;
            at = a;
          }
          const vb = xv[b]!;
          if (vb > best) {
            best = vb;
            at = b;
          }
          const vd = xv[d]!;
          if (vd > best) {
            best = vd;
            at = d;
          }
          if (xv[e]! > best) at = e;
          if (at >= 0) dxv[at] = dxv[at]! + dyv[o]!;
        }
      }
    }
  }
}
