#!/usr/bin/python3
"""Randomized differential fixture: random optimizer configurations replayed through the reference Python code.

Writes packages/adabelief/test/fixtures/random/random-cases.json, which
packages/adabelief/test/golden/random.test.ts replays with the library's core. Nobody tuned these cases to pass:
every configuration, starting point and gradient sequence comes from the seeded generator below.

WHAT IT RUNS (the same references as the golden fixtures; see packages/adabelief/test/fixtures/golden/README.md)
  adabelief    official adabelief_pytorch 0.2.1, AdaBelief.py
  sgd, adam, adamw, radam    torch.optim 1.13 (Debian bookworm python3-torch 1.13.1+dfsg-4), single-tensor paths
  yogi, msvag, fromage, radam_paper    the paper's CIFAR-10 optimizer files at commit affe9a2c48efa0ba710eeacc35eceeeee497d773
               (MSVAG.py in the version the paper ran, i.e. that commit, not the later c975ac8)
  adabound     adabound 0.0.5 (Luolc/AdaBound tag v0.0.5), adabound/adabound.py
Every file is checked against the sha256 the golden fixtures record; the script stops on a mismatch.

GETTING THE REFERENCE FILES (never commit them; any scratch directory, default /tmp/ref)
  Layout expected under --ref-dir:
    adabelief_pytorch/AdaBelief.py     (sha256 554e8cdb...e0a264c2)
    adabound/adabound.py               (sha256 95fac25c...6739f9e4)
    cifar/Yogi.py cifar/MSVAG.py cifar/Fromage.py cifar/RAdam.py cifar/Types.py
  From git (what produced the committed fixture):
    R=/tmp/ref; mkdir -p $R/cifar $R/adabelief_pytorch $R/adabound
    A=<clone of github.com/juntang-zhuang/Adabelief-Optimizer>
    for f in Yogi MSVAG Fromage RAdam Types; do
      git -C $A show affe9a2c48efa0ba710eeacc35eceeeee497d773:PyTorch_Experiments/classification_cifar10/optimizers/$f.py > $R/cifar/$f.py
    done
    git -C $A show 2855178eff6776762793f915ce2c615f776a1e4b:pypi_packages/adabelief_pytorch0.2.1/adabelief_pytorch/AdaBelief.py \
        > $R/adabelief_pytorch/AdaBelief.py
    B=<clone of github.com/Luolc/AdaBound>
    git -C $B show v0.0.5:adabound/adabound.py > $R/adabound/adabound.py
  Or from PyPI (any pip can download; the sha256 check tells whether the packaged file is the same one):
    pip download --no-deps -d /tmp/ref adabelief-pytorch==0.2.1 adabound==0.0.5
    then unpack each archive (unzip for a wheel, tar xzf for an sdist) so that the two .py files sit at the
    paths above; the cifar/ files exist only in the git repository.

HOW TO RUN (Debian's torch 1.13 is installed for /usr/bin/python3 only; use it explicitly)
  /usr/bin/python3 scripts/random-cases.py --ref-dir /tmp/ref
  options: --n 1200 (cases), --seed 20201019, --out PATH, --ref-dir DIR
  The output is a pure function of (--n, --seed) and the reference files: running it twice gives the same bytes.
  tabulate and colorama (imported by AdaBelief.py only to print its change log) are replaced by inert stubs when
  they are not installed; the script always passes print_change_log=False and swallows the constructor's prints.

WHAT A CASE IS
  One optimizer (drawn from a shuffled deck, so each appears N/10 times), random hyper-parameters over the whole
  range the reference accepts and the library accepts (edges included: beta1 = 0, beta2 = 0 and beta2 within
  1e-9 of 1, eps = 0, lr from 1e-6 to 10 and 0 where legal, weight decay 0 or random up to 10, every one of
  the 32 combinations of AdaBelief's five flags (dealt from a deck), every legal SGD momentum/dampening/nesterov
  combination, Adam/AdamW amsgrad, AdaBound amsbound/final_lr/gamma, ...), 1-4 tensors of 1-40 elements (some
  2-D), 1-30 steps, float32 or float64 (half each). Before every step each p.grad is set to a fresh tensor
  holding that step's stored gradient; then optimizer.step() runs (under torch.no_grad()). The gradient rows
  are drawn per step: normal with a per-tensor scale, tiny (|g| ~ 1e-32..1e-18: squares underflow or turn
  subnormal in float32), huge (~1e20: squares overflow float32), zeros, a repeat of the previous row, its sign
  flip, or a per-element mix of these. To keep the file small a case holds at most ~150 element-steps (long
  runs have few elements, short runs may have up to 4 x 40).
  Cases whose reference trajectory contains NaN or +-Infinity are kept and flagged ("nonfinite"): the test then
  requires the same non-finite pattern.

  "noise": the reference is run twice more with +-1 ulp of random noise added after every step to every
  nonzero finite parameter and state element (ulp of the dtype the code computes in). The largest deviation of
  those runs from the clean one, under the strict rule and under the relaxed (largest-value) rule, is how much
  last-bit rounding differences alone can move this trajectory: the test uses it to tell ill-conditioned
  cases from real disagreements.

  "reference_raises": configurations on the edge of the legal ranges that the reference rejects, in its
  constructor or at the first step (ZeroDivisionError), with the error. "library_stricter": configurations the
  reference accepts but the library rejects on purpose (documented validation), with what the reference does.

FILE FORMAT (JSON, numbers as Python repr = shortest round-trip text of the double; float32 values are written
as the double equal to them; NaN and infinities as the strings "NaN", "Infinity", "-Infinity")
  case: { id, optimizer, config (official keyword names), dtype, shapes, init (all tensors flattened,
          row-major, in order), grads, trajectory, nonfinite?, noise: [strict, relaxed],
          pow_not_correctly_rounded?: [[1|2 (beta1|beta2), t, CPython's beta ** t], ...] where glibc's pow
          (which CPython calls) is not the exactly rounded power }
  grads[k]: the flat gradient row of step k+1, or "=" (same as the previous row), "-" (the previous row
          negated, zeros becoming -0), 0 (all zeros).
  trajectory[k]: the flat parameters after step k+1, or "=" (unchanged from the previous row or the start).
"""

import argparse
import contextlib
import hashlib
import importlib
import importlib.util
import io
import json
import math
import os
import platform
import random
import sys
import types
import warnings
from fractions import Fraction

EXPECTED_SHA256 = {
    "adabelief_pytorch/AdaBelief.py": "554e8cdb0b86179a492ba528c5131bc7a30add248afa4103ad014af1e0a264c2",
    "adabound/adabound.py": "95fac25cc3ba104a7489efa6577f3d61ce05d084dd14382daf1425ed6739f9e4",
    "cifar/Yogi.py": "fcc73504e9624d4b93282feb7dcdf9218b4c150e742331a11c91cbf9eaea6d41",
    "cifar/MSVAG.py": "f40953bf620ea374f446d2a4b2020172290b7facbd2e8e75d90a9f67bcc7feac",
    "cifar/Fromage.py": "22ce9087d949c2ca3447b27b5861a72408e910a4a2dd2aae82aaac98f0ed0186",
    "cifar/RAdam.py": "86aae2fbff158991c2d606fc907120bfb3c6a0920913e48d011c8a900fa1ee2d",
    "cifar/Types.py": "7c7aade64aa138510caacfb63381ecfe2a32b58fa382ff0b97d117c058355ca8",
}
SOURCES = {
    "adabelief": "github.com/juntang-zhuang/Adabelief-Optimizer@2855178eff6776762793f915ce2c615f776a1e4b:"
    "pypi_packages/adabelief_pytorch0.2.1/adabelief_pytorch/AdaBelief.py (adabelief-pytorch 0.2.1)",
    "adabound": "github.com/Luolc/AdaBound@v0.0.5 (6fa826003f41a57501bde3e2baab1488410fe2da):adabound/adabound.py "
    "(adabound 0.0.5)",
    "cifar": "github.com/juntang-zhuang/Adabelief-Optimizer@affe9a2c48efa0ba710eeacc35eceeeee497d773:"
    "PyTorch_Experiments/classification_cifar10/optimizers/",
}
OPTIMIZERS = ["adabelief", "sgd", "adam", "adamw", "radam", "yogi", "adabound", "msvag", "fromage", "radam_paper"]
ELEMENT_STEP_BUDGET = 150
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "packages/adabelief/test/fixtures/random/random-cases.json")

import torch  # noqa: E402  (after the docstring on purpose: the import error should come with the doc above)


# ----------------------------------------------------------------------------------------------------------
# Reference code
# ----------------------------------------------------------------------------------------------------------


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def load_references(ref_dir):
    for rel, want in EXPECTED_SHA256.items():
        path = os.path.join(ref_dir, rel)
        if not os.path.exists(path):
            sys.exit(f"missing reference file {path}; see the top of this script for how to get it")
        got = sha256(path)
        if got != want:
            sys.exit(f"{path}: sha256 {got}, expected {want}; refusing to run on a different file")
    for name in ("tabulate", "colorama"):
        try:
            importlib.import_module(name)
        except ImportError:  # used only to print the change log, which we switch off
            stub = types.ModuleType(name)
            if name == "tabulate":
                stub.tabulate = lambda *a, **k: ""
            else:
                ns = types.SimpleNamespace(RED="", BLUE="", GREEN="", RESET_ALL="")
                stub.Fore, stub.Back, stub.Style = ns, ns, ns
            sys.modules[name] = stub

    def load(modname, path):
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        spec.loader.exec_module(mod)
        return mod

    # The cifar files import each other relatively (from .Types import ...): load them as a package.
    pkg = types.ModuleType("paper_optimizers")
    pkg.__path__ = [os.path.join(ref_dir, "cifar")]
    sys.modules["paper_optimizers"] = pkg
    return {
        "AdaBelief": load("ref_adabelief", os.path.join(ref_dir, "adabelief_pytorch/AdaBelief.py")).AdaBelief,
        "AdaBound": load("ref_adabound", os.path.join(ref_dir, "adabound/adabound.py")).AdaBound,
        "Yogi": importlib.import_module("paper_optimizers.Yogi").Yogi,
        "MSVAG": importlib.import_module("paper_optimizers.MSVAG").MSVAG,
        "Fromage": importlib.import_module("paper_optimizers.Fromage").Fromage,
        "RAdamPaper": importlib.import_module("paper_optimizers.RAdam").RAdam,
    }


def make_optimizer(refs, name, params, config):
    cls = {
        "adabelief": refs["AdaBelief"],
        "sgd": torch.optim.SGD,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "radam": torch.optim.RAdam,
        "yogi": refs["Yogi"],
        "adabound": refs["AdaBound"],
        "msvag": refs["MSVAG"],
        "fromage": refs["Fromage"],
        "radam_paper": refs["RAdamPaper"],
    }[name]
    kwargs = dict(config)
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    with contextlib.redirect_stdout(io.StringIO()):  # AdaBelief prints even with print_change_log=False
        return cls(params, **kwargs)


# ----------------------------------------------------------------------------------------------------------
# Random configurations
# ----------------------------------------------------------------------------------------------------------


def loguniform(rng, lo, hi):
    return 10.0 ** rng.uniform(math.log10(lo), math.log10(hi))


def sample_lr(rng, default, allow_zero):
    u = rng.random()
    if u < 0.03 and allow_zero:
        return 0.0
    if u < 0.06:
        return 1e-6
    if u < 0.09:
        return 10.0
    if u < 0.2:
        return default
    return loguniform(rng, 1e-6, 10.0)


def sample_beta1(rng):
    u = rng.random()
    if u < 0.12:
        return 0.0
    if u < 0.27:
        return 0.9
    if u < 0.45:
        return 1.0 - loguniform(rng, 1e-6, 0.1)
    return rng.random()  # [0, 1)


def sample_beta2(rng):
    u = rng.random()
    if u < 0.08:
        return 0.0
    if u < 0.25:
        return 0.999
    if u < 0.6:
        return 1.0 - loguniform(rng, 1e-9, 1e-2)
    return rng.random()


def sample_eps(rng, default):
    u = rng.random()
    if u < 0.15:
        return 0.0
    if u < 0.35:
        return default
    return loguniform(rng, 1e-20, 1e-1)


def sample_wd(rng):
    u = rng.random()
    if u < 0.5:
        return 0.0
    if u < 0.9:
        return loguniform(rng, 1e-6, 0.3)
    return loguniform(rng, 0.3, 10.0)


def sample_config(rng, name, plan):
    """Official keyword arguments, every numeric one spelled out. `plan` carries the flags dealt from decks."""
    betas = lambda: [sample_beta1(rng), sample_beta2(rng)]  # noqa: E731
    if name == "adabelief":
        decouple, fixed, rectify, amsgrad, sgd = plan
        return {
            "lr": sample_lr(rng, 1e-3, True),
            "betas": betas(),
            "eps": sample_eps(rng, 1e-16),
            "weight_decay": sample_wd(rng),
            "amsgrad": amsgrad,
            "weight_decouple": decouple,
            "fixed_decay": fixed,
            "rectify": rectify,
            "degenerated_to_sgd": sgd,
            "print_change_log": False,
        }
    if name == "sgd":
        with_momentum, with_dampening, nesterov = plan
        momentum = 0.0
        if with_momentum:
            u = rng.random()
            momentum = 0.9 if u < 0.25 else (1.0 - loguniform(rng, 1e-4, 0.1) if u < 0.5 else rng.uniform(1e-3, 1))
        dampening = 0.0
        if with_dampening:
            dampening = 1.0 if rng.random() < 0.15 else rng.random()
        return {
            "lr": sample_lr(rng, 1e-2, True),
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": sample_wd(rng),
            "nesterov": nesterov,
        }
    if name in ("adam", "adamw"):
        return {
            "lr": sample_lr(rng, 1e-3, True),
            "betas": betas(),
            "eps": sample_eps(rng, 1e-8),
            "weight_decay": sample_wd(rng),
            "amsgrad": plan,
        }
    if name == "radam":
        return {
            "lr": sample_lr(rng, 1e-3, True),
            "betas": betas(),
            "eps": sample_eps(rng, 1e-8),
            "weight_decay": sample_wd(rng),
        }
    if name == "radam_paper":
        return {
            "lr": sample_lr(rng, 1e-3, True),
            "betas": betas(),
            "eps": sample_eps(rng, 1e-8),
            "weight_decay": sample_wd(rng),
            "degenerated_to_sgd": plan,
        }
    if name == "yogi":
        u = rng.random()
        acc = 1e-6 if u < 0.25 else (0.0 if u < 0.4 else loguniform(rng, 1e-10, 1.0))
        return {
            "lr": sample_lr(rng, 1e-2, False),  # Yogi rejects lr = 0
            "betas": betas(),
            "eps": sample_eps(rng, 1e-3),
            "initial_accumulator": acc,
            "weight_decay": sample_wd(rng),
        }
    if name == "adabound":
        u = rng.random()
        final_lr = 0.1 if u < 0.25 else (0.0 if u < 0.3 else loguniform(rng, 1e-4, 10.0))
        u = rng.random()
        gamma = 1e-3 if u < 0.25 else (1.0 - loguniform(rng, 1e-6, 1e-2) if u < 0.32 else loguniform(rng, 1e-6, 0.9))
        return {
            "lr": sample_lr(rng, 1e-3, False),  # lr = 0 divides by base_lr = 0 at step 1 (see reference_raises)
            "betas": betas(),
            "final_lr": final_lr,
            "gamma": gamma,  # gamma = 0 divides by zero at step 1 (see reference_raises)
            "eps": sample_eps(rng, 1e-8),
            "weight_decay": sample_wd(rng),
            "amsbound": plan,
        }
    if name == "msvag":
        return {
            "lr": sample_lr(rng, 1e-3, True),
            "betas": betas(),
            "eps": sample_eps(rng, 1e-8),  # unused by the reference
            "weight_decay": sample_wd(rng),
            "amsgrad": plan,  # unused by the reference
        }
    if name == "fromage":
        return {"lr": sample_lr(rng, 1e-2, True)}
    raise ValueError(name)


def plan_decks(master):
    """Flag combinations dealt from shuffled decks, so that every combination occurs."""
    bools = [False, True]
    combos = {
        "adabelief": [(a, b, c, d, e) for a in bools for b in bools for c in bools for d in bools for e in bools],
        # (momentum > 0, dampening > 0, nesterov): nesterov needs momentum > 0 and dampening 0 (torch raises
        # otherwise; those go to reference_raises).
        "sgd": [(False, False, False), (False, True, False), (True, False, False), (True, True, False), (True, False, True)],
        "adam": bools,
        "adamw": bools,
        "adabound": bools,
        "msvag": bools,
        "radam_paper": bools,
    }
    decks = {k: [] for k in combos}

    def deal(name):
        if name not in combos:
            return None
        if not decks[name]:
            decks[name] = list(combos[name])
            master.shuffle(decks[name])
        return decks[name].pop()

    return deal


def sample_shapes(rng, steps):
    budget = max(3, ELEMENT_STEP_BUDGET // steps)
    n = rng.randint(1, 4)
    cap = max(1, min(40, budget // n))
    shapes = []
    for _ in range(n):
        size = rng.randint(1, cap)
        if size >= 4 and rng.random() < 0.35:
            divisors = [d for d in range(2, size) if size % d == 0]
            if divisors:
                r = rng.choice(divisors)
                shapes.append([r, size // r])
                continue
        shapes.append([size])
    return shapes


def sample_steps(rng):
    u = rng.random()
    if u < 0.25:
        return rng.randint(1, 5)
    if u < 0.7:
        return rng.randint(6, 20)
    return rng.randint(21, 30)


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def to_dtype(values, dtype):
    """Rounds Python floats to the dtype (torch's round-to-nearest-even conversion)."""
    return torch.tensor(values, dtype=torch.float64).to(dtype).tolist()


def sample_init(rng, shapes, dtype):
    out = []
    for shape in shapes:
        scale = loguniform(rng, 1e-2, 10.0)
        for _ in range(numel(shape)):
            u = rng.random()
            if u < 0.75:
                out.append(rng.gauss(0.0, 1.0) * scale)
            elif u < 0.85:
                out.append(0.0)
            elif u < 0.9:
                out.append(rng.gauss(0.0, 1.0) * loguniform(rng, 1e-32, 1e-18))
            elif u < 0.95:
                out.append(rng.choice([-1.0, 1.0]) * loguniform(rng, 1e3, 1e8))
            else:
                out.append(rng.choice([-1.0, 1.0]))
    return to_dtype(out, dtype)


GRAD_KINDS = [("normal", 0.55), ("repeat", 0.12), ("flip", 0.07), ("zero", 0.07), ("tiny", 0.06), ("huge", 0.04), ("mixed", 0.09)]


def pick(rng, table):
    u = rng.random()
    acc = 0.0
    for kind, p in table:
        acc += p
        if u < acc:
            return kind
    return table[-1][0]


def sample_grads(rng, shapes, steps, dtype):
    """Returns (rows, encoded): the flat gradient of every step, and its compact encoding for the file."""
    scales = []
    for shape in shapes:
        scales += [loguniform(rng, 1e-4, 1e2)] * numel(shape)
    n = len(scales)
    rows, encoded = [], []
    prev = None
    for _ in range(steps):
        kind = pick(rng, GRAD_KINDS)
        if prev is None and kind in ("repeat", "flip"):
            kind = "normal"
        if kind == "repeat":
            rows.append(list(prev))
            encoded.append("=")
        elif kind == "flip":
            rows.append([-x for x in prev])
            encoded.append("-")
        elif kind == "zero":
            rows.append([0.0] * n)
            encoded.append(0)
        else:
            row = []
            for i in range(n):
                k = kind
                if kind == "mixed":
                    k = pick(rng, [("zero", 0.25), ("normal", 0.45), ("tiny", 0.15), ("huge", 0.05), ("same", 0.1)])
                if k == "zero":
                    row.append(0.0)
                elif k == "same":
                    row.append(prev[i] if prev is not None else 0.0)
                elif k == "tiny":
                    row.append(rng.gauss(0.0, 1.0) * loguniform(rng, 1e-32, 1e-18))
                elif k == "huge":
                    row.append(rng.gauss(0.0, 1.0) * loguniform(rng, 1e19, 1e21))
                else:
                    row.append(rng.gauss(0.0, 1.0) * scales[i] * loguniform(rng, 0.5, 2.0))
            row = to_dtype(row, dtype)
            rows.append(row)
            encoded.append(row)
        prev = rows[-1]
    return rows, encoded


# ----------------------------------------------------------------------------------------------------------
# Running the reference
# ----------------------------------------------------------------------------------------------------------


def split(flat, shapes, dtype):
    out, k = [], 0
    for shape in shapes:
        n = numel(shape)
        out.append(torch.tensor(flat[k : k + n], dtype=dtype).reshape(shape))
        k += n
    return out


def run_reference(refs, name, config, dtype, shapes, init, rows, noise_rng=None):
    """The trajectory (flat params after each step). With noise_rng, +-1 ulp noise after every step."""
    params = [t.clone().requires_grad_(True) for t in split(init, shapes, dtype)]
    opt = make_optimizer(refs, name, params, config)
    # The paper folder's RAdam computes in float32 whatever the parameter dtype: its rounding unit is float32's.
    ulp_dtype = torch.float32 if name == "radam_paper" else dtype
    traj = []
    for row in rows:
        for p, g in zip(params, split(row, shapes, dtype)):
            p.grad = g  # a fresh tensor each step: MSVAG and AdaBelief (L2) add the decay into p.grad in place
        with torch.no_grad():
            opt.step()
        if noise_rng is not None:
            with torch.no_grad():
                for p in params:
                    perturb(p.data, noise_rng, ulp_dtype)
                    for key, s in opt.state[p].items():
                        if key != "step" and torch.is_tensor(s) and s.is_floating_point():
                            perturb(s, noise_rng, ulp_dtype)
        traj.append([x for p in params for x in p.detach().reshape(-1).tolist()])
    return traj


def perturb(t, rng, ulp_dtype):
    """Moves every nonzero finite element one ulp (of ulp_dtype) up or down at random, in place."""
    flat = t.reshape(-1)
    n = flat.numel()
    if n == 0:
        return
    up = torch.tensor([rng.random() < 0.5 for _ in range(n)])
    x = flat.to(ulp_dtype)
    target = torch.where(up, torch.tensor(math.inf, dtype=ulp_dtype), torch.tensor(-math.inf, dtype=ulp_dtype))
    moved = torch.nextafter(x, target)
    keep = (x == 0) | ~torch.isfinite(x) | ~torch.isfinite(moved)
    flat.copy_(torch.where(keep, x, moved).to(t.dtype))


def deviation(traj, ref, init, shapes):
    """Largest |a - e| / (1 + scale) over all rows and elements, scale = |e| (strict) or the largest finite |e|
    the element has held so far, its start included (relaxed). A different non-finite pattern gives inf."""
    strict = relaxed = 0.0
    scale = [abs(x) if math.isfinite(x) else 0.0 for x in init]
    for row_a, row_e in zip(traj, ref):
        for i, (a, e) in enumerate(zip(row_a, row_e)):
            if math.isfinite(e):
                scale[i] = max(scale[i], abs(e))
                if not math.isfinite(a):
                    return math.inf, math.inf
                d = abs(a - e)
                strict = max(strict, d / (1 + abs(e)))
                relaxed = max(relaxed, d / (1 + scale[i]))
            elif not (a == e or (math.isnan(a) and math.isnan(e))):
                return math.inf, math.inf
    return strict, relaxed


# ----------------------------------------------------------------------------------------------------------
# Edge configurations: rejected by the reference, or accepted by it and rejected by the library
# ----------------------------------------------------------------------------------------------------------

# Configurations the reference rejects (constructor ValueError, or an error at the first step). The library is
# expected to reject them too (OptionError), except where its documentation says otherwise.
REFERENCE_RAISES = [
    ("adabelief", {"lr": -1e-3}),
    ("adabelief", {"eps": -1e-16}),
    ("adabelief", {"betas": [1.0, 0.999]}),
    ("adabelief", {"betas": [0.9, 1.0]}),
    ("adabelief", {"betas": [-0.1, 0.999]}),
    ("sgd", {"lr": -0.01}),
    ("sgd", {"lr": 0.01, "momentum": -0.5}),
    ("sgd", {"lr": 0.01, "weight_decay": -1e-4}),
    ("sgd", {"lr": 0.01, "momentum": 0.0, "nesterov": True}),
    ("sgd", {"lr": 0.01, "momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    ("adam", {"lr": -1e-3}),
    ("adam", {"eps": -1e-8}),
    ("adam", {"betas": [1.0, 0.999]}),
    ("adam", {"betas": [0.9, 1.0]}),
    ("adam", {"weight_decay": -0.01}),
    ("adamw", {"weight_decay": -0.01}),
    ("adamw", {"betas": [0.9, 1.0]}),
    ("radam", {"betas": [0.9, 1.5]}),
    ("radam", {"weight_decay": -0.1}),
    ("radam_paper", {"eps": -1e-8}),
    ("radam_paper", {"betas": [1.0, 0.999]}),
    ("yogi", {"lr": 0.0}),
    ("yogi", {"lr": -1e-2}),
    ("yogi", {"eps": -1e-3}),
    ("yogi", {"weight_decay": -1e-4}),
    ("yogi", {"betas": [0.9, 1.0]}),
    ("adabound", {"lr": 0.0}),
    ("adabound", {"gamma": 0.0}),
    ("adabound", {"gamma": 1.0}),
    ("adabound", {"final_lr": -0.1}),
    ("adabound", {"betas": [0.9, 1.0]}),
    ("msvag", {"lr": -1e-3}),
    ("msvag", {"betas": [1.0, 0.999]}),
    ("fromage", {"lr": -0.01}),
]

# Configurations the reference runs but the library rejects on purpose (OptionError).
LIBRARY_STRICTER = [
    ("sgd", {"lr": 0.01, "momentum": 1.0}, "torch accepts momentum >= 1 (the buffer never forgets)"),
    ("sgd", {"lr": 0.01, "momentum": 1.5}, "torch accepts momentum > 1 (the buffer grows geometrically)"),
    ("sgd", {"lr": 0.01, "momentum": 0.9, "dampening": 1.5}, "torch accepts any dampening"),
    ("sgd", {"lr": 0.01, "momentum": 0.9, "dampening": -0.5}, "torch accepts any dampening"),
    ("adabelief", {"weight_decay": -0.1}, "the official AdaBelief does not check weight_decay"),
    ("adabelief", {"lr": 0.1, "weight_decay": -0.1, "weight_decouple": False}, "L2 with negative decay"),
    ("radam_paper", {"weight_decay": -0.1}, "the paper's RAdam does not check weight_decay"),
    ("msvag", {"weight_decay": -0.1}, "MSVAG does not check weight_decay"),
    ("adabound", {"weight_decay": -0.1}, "AdaBound does not check weight_decay"),
    ("yogi", {"initial_accumulator": -1e-6}, "Yogi does not check initial_accumulator (sqrt of a negative v)"),
]


def probe_edges(refs):
    raises, stricter = [], []
    shapes, init = [[3]], [0.5, -1.25, 2.0]
    rows = [[0.25, -0.5, 1.0], [0.125, 0.75, -1.0]]
    for name, config in REFERENCE_RAISES:
        if name == "adabelief":
            config = {**config, "print_change_log": False}
        where, err = None, None
        try:
            run_reference(refs, name, config, torch.float64, shapes, init, rows)
        except Exception as e:  # noqa: BLE001 - we record whatever the reference raises
            err = f"{type(e).__name__}: {e}"
            tb = e.__traceback__
            while tb.tb_next is not None:
                tb = tb.tb_next
            where = "step" if tb.tb_frame.f_code.co_name == "step" else "constructor"
        if err is None:
            sys.exit(f"expected the reference to raise for {name} {config}")
        raises.append({"optimizer": name, "config": config, "where": where, "error": err})
    for name, config, note in LIBRARY_STRICTER:
        if name == "adabelief":
            config = {**config, "print_change_log": False}
        traj = run_reference(refs, name, config, torch.float64, shapes, init, rows)
        stricter.append({"optimizer": name, "config": config, "note": note, "reference_after_2_steps": encode_row(traj[-1])})
    return raises, stricter, {"shapes": shapes, "init": init, "grads": rows, "dtype": "float64"}


# ----------------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------------


def enc(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 and math.copysign(1.0, x) < 0:
        return -0.0
    if x == int(x) and abs(x) < 2**53:
        return int(x)
    return x


def encode_row(row):
    return [enc(x) for x in row]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=20201019)
    ap.add_argument("--ref-dir", default="/tmp/ref")
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")  # the reference files' deprecated add_(number, tensor) overloads
    refs = load_references(args.ref_dir)

    master = random.Random(args.seed)
    deck = []
    deal = plan_decks(master)
    cases = []
    counts = {"nonfinite": 0}
    for i in range(args.n):
        if not deck:
            deck = list(OPTIMIZERS)
            master.shuffle(deck)
        name = deck.pop()
        plan = deal(name)
        rng = random.Random(f"{args.seed}/case/{i}")
        dtype_name = "float32" if rng.random() < 0.5 else "float64"
        dtype = torch.float32 if dtype_name == "float32" else torch.float64
        config = sample_config(rng, name, plan)
        steps = sample_steps(rng)
        shapes = sample_shapes(rng, steps)
        init = sample_init(rng, shapes, dtype)
        rows, grads_encoded = sample_grads(rng, shapes, steps, dtype)
        traj = run_reference(refs, name, config, dtype, shapes, init, rows)
        noise = [0.0, 0.0]
        for rep in range(2):
            noisy = run_reference(refs, name, config, dtype, shapes, init, rows, random.Random(f"{args.seed}/noise/{i}/{rep}"))
            s, r = deviation(noisy, traj, init, shapes)
            noise = [max(noise[0], s), max(noise[1], r)]
        encoded_traj, prev = [], init
        for row in traj:
            same = all(a == b and math.copysign(1, a) == math.copysign(1, b) or (math.isnan(a) and math.isnan(b)) for a, b in zip(row, prev))
            encoded_traj.append("=" if same else encode_row(row))
            prev = row
        case = {
            "id": i,
            "optimizer": name,
            "config": config,
            "dtype": dtype_name,
            "shapes": shapes,
            "init": encode_row(init),
            "grads": [g if isinstance(g, (str, int)) else encode_row(g) for g in grads_encoded],
            "trajectory": encoded_traj,
            "noise": [enc(noise[0]), enc(noise[1])],
        }
        # CPython's beta ** t is glibc's pow: within 0.52 ulp, so not always the exactly rounded power. Where it is
        # not, record it ([beta index 1|2, t, value]) so that a port can reproduce the reference to the bit.
        pows = [
            [k + 1, t, beta**t]
            for k, beta in enumerate(config.get("betas", []))
            for t in range(1, steps + 1)
            if beta**t != float(Fraction(beta) ** t)
        ]
        if pows:
            case["pow_not_correctly_rounded"] = pows
        if any(not math.isfinite(x) for row in traj for x in row):
            case["nonfinite"] = True
            counts["nonfinite"] += 1
        cases.append(case)

    raises, stricter, probe_problem = probe_edges(refs)
    generator = {
        "what": "randomized differential fixture: random configurations of the reference optimizers, replayed with "
        "the library core by packages/adabelief/test/golden/random.test.ts; nobody tuned these cases",
        "command": f"/usr/bin/python3 scripts/random-cases.py --n {args.n} --seed {args.seed} --ref-dir <dir>",
        "seed": args.seed,
        "n": args.n,
        "rng": "Python random.Random: the optimizer deck and flag decks from Random(seed), case i from "
        "Random(f'{seed}/case/{i}'), its noise runs from Random(f'{seed}/noise/{i}/{rep}')",
        "torch_version": torch.__version__,
        "torch_distribution": "Debian bookworm python3-torch 1.13.1+dfsg-4 (CPU-only build)",
        "torch_cpu_capability": next(
            (line.split(":", 1)[1].strip() for line in torch.__config__.show().splitlines() if "CPU capability" in line),
            None,
        ),
        "print_change_log_stubs": [m for m in ("tabulate", "colorama") if getattr(sys.modules.get(m), "__file__", None) is None],
        "threads": 1,
        "python_version": platform.python_version(),
        "sources": {
            "adabelief": {"from": SOURCES["adabelief"], "sha256": EXPECTED_SHA256["adabelief_pytorch/AdaBelief.py"]},
            "adabound": {"from": SOURCES["adabound"], "sha256": EXPECTED_SHA256["adabound/adabound.py"]},
            "cifar": {
                "from": SOURCES["cifar"],
                "files": {k.split("/")[1]: v for k, v in EXPECTED_SHA256.items() if k.startswith("cifar/")},
            },
            "torch.optim": "SGD, Adam, AdamW, RAdam of the torch above, default single-tensor paths (foreach unset)",
        },
        "comparison": {
            "strict": "|actual - expected| <= tol * (1 + |expected|) at every step and element (the golden rule)",
            "relaxed": "|actual - expected| <= tol * (1 + s), s = the largest finite |expected| the element has held "
            "so far, its start included",
            "tol": {"float64": 1e-10, "float32": 1e-5},
            "nonfinite": "where the reference holds NaN or +-Infinity the port must hold the same; a non-finite "
            "value where the reference is finite fails",
        },
        "format": "see the docstring of scripts/random-cases.py: grads rows may be '=' (repeat), '-' (negated "
        "previous row), 0 (all zeros); trajectory rows may be '=' (unchanged); 'NaN', 'Infinity', '-Infinity' "
        "are strings",
        "noise": "[strict, relaxed]: the largest deviation of two reference reruns with +-1 ulp random noise "
        "added after every step to every nonzero finite parameter and state element",
        "element_step_budget": ELEMENT_STEP_BUDGET,
        "sampling": {
            "optimizer": "shuffled deck of the 10 names (N/10 each); dtype float32 or float64 with probability 1/2",
            "flags": "dealt from shuffled decks: all 32 AdaBelief combinations of weight_decouple/fixed_decay/rectify/"
            "amsgrad/degenerated_to_sgd; SGD (momentum>0, dampening>0, nesterov) in the 5 legal combinations; "
            "amsgrad (Adam, AdamW, MSVAG), amsbound (AdaBound), degenerated_to_sgd (radam_paper) half each",
            "lr": "0 (3 %, not Yogi/AdaBound), 1e-6 (3 %), 10 (3 %), the class default (11 %), else log-uniform 1e-6..10",
            "beta1": "0 (12 %), 0.9 (15 %), 1 - loguniform(1e-6, 0.1) (18 %), else uniform [0, 1)",
            "beta2": "0 (8 %), 0.999 (17 %), 1 - loguniform(1e-9, 1e-2) (35 %), else uniform [0, 1)",
            "eps": "0 (15 %), the class default (20 %), else log-uniform 1e-20..0.1",
            "weight_decay": "0 (50 %), log-uniform 1e-6..0.3 (40 %), log-uniform 0.3..10 (10 %)",
            "sgd": "momentum 0.9 / 1 - loguniform(1e-4, 0.1) / uniform(1e-3, 1); dampening 1 (15 %) or uniform [0, 1)",
            "yogi": "initial_accumulator 1e-6 (25 %), 0 (15 %), else log-uniform 1e-10..1",
            "adabound": "final_lr 0.1 (25 %), 0 (5 %), else log-uniform 1e-4..10; gamma 1e-3 (25 %), "
            "1 - loguniform(1e-6, 1e-2) (7 %), else log-uniform 1e-6..0.9",
            "steps": "1-5 (25 %), 6-20 (45 %), 21-30 (30 %)",
            "tensors": "1-4, each 1..min(40, budget/steps/n) elements, 35 % of those with >= 4 elements 2-D",
            "init": "per tensor scale loguniform(0.01, 10): normal (75 %), 0 (10 %), tiny 1e-32..1e-18 (5 %), "
            "+-1e3..1e8 (5 %), +-1 (5 %)",
            "grads": "per step: normal x per-tensor scale loguniform(1e-4, 100) (55 %), repeat (12 %), sign flip (7 %), "
            "zeros (7 %), tiny 1e-32..1e-18 (6 %), huge 1e19..1e21 (4 %), per-element mix (9 %)",
        },
        "counts": {
            "cases": len(cases),
            "nonfinite": counts["nonfinite"],
            "by_optimizer": {o: sum(c["optimizer"] == o for c in cases) for o in OPTIMIZERS},
            "by_dtype": {d: sum(c["dtype"] == d for c in cases) for d in ("float32", "float64")},
        },
    }
    out = {
        "generator": generator,
        "cases": cases,
        "edge_problem": probe_problem,
        "reference_raises": raises,
        "library_stricter": stricter,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    text = json.dumps(out, separators=(",", ":"), allow_nan=False)
    with open(args.out, "w") as f:
        f.write(text)
        f.write("\n")
    print(
        f"wrote {args.out}: {len(cases)} cases ({counts['nonfinite']} with non-finite reference values), "
        f"{len(raises)} reference errors, {len(stricter)} library-stricter probes, {len(text) / 1e6:.2f} MB"
    )


if __name__ == "__main__":
    main()
