#!/usr/bin/python3
"""Reference learning rates of PyTorch's OneCycleLR and ReduceLROnPlateau, for adabelief's schedule tests.

Run (from the repository root, with the Debian torch, not a pyenv python):

    /usr/bin/python3 scripts/schedules-reference.py

It writes packages/adabelief/test/fixtures/schedules/torch-schedules.json, which
packages/adabelief/test/core/schedules-torch.test.ts replays against `oneCycle` and `ReduceLROnPlateau`.
Needs torch (recorded with Debian bookworm's python3-torch 1.13.1+dfsg-4, `torch.__version__` 1.13.0a0) and
nothing else; it is deterministic (no random numbers) and runs in about a second.

What is recorded:

* OneCycleLR (`cycle_momentum=False`: momentum cycling is out of scope of `oneCycle`): for each case,
  `lrs[k]` is `scheduler.get_last_lr()[0]` after k calls of `scheduler.step()`, k = 0 … total_steps − 1, in
  the usual loop `optimizer.step(); scheduler.step()` — so `lrs[k]` is the rate update k + 1 used, which
  `oneCycle(...)(k)` must give. `after_total` is the rate after total_steps calls (PyTorch extrapolates the
  last phase there; no update uses it; `oneCycle` holds the last update's rate instead).
* ReduceLROnPlateau: for each case, the metric sequence fed to `scheduler.step(metric)` once per epoch and,
  after each call, the optimizer's lr and the scheduler's `best`, `num_bad_epochs` and `cooldown_counter`
  (`best` is null while it is still ±inf).
"""

import json
import math
import os
import platform
import sys

import torch

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..", "packages", "adabelief", "test", "fixtures", "schedules", "torch-schedules.json",
)


def sgd(lr):
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    return torch.optim.SGD([param], lr=lr, momentum=0.9)


ONE_CYCLE_SETS = [
    # name, options (camelCase, as oneCycle takes them)
    ("defaults T=100", dict(maxLr=0.1, totalSteps=100)),
    ("T=37 pct=0.25 div=10 final=100", dict(maxLr=1e-3, totalSteps=37, pctStart=0.25, divFactor=10.0, finalDivFactor=100.0)),
    ("T=10 pct=0.45 div=5 final=1e3", dict(maxLr=0.5, totalSteps=10, pctStart=0.45, divFactor=5.0, finalDivFactor=1e3)),
    ("T=1000 pct=0.1", dict(maxLr=3e-4, totalSteps=1000, pctStart=0.1)),
    ("T=3 pct=0.2 (first phase ends before step 0)", dict(maxLr=0.2, totalSteps=3, pctStart=0.2)),
    ("T=1", dict(maxLr=0.01, totalSteps=1)),
]


def one_cycle_case(name, options, strategy, three_phase):
    opt = sgd(1.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=options["maxLr"],
        total_steps=options["totalSteps"],
        pct_start=options.get("pctStart", 0.3),
        anneal_strategy=strategy,
        cycle_momentum=False,
        div_factor=options.get("divFactor", 25.0),
        final_div_factor=options.get("finalDivFactor", 1e4),
        three_phase=three_phase,
    )
    lrs = []
    for _ in range(options["totalSteps"]):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    after_total = sched.get_last_lr()[0]
    return {
        "name": f"{name} {strategy}{' three-phase' if three_phase else ''}",
        "options": {**options, "annealStrategy": strategy, "threePhase": three_phase},
        "lrs": lrs,
        "after_total": after_total,
    }


def metrics_decaying(n):
    """A validation loss that falls, flattens and wobbles (deterministic)."""
    return [1.0 / (1.0 + e / 4.0) + 0.02 * math.sin(1.7 * e) + 0.1 * (e > 30) for e in range(n)]


def metrics_accuracy(n):
    """An accuracy that rises, saturates and wobbles."""
    return [0.9 * (1.0 - math.exp(-e / 6.0)) + 0.01 * math.cos(2.3 * e) for e in range(n)]


def metrics_negative(n):
    """A negative metric (e.g. a log-likelihood to minimise): PyTorch's relative test scales best by its sign."""
    return [-1.0 - 0.5 * (1.0 - math.exp(-e / 5.0)) + 0.0004 * math.sin(3.1 * e) for e in range(n)]


PLATEAU_CASES = [
    # name, initial lr, options (camelCase), metrics
    ("defaults", 0.1, dict(), metrics_decaying(80)),
    ("min abs threshold=0.01 patience=2 factor=0.5", 0.1,
     dict(thresholdMode="abs", threshold=0.01, patience=2, factor=0.5), metrics_decaying(60)),
    ("min rel patience=1 factor=0.5 cooldown=3 minLr=0.01", 0.1,
     dict(patience=1, factor=0.5, cooldown=3, minLr=0.01), metrics_decaying(60)),
    ("max rel threshold=0.01 patience=2 factor=0.2", 1.0,
     dict(mode="max", threshold=0.01, patience=2, factor=0.2), metrics_accuracy(60)),
    ("max abs threshold=0.05 patience=0 cooldown=2 minLr=1e-3 factor=0.3", 0.5,
     dict(mode="max", thresholdMode="abs", threshold=0.05, patience=0, cooldown=2, minLr=1e-3, factor=0.3),
     metrics_accuracy(40)),
    ("eps stops tiny reductions", 1e-7, dict(patience=0, factor=0.5, eps=1e-8), metrics_decaying(40)),
    ("negative metric, min rel", 0.01, dict(patience=2, factor=0.5, threshold=1e-3), metrics_negative(50)),
]

SNAKE = {"thresholdMode": "threshold_mode", "minLr": "min_lr"}


def plateau_case(name, initial, options, metrics):
    opt = sgd(initial)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **{SNAKE.get(k, k): v for k, v in options.items()})
    epochs = []
    for metric in metrics:
        opt.step()
        sched.step(metric)
        best = sched.best
        epochs.append(
            {
                "lr": opt.param_groups[0]["lr"],
                "best": None if math.isinf(best) else best,
                "num_bad_epochs": sched.num_bad_epochs,
                "cooldown_counter": sched.cooldown_counter,
            }
        )
    return {"name": name, "options": {"initial": initial, **options}, "metrics": metrics, "epochs": epochs}


def main():
    torch.set_num_threads(1)
    one_cycle = [
        one_cycle_case(name, options, strategy, three_phase)
        for name, options in ONE_CYCLE_SETS
        for strategy in ("cos", "linear")
        for three_phase in (False, True)
        # PyTorch divides by zero when pct_start·total_steps = 1, and threePhase needs pct_start <= 0.5.
        if not (three_phase and options.get("pctStart", 0.3) > 0.5)
    ]
    plateau = [plateau_case(*case) for case in PLATEAU_CASES]
    data = {
        "generator": {
            "script": "scripts/schedules-reference.py",
            "torch_version": torch.__version__,
            "torch_distribution": "Debian bookworm python3-torch 1.13.1+dfsg-4",
            "python_version": platform.python_version(),
            "float_repr": "Python repr (shortest round-trip), so every double reads back exactly",
        },
        "one_cycle": one_cycle,
        "reduce_on_plateau": plateau,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(one_cycle)} OneCycleLR and {len(plateau)} ReduceLROnPlateau cases",
          file=sys.stderr)


if __name__ == "__main__":
    main()
