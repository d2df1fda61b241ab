/**
 * The Fréchet distance between two Gaussians fitted to feature vectors — the formula behind the Inception
 * "FID", applied here to the penultimate-layer features of our own Fashion-MNIST classifier (so its numbers
 * are not comparable with published FIDs):
 *
 *   d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·(Σ₁Σ₂)^{1/2}).
 *
 * Tr((Σ₁Σ₂)^{1/2}) is computed as Tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}) (the two matrices are similar, so they
 * share eigenvalues), which needs only symmetric eigendecompositions.
 *
 * @module
 */
import { matMul, sqrtPsd, symmetricEigen } from "./linalg.js";

/** Mean and covariance of a set of feature vectors. */
export interface GaussianStats {
  /** Dimension. */
  dim: number;
  /** Mean, length `dim`. */
  mean: Float64Array;
  /** Covariance (unbiased, divisor count − 1), row-major `dim × dim`. */
  cov: Float64Array;
}

/** Mean and unbiased covariance of `count` row vectors of length `dim` stored one after another in `features`. */
export function gaussianStats(features: ArrayLike<number>, count: number, dim: number): GaussianStats {
  if (!Number.isInteger(dim) || dim < 1)
    throw new RangeError(`gaussianStats: dim must be a positive integer, got ${dim}`);
  if (!Number.isInteger(count) || count < 2)
    throw new RangeError(`gaussianStats: count must be an integer ≥ 2, got ${count}`);
  if (features.length !== count * dim) {
    throw new RangeError(
      `gaussianStats: features has ${features.length} values, expected count·dim = ${count * dim}`,
    );
  }
  const mean = new Float64Array(dim);
  for (let r = 0; r < count; r++) for (let j = 0; j < dim; j++) mean[j] = mean[j]! + features[r * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j] = mean[j]! / count;
  const cov = new Float64Array(dim * dim);
  const d = new Float64Array(dim);
  for (let r = 0; r < count; r++) {
    for (let j = 0; j < dim; j++) d[j] = features[r * dim + j]! - mean[j]!;
    for (let i = 0; i < dim; i++) {
      const di = d[i]!;
      if (di === 0) continue;
      for (let j = i; j < dim; j++) cov[i * dim + j] = cov[i * dim + j]! + di * d[j]!;
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      const v = cov[i * dim + j]! / (count - 1);
      cov[i * dim + j] = v;
      cov[j * dim + i] = v;
    }
  }
  return { dim, mean, cov };
}

/**
 * Fréchet distance (the squared form d² above, as FID reports it) between two Gaussians of equal dimension.
 * Never negative (rounding below zero is clamped to 0).
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dim !== b.dim) throw new RangeError(`frechetDistance: dimensions differ (${a.dim} vs ${b.dim})`);
  const n = a.dim;
  let meanTerm = 0;
  for (let i = 0; i < n; i++) meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a.cov[i * n + i]! + b.cov[i * n + i]!;
  const root = sqrtPsd(a.cov, n);
  const inner = matMul(matMul(root, b.cov, n), root, n);
  const { values } = symmetricEigen(inner, n);
  let traceSqrt = 0;
  for (const v of values) traceSqrt += Math.sqrt(Math.max(v, 0));
  return Math.max(0, meanTerm + trace - 2 * traceSqrt);
}
