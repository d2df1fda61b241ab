/**
 * Seeded Gaussian noise for the "noisy gradients" mode: the same seed always gives the same sequence, in any
 * browser and in Node, so a shared URL reproduces the same run.
 */

/** A source of standard normal numbers N(0, 1). */
export type GaussianSource = () => number;

/**
 * A deterministic standard-normal generator: uniform numbers from mulberry32 (a 32-bit state generator),
 * turned into normals by the Box–Muller transform (both values of each pair are used).
 *
 * @param seed - any integer; it is reduced to 32 bits (`seed >>> 0`).
 */
export function gaussian(seed: number): GaussianSource {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const phi = 2 * Math.PI * uniform();
    spare = r * Math.sin(phi);
    return r * Math.cos(phi);
  };
}
