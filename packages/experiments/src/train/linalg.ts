/**
 * Small dense linear algebra in double precision, for the Fréchet distance: the eigendecomposition of a
 * symmetric matrix (Householder tridiagonalisation and implicit QL), and the square root of a symmetric
 * positive semi-definite matrix. Matrices are row-major `Float64Array`s of `n × n`. Plain TypeScript, fast
 * enough for the hundreds of Fréchet distances of a bootstrap at a few hundred dimensions.
 *
 * @module
 */

/** Eigenvalues (ascending) and eigenvectors (column `j` of `vectors` belongs to `values[j]`). */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array;
}

function checkSquare(name: string, a: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name}: n must be a positive integer, got ${n}`);
  if (a.length !== n * n)
    throw new RangeError(`${name}: matrix has ${a.length} entries, expected n·n = ${n * n}`);
}

/** Options of {@link symmetricEigen}. */
export interface SymmetricEigenOptions {
  /** Compute the eigenvectors (default `true`); without them `vectors` is empty and the call is ~4× faster. */
  vectors?: boolean;
}

/**
 * Eigendecomposition of the symmetric `n × n` matrix `a` (only symmetry up to rounding is assumed: the
 * matrix is symmetrised as (A + Aᵀ)/2 first): Householder reduction to tridiagonal form, then the implicit
 * QL algorithm with Wilkinson-style shifts (the classic `tred2`/`tql2` pair of EISPACK, as in JAMA).
 * O(n³) with a small constant: a 128 × 128 matrix takes a few milliseconds. `a` is not modified.
 *
 * @throws RangeError when `n` or the size of `a` is wrong, or an entry is not finite.
 */
export function symmetricEigen(
  a: Float64Array,
  n: number,
  options: SymmetricEigenOptions = {},
): SymmetricEigen {
  checkSquare("symmetricEigen", a, n);
  const wantVectors = options.vectors ?? true;
  // v: row-major working matrix, ends as the eigenvectors (column j ↔ d[j]).
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      if (!Number.isFinite(x)) throw new RangeError(`symmetricEigen: matrix entry (${i}, ${j}) is ${x}`);
      v[i * n + j] = x;
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(v, d, e, n);
  tridiagonalQl(v, d, e, n, wantVectors);
  const order = [...Array(n).keys()].sort((i, j) => d[i]! - d[j]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(wantVectors ? n * n : 0);
  order.forEach((src, dst) => {
    values[dst] = d[src]!;
    if (wantVectors) for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src]!;
  });
  return { values, vectors };
}

/** Householder reduction of the symmetric matrix in `v` to tridiagonal form (diagonal `d`, sub-diagonal `e`); `v` becomes the accumulated orthogonal transformation. */
function tridiagonalize(v: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = v[(n - 1) * n + j]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = v[(i - 1) * n + j]!;
        v[i * n + j] = 0;
        v[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        v[j * n + i] = f;
        g = e[j]! + v[j * n + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += v[k * n + j]! * d[k]!;
          e[k] = e[k]! + v[k * n + j]! * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k <= i - 1; k++) v[k * n + j] = v[k * n + j]! - (f * e[k]! + g * d[k]!);
        d[j] = v[(i - 1) * n + j]!;
        v[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    v[(n - 1) * n + i] = v[i * n + i]!;
    v[i * n + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = v[k * n + i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += v[k * n + i + 1]! * v[k * n + j]!;
        for (let k = 0; k <= i; k++) v[k * n + j] = v[k * n + j]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) v[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = v[(n - 1) * n + j]!;
    v[(n - 1) * n + j] = 0;
  }
  v[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL iterations on the tridiagonal (`d`, `e`), rotating the columns of `v` when `vectors`. */
function tridiagonalQl(v: Float64Array, d: Float64Array, e: Float64Array, n: number, vectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 100) throw new Error("symmetricEigen: the QL iteration did not converge");
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (vectors) {
            for (let k = 0; k < n; k++) {
              const vk1 = v[k * n + i + 1]!;
              const vk = v[k * n + i]!;
              v[k * n + i + 1] = s * vk + c * vk1;
              v[k * n + i] = c * vk - s * vk1;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/**
 * The symmetric square root of a symmetric positive semi-definite matrix: V·diag(√λ)·Vᵀ. Eigenvalues
 * within rounding of zero (|λ| ≤ n·ε·max|λ|, ε = 2⁻⁵²), including those rounding made slightly negative,
 * are treated as 0 (the square root would turn a rounding error of 1e-16 into 1e-8).
 */
export function sqrtPsd(a: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  const out = new Float64Array(n * n);
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  const tiny = n * 2 ** -52 * largest;
  for (let k = 0; k < n; k++) {
    const r = values[k]! > tiny ? Math.sqrt(values[k]!) : 0;
    if (r === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = vectors[i * n + k]! * r;
      if (vik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] = out[i * n + j]! + vik * vectors[j * n + k]!;
    }
  }
  return out;
}

/** Product of two `n × n` matrices. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  checkSquare("matMul", a, n);
  checkSquare("matMul", b, n);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] = out[i * n + j]! + aik * b[k * n + j]!;
    }
  }
  return out;
}
