#!/usr/bin/env python3
"""Reference fixtures for moving optimizer state between adabelief and PyTorch.

For each case: run the reference optimizer (official AdaBelief 0.2.1, or torch.optim SGD / Adam / AdamW /
RAdam) K steps on fixed gradients, save its ``state_dict()`` as a safetensors file (tensors) whose
``__metadata__`` carries the param groups and the scalar state as JSON (the layout ``toTorchState`` writes),
then run more steps and record the parameters after each. ``npm test`` replays these files: importing a file
and continuing must give the recorded parameters, and exporting after K steps must give the same file.

Also checks, here in Python, that a file loads with the few lines the docs show (``load_optimizer_state``)
and continues to the same numbers. ``--check FILE CASE`` loads a file written by the library instead and
prints whether PyTorch continues from it to the recorded numbers.

Needs Debian's torch (``/usr/bin/python3``) and the official AdaBelief 0.2.1 file::

    /usr/bin/python3 scripts/torch-state-fixtures.py --adabelief /path/to/adabelief_pytorch/AdaBelief.py

(``AdaBelief.py`` of github.com/juntang-zhuang/Adabelief-Optimizer, pypi_packages/adabelief_pytorch0.2.1).
Writes packages/adabelief/test/fixtures/torch-state/.
"""
import argparse
import hashlib
import importlib.util
import json
import struct
import sys
import types
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent.parent / "packages/adabelief/test/fixtures/torch-state"
K = 3  # steps before the state is saved
MORE = 3  # steps after


def load_adabelief(path):
    # AdaBelief.py imports tabulate and colorama only to print its change log (disabled below).
    sys.modules.setdefault("tabulate", types.SimpleNamespace(tabulate=lambda *a, **k: ""))
    style = types.SimpleNamespace(RED="", BLUE="", GREEN="", RESET_ALL="")
    sys.modules.setdefault("colorama", types.SimpleNamespace(Fore=style, Back=style, Style=style))
    spec = importlib.util.spec_from_file_location("AdaBelief", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.AdaBelief, hashlib.sha256(Path(path).read_bytes()).hexdigest()


DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}
NAMES = {v: k for k, v in DTYPES.items()}


def to_jsonable(v):
    if isinstance(v, torch.Tensor):
        return v.item()
    if isinstance(v, (list, tuple)):
        return [to_jsonable(x) for x in v]
    return v


def save_optimizer_state(state_dict, path, optimizer_name):
    """state_dict → safetensors: tensors as state.<i>.<key>, groups and scalars as JSON metadata."""
    tensors, scalars = {}, {}
    for i, st in state_dict["state"].items():
        for key, value in st.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                tensors[f"state.{i}.{key}"] = value
            elif isinstance(value, torch.Tensor):  # torch 1.13 keeps `step` as a float32 scalar tensor
                tensors[f"state.{i}.{key}"] = value
            elif value is None:
                scalars.setdefault(str(i), {})[key] = None
            else:
                scalars.setdefault(str(i), {})[key] = value
    groups = [{k: to_jsonable(v) for k, v in g.items()} for g in state_dict["param_groups"]]
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.numpy().tobytes()  # little-endian on this machine
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {
        "format": "pt",
        "content": "optimizer-state",
        "optimizer": optimizer_name,
        "param_groups": json.dumps(groups, separators=(",", ":")),
        "scalars": json.dumps(scalars, separators=(",", ":")),
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# --- the loader the docs show (keep in sync with docs/torch-interop.md) ---
def load_optimizer_state(path):
    import json, struct, torch  # noqa: E401 (self-contained, as in the docs)

    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta, data = header.pop("__metadata__"), raw[8 + n :]
    dtypes = {"F32": torch.float32, "F64": torch.float64}
    state = {}
    for name, info in header.items():
        _, i, key = name.split(".", 2)
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        state.setdefault(int(i), {})[key] = t
    for i, scalars in json.loads(meta["scalars"]).items():
        state.setdefault(int(i), {}).update(scalars)
    return {"state": state, "param_groups": json.loads(meta["param_groups"])}


SHAPES = [[3, 2], [4]]


CASES = [
    ("adabelief-default", "adabelief_pytorch.AdaBelief", dict(lr=1e-2), K + MORE),
    ("adabelief-l2-amsgrad", "adabelief_pytorch.AdaBelief", dict(lr=1e-2, weight_decay=1e-2, weight_decouple=False, rectify=False, amsgrad=True, eps=1e-12), K + MORE),
    ("adabelief-decoupled", "adabelief_pytorch.AdaBelief", dict(lr=3e-2, weight_decay=5e-2, betas=(0.8, 0.99)), K + MORE),
    ("sgd-momentum", "torch.optim.SGD", dict(lr=0.05, momentum=0.9, weight_decay=1e-3), K + MORE),
    ("sgd-nesterov", "torch.optim.SGD", dict(lr=0.05, momentum=0.9, nesterov=True), K + MORE),
    ("adam-amsgrad", "torch.optim.Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-3), K + MORE),
    ("adamw", "torch.optim.AdamW", dict(lr=1e-2, weight_decay=0.1), K + MORE),
    ("radam", "torch.optim.RAdam", dict(lr=1e-2), 5 + MORE),
]


def maker(AdaBelief, optimizer, kwargs):
    if optimizer == "adabelief_pytorch.AdaBelief":
        return lambda ps: AdaBelief(ps, print_change_log=False, **kwargs)
    cls = getattr(torch.optim, optimizer.split(".")[-1])
    return lambda ps: cls(ps, **kwargs)


def run(make, dtype, steps, seed):
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=g, dtype=dtype).requires_grad_() for s in SHAPES]
    init = [p.detach().clone() for p in params]
    grads = [[torch.randn(s, generator=g, dtype=dtype) for s in SHAPES] for _ in range(steps)]
    opt = make(params)
    traj, saved = [], None
    for k in range(steps):
        for p, gr in zip(params, grads[k]):
            p.grad = gr.clone()
        opt.step()
        traj.append([p.detach().clone() for p in params])
        if k + 1 == steps - MORE:
            saved = opt.state_dict()
            saved = {"state": {i: {kk: (vv.clone() if isinstance(vv, torch.Tensor) else vv) for kk, vv in st.items()} for i, st in saved["state"].items()}, "param_groups": saved["param_groups"]}
    return init, grads, traj, saved, params


def flat(ts):
    return [[float(x) for x in t.reshape(-1).tolist()] for t in ts]


def continue_from(make, dtype, file, at, grads, k):
    params = [t.clone().requires_grad_() for t in at]
    opt = make(params)
    opt.load_state_dict(load_optimizer_state(file))
    out = []
    for gr in grads[k:]:
        for p, g in zip(params, gr):
            p.grad = g.clone()
        opt.step()
        out.append([p.detach().clone() for p in params])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--adabelief", required=True, help="path of the official AdaBelief.py (0.2.1)")
    ap.add_argument("--check", nargs=2, metavar=("FILE", "CASE"), help="continue from a file the library wrote")
    args = ap.parse_args()
    torch.set_num_threads(1)
    AdaBelief, sha = load_adabelief(args.adabelief)
    if args.check:
        file, case_name = args.check
        index = json.loads((OUT / "cases.json").read_text())
        case = next(c for c in index["cases"] if c["name"] == case_name)
        make = maker(AdaBelief, case["optimizer"], case["config"])
        dtype = torch.float64 if case["dtype"] == "float64" else torch.float32
        k = case["savedAfter"]
        grads = [[torch.tensor(g, dtype=dtype).reshape(s) for g, s in zip(gs, SHAPES)] for gs in case["grads"]]
        at = [torch.tensor(p, dtype=dtype).reshape(s) for p, s in zip(case["trajectory"][k - 1], SHAPES)]
        got = continue_from(make, dtype, file, at, grads, k)
        worst = max(abs(a - b) for step, ref in zip(got, case["trajectory"][k:]) for t, r in zip(step, ref) for a, b in zip(t.reshape(-1).tolist(), r))
        print(f"{case_name}: PyTorch continued from {file}; largest difference from the recorded trajectory {worst:.3g}")
        return
    OUT.mkdir(parents=True, exist_ok=True)
    index = {
        "generator": {
            "torch": torch.__version__,
            "adabelief_pytorch": "0.2.1",
            "adabelief_sha256": sha,
            "command": "/usr/bin/python3 scripts/torch-state-fixtures.py --adabelief <AdaBelief.py>",
            "savedAfter": f"{K} steps (RAdam: 5, past its warm-up), then {MORE} more",
        },
        "cases": [],
    }
    for n, (name, optimizer, kwargs, steps) in enumerate(CASES):
        make = maker(AdaBelief, optimizer, kwargs)
        for dtype, tag in [(torch.float64, "float64"), (torch.float32, "float32")]:
            init, grads, traj, saved, _ = run(make, dtype, steps, 1000 + n)
            file = f"{name}-{tag}.safetensors"
            save_optimizer_state(saved, OUT / file, optimizer)
            k = steps - MORE
            # The file loads with the documented loader and continues exactly as the uninterrupted run.
            again = continue_from(make, dtype, OUT / file, traj[k - 1], grads, k)
            for a, b in zip(again, traj[k:]):
                for x, y in zip(a, b):
                    assert torch.equal(x, y), f"{name}/{tag}: reloaded run differs"
            index["cases"].append(
                {
                    "name": name,
                    "optimizer": optimizer,
                    "config": kwargs,
                    "dtype": tag,
                    "shapes": SHAPES,
                    "file": file,
                    "savedAfter": k,
                    "init": flat(init),
                    "grads": [flat(gs) for gs in grads],
                    "trajectory": [flat(ts) for ts in traj],
                }
            )
    (OUT / "cases.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(index['cases'])} cases to {OUT}")


if __name__ == "__main__":
    main()
