/**
 * Contour lines of a 2-D function by marching squares, joined into polylines, for the toy trajectory plots.
 * Framework-free (no Node imports).
 *
 * @packageDocumentation
 */

/** One contour polyline at one level. */
export interface ContourLine {
  /** The level (function value) of the line. */
  level: number;
  /** Points along the line, in order. */
  points: [number, number][];
}

/** Options of {@link contourLines}. */
export interface ContourOptions {
  /** Grid points per axis (≥ 2). Default 80. */
  resolution?: number;
  /** Levels to draw. Default: {@link quantileLevels} of the grid values, 12 levels. */
  levels?: readonly number[];
}

/** `count` levels at evenly spaced quantiles (strictly inside 0 and 1) of `values`, duplicates removed. */
export function quantileLevels(values: readonly number[], count: number): number[] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const levels: number[] = [];
  for (let k = 1; k <= count; k++) {
    // Quantiles bunched towards the low end, where the minimum and the paths are.
    const q = (k / (count + 1)) ** 2;
    const v = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    if (levels.length === 0 || v > levels[levels.length - 1]!) levels.push(v);
  }
  return levels;
}

/**
 * Contour lines of `f` over the rectangle `[x0, x1] × [y0, y1]`.
 *
 * Marching squares on a `resolution × resolution` grid with linear interpolation along cell edges; saddle
 * cells are resolved by the value at the cell centre. Segments are chained into polylines through shared
 * cell edges.
 */
export function contourLines(
  f: (x: number, y: number) => number,
  domain: readonly [readonly [number, number], readonly [number, number]],
  options: ContourOptions = {},
): ContourLine[] {
  const n = options.resolution ?? 80;
  if (!Number.isInteger(n) || n < 2)
    throw new RangeError(`contourLines: resolution must be an integer ≥ 2, got ${n}`);
  const [[x0, x1], [y0, y1]] = domain;
  const xs = Array.from({ length: n }, (_, i) => x0 + ((x1 - x0) * i) / (n - 1));
  const ys = Array.from({ length: n }, (_, j) => y0 + ((y1 - y0) * j) / (n - 1));
  const v = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) v[j * n + i] = f(xs[i]!, ys[j]!);
  const levels = options.levels ?? quantileLevels(Array.from(v), 12);
  const at = (i: number, j: number): number => v[j * n + i]!;
  const lines: ContourLine[] = [];
  for (const level of levels) {
    // Edge ids: horizontal edge from (i, j) to (i+1, j) is 2·(j·n + i); vertical (i, j)–(i, j+1) is that + 1.
    const point = new Map<number, [number, number]>();
    const links = new Map<number, number[]>();
    const edgePoint = (id: number): [number, number] => {
      let p = point.get(id);
      if (!p) {
        const base = id >> 1;
        const i = base % n;
        const j = Math.floor(base / n);
        const a = at(i, j);
        if ((id & 1) === 0) {
          const t = (level - a) / (at(i + 1, j) - a);
          p = [xs[i]! + t * (xs[i + 1]! - xs[i]!), ys[j]!];
        } else {
          const t = (level - a) / (at(i, j + 1) - a);
          p = [xs[i]!, ys[j]! + t * (ys[j + 1]! - ys[j]!)];
        }
        point.set(id, p);
      }
      return p;
    };
    const link = (a: number, b: number): void => {
      edgePoint(a);
      edgePoint(b);
      (links.get(a) ?? links.set(a, []).get(a)!).push(b);
      (links.get(b) ?? links.set(b, []).get(b)!).push(a);
    };
    for (let j = 0; j < n - 1; j++) {
      for (let i = 0; i < n - 1; i++) {
        const c00 = at(i, j) > level;
        const c10 = at(i + 1, j) > level;
        const c11 = at(i + 1, j + 1) > level;
        const c01 = at(i, j + 1) > level;
        const bottom = 2 * (j * n + i);
        const top = 2 * ((j + 1) * n + i);
        const left = 2 * (j * n + i) + 1;
        const right = 2 * (j * n + i + 1) + 1;
        const crossed: number[] = [];
        if (c00 !== c10) crossed.push(bottom);
        if (c10 !== c11) crossed.push(right);
        if (c01 !== c11) crossed.push(top);
        if (c00 !== c01) crossed.push(left);
        if (crossed.length === 2) link(crossed[0]!, crossed[1]!);
        else if (crossed.length === 4) {
          const centreAbove = (at(i, j) + at(i + 1, j) + at(i + 1, j + 1) + at(i, j + 1)) / 4 > level;
          // The segments cut off the two corners whose state differs from the centre's.
          if (c00 !== centreAbove) {
            link(bottom, left);
            link(right, top);
          } else {
            link(bottom, right);
            link(left, top);
          }
        }
      }
    }
    // Chain: start at line ends (one link) first, then whatever remains (closed loops).
    const used = new Set<string>();
    const key = (a: number, b: number): string => (a < b ? `${a},${b}` : `${b},${a}`);
    const walk = (startId: number): void => {
      const ids = [startId];
      let prev = -1;
      let cur = startId;
      for (;;) {
        const next = (links.get(cur) ?? []).find((b) => b !== prev && !used.has(key(cur, b)));
        if (next === undefined) break;
        used.add(key(cur, next));
        ids.push(next);
        prev = cur;
        cur = next;
        if (cur === startId) break;
      }
      if (ids.length > 1) lines.push({ level, points: ids.map((id) => point.get(id)!) });
    };
    for (const [id, l] of links)
      if (l.length === 1 && !(links.get(id) ?? []).every((b) => used.has(key(id, b)))) walk(id);
    for (const [id, l] of links) if (l.some((b) => !used.has(key(id, b)))) walk(id);
  }
  return lines;
}
