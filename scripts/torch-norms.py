#!/usr/bin/python3
"""torch's 2-norm of float32 and float64 vectors, for the library's torchNormFloat32 / torchNormFloat64.

Writes packages/adabelief/test/fixtures/torch-norms/torch-norms.json, read by
packages/adabelief/test/core/fromage.test.ts. Fromage (the AdaBelief paper's Fromage.py) divides by
p.grad.norm() and p.norm(); torch computes them in the tensor's dtype with fused multiply-adds in a fixed order
(float32: eight accumulators, see src/core/optimizers/fromage.ts), which decides whether a tiny or huge gradient
gives a norm of 0, a finite norm or +Infinity. The library must reproduce every value here bit for bit.

HOW TO RUN (Debian's torch 1.13 is installed for /usr/bin/python3 only)
  /usr/bin/python3 scripts/torch-norms.py [--out PATH] [--seed 20201019]
The output is a pure function of the seed and of torch's CPU kernels (recorded: torch 1.13.1+dfsg, the AVX2
kernels; another CPU capability may sum in another order).

CASES (per dtype): lengths 1-40 with mixed magnitudes (normal x 2^U(-20, 20)), lengths 1-20 tiny (1e-25..1e-18:
squares subnormal or 0 in float32) and huge (1e17..1e21: squares overflow float32), lengths 1-8
subnormal (3e-23..3e-20: float32 squares subnormal, the norm loses bits) and tinier (1e-30..1e-23: float32
norm 0), 2-D shapes of 12-40 elements, and lengths 63, 64, 65, 100, 257, 1000.

FORMAT: { generator: {...}, cases: [{ dtype, shape, kind, x (row-major, Python repr of the double equal to each
element), norm (a number, or "Infinity") }] }
"""

import argparse
import json
import math
import random

import torch


def vector(rng, n, kind):
    if kind == "wide":
        return [rng.gauss(0, 1) * 2.0 ** rng.uniform(-20, 20) for _ in range(n)]
    if kind == "tiny":
        return [rng.gauss(0, 1) * 10.0 ** rng.uniform(-25, -18) for _ in range(n)]
    if kind == "subnormal":
        return [rng.gauss(0, 1) * 10.0 ** rng.uniform(-22.5, -19.5) for _ in range(n)]
    if kind == "tinier":
        return [rng.gauss(0, 1) * 10.0 ** rng.uniform(-30, -23) for _ in range(n)]
    if kind == "huge":
        return [rng.gauss(0, 1) * 10.0 ** rng.uniform(17, 21) for _ in range(n)]
    raise ValueError(kind)


def number(x):
    return x if math.isfinite(x) else ("Infinity" if x > 0 else "-Infinity" if x < 0 else "NaN")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="packages/adabelief/test/fixtures/torch-norms/torch-norms.json")
    ap.add_argument("--seed", type=int, default=20201019)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    plan = [((n,), "wide") for n in range(1, 41)]
    plan += [((n,), kind) for kind in ("tiny", "huge") for n in range(1, 21)]
    plan += [((n,), kind) for kind in ("subnormal", "tinier") for n in range(1, 9)]
    plan += [((r, c), "wide") for r, c in ((3, 4), (4, 3), (2, 9), (5, 5), (3, 11), (7, 5), (8, 5), (4, 10))]
    plan += [((n,), "wide") for n in (63, 64, 65, 100, 257, 1000)]
    cases = []
    for dtype, name in ((torch.float32, "float32"), (torch.float64, "float64")):
        for shape, kind in plan:
            t = torch.tensor(vector(rng, math.prod(shape), kind), dtype=dtype).reshape(shape)
            cases.append({
                "dtype": name,
                "shape": list(shape),
                "kind": kind,
                "x": t.reshape(-1).tolist(),
                "norm": number(float(t.norm())),
            })
    capability = [l.strip().lstrip("- ") for l in torch.__config__.show().splitlines() if "CPU capability" in l]
    out = {
        "generator": {
            "command": "/usr/bin/python3 scripts/torch-norms.py",
            "seed": args.seed,
            "torch": torch.__version__,
            "cpu": capability[0] if capability else "",
        },
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
