import { describe, expect, it } from "vitest";
import { frechetDistance, gaussianStats, type GaussianStats } from "../src/train/frechet.js";
import { matMul, sqrtPsd, symmetricEigen } from "../src/train/linalg.js";
import { mulberry32, normals } from "../src/train/random.js";

function randomSpd(n: number, seed: number): Float64Array {
  const z = normals(n * n, mulberry32(seed));
  const b = Float64Array.from(z);
  const bt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) bt[i * n + j] = b[j * n + i]!;
  const a = matMul(b, bt, n);
  for (let i = 0; i < n; i++) a[i * n + i] = a[i * n + i]! + 0.1;
  return a;
}

function rotation2(theta: number): Float64Array {
  return Float64Array.from([Math.cos(theta), -Math.sin(theta), Math.sin(theta), Math.cos(theta)]);
}

function transpose(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[i * n + j] = a[j * n + i]!;
  return t;
}

function stats(mean: number[], cov: number[]): GaussianStats {
  return { dim: mean.length, mean: Float64Array.from(mean), cov: Float64Array.from(cov) };
}

describe("symmetricEigen", () => {
  it("finds the eigenvalues of [[2,1],[1,2]] and of a diagonal matrix", () => {
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(1, 12);
    expect(values[1]).toBeCloseTo(3, 12);
    expect(Math.abs(vectors[0]!)).toBeCloseTo(Math.SQRT1_2, 12);
    const d = symmetricEigen(Float64Array.from([5, 0, 0, 0, -1, 0, 0, 0, 2]), 3);
    expect(Array.from(d.values)).toEqual([-1, 2, 5]);
  });

  it("reconstructs a random 40×40 symmetric matrix with orthonormal eigenvectors", () => {
    const n = 40;
    const a = randomSpd(n, 11);
    const { values, vectors } = symmetricEigen(a, n);
    const vl = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vl[i * n + j] = vectors[i * n + j]! * values[j]!;
    const back = matMul(vl, transpose(vectors, n), n);
    const vtv = matMul(transpose(vectors, n), vectors, n);
    for (let i = 0; i < n * n; i++) {
      expect(Math.abs(back[i]! - a[i]!)).toBeLessThan(1e-9 * 40);
      expect(Math.abs(vtv[i]! - (i % (n + 1) === 0 ? 1 : 0))).toBeLessThan(1e-10);
    }
    for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
  });

  it("rejects a wrongly sized or non-finite matrix", () => {
    expect(() => symmetricEigen(new Float64Array(3), 2)).toThrow(/expected n·n = 4/);
    expect(() => symmetricEigen(Float64Array.from([1, NaN, NaN, 1]), 2)).toThrow(/NaN/);
  });
});

describe("sqrtPsd", () => {
  it("squares back to the matrix, and clamps rounding-negative eigenvalues", () => {
    const n = 12;
    const a = randomSpd(n, 5);
    const r = sqrtPsd(a, n);
    const rr = matMul(r, r, n);
    for (let i = 0; i < n * n; i++) expect(Math.abs(rr[i]! - a[i]!)).toBeLessThan(1e-9);
    const singular = sqrtPsd(Float64Array.from([1, 1, 1, 1 - 1e-17]), 2);
    expect(singular.every(Number.isFinite)).toBe(true);
    expect(singular[0]).toBeCloseTo(Math.SQRT1_2, 8);
  });
});

describe("frechetDistance", () => {
  it("is 0 for identical Gaussians", () => {
    const cov = randomSpd(16, 2);
    const s: GaussianStats = { dim: 16, mean: new Float64Array(16).fill(0.3), cov };
    expect(frechetDistance(s, s)).toBeLessThan(1e-8);
  });

  it("matches (μ₁−μ₂)² + (σ₁−σ₂)² in one dimension", () => {
    expect(frechetDistance(stats([1], [4]), stats([3], [9]))).toBeCloseTo(4 + 1, 12);
  });

  it("matches Σ(√a−√b)² for diagonal (and commonly rotated) covariances", () => {
    const a = [1, 4, 9];
    const b = [4, 1, 16];
    const expected = 1 + 1 + 1 + 0.25; // (1−2)² + (2−1)² + (3−4)², plus the mean term 0.5²
    const diag = (v: number[]) => [v[0]!, 0, 0, 0, v[1]!, 0, 0, 0, v[2]!];
    expect(frechetDistance(stats([0, 0, 0], diag(a)), stats([0.5, 0, 0], diag(b)))).toBeCloseTo(expected, 10);
    const r = rotation2(0.7);
    const rot = (v: number[]) =>
      matMul(matMul(r, Float64Array.from([v[0]!, 0, 0, v[1]!]), 2), transpose(r, 2), 2);
    const d = frechetDistance(
      { dim: 2, mean: new Float64Array(2), cov: rot([1, 4]) },
      { dim: 2, mean: new Float64Array(2), cov: rot([9, 16]) },
    );
    expect(d).toBeCloseTo((1 - 3) ** 2 + (2 - 4) ** 2, 10);
  });

  it("matches the closed form tr√(Σ₁Σ₂) = √(tr Σ₁Σ₂ + 2√(det Σ₁ det Σ₂)) for non-commuting 2×2 covariances", () => {
    const s1 = Float64Array.from([2, 0.5, 0.5, 1]);
    const s2 = Float64Array.from([1, -0.3, -0.3, 3]);
    const p = matMul(s1, s2, 2);
    const det = (m: Float64Array) => m[0]! * m[3]! - m[1]! * m[2]!;
    const trSqrt = Math.sqrt(p[0]! + p[3]! + 2 * Math.sqrt(det(s1) * det(s2)));
    const expected = 2 + 1 + 1 + 3 - 2 * trSqrt + 0.01 + 0.04;
    const got = frechetDistance(
      { dim: 2, mean: Float64Array.from([0.1, 0.2]), cov: s1 },
      { dim: 2, mean: Float64Array.from([0, 0]), cov: s2 },
    );
    expect(got).toBeCloseTo(expected, 10);
  });

  it("rejects mismatched dimensions", () => {
    expect(() => frechetDistance(stats([0], [1]), stats([0, 0], [1, 0, 0, 1]))).toThrow(/dimensions differ/);
  });
});

describe("gaussianStats", () => {
  it("computes the mean and the unbiased covariance", () => {
    const s = gaussianStats([1, 2, 3, 6, 5, 10], 3, 2); // rows (1,2), (3,6), (5,10)
    expect(Array.from(s.mean)).toEqual([3, 6]);
    expect(Array.from(s.cov)).toEqual([4, 8, 8, 16]);
    expect(() => gaussianStats([1, 2, 3], 1, 3)).toThrow(/count/);
    expect(() => gaussianStats([1, 2, 3], 2, 2)).toThrow(/expected count·dim = 4/);
  });
});
