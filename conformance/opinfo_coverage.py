"""How much of torch's OpInfo database the operator catalogue covers: ``python -m conformance.opinfo_coverage``.

torch's own tests describe every operator in ``torch.testing._internal.common_methods_invocations.op_db``; those
with ``supports_autograd`` are the operators an engine builder measures gradients against. Each catalogue entry
(:mod:`conformance.operator_catalogue`) is run once on torch in float64 under a
:class:`~torch.overrides.TorchFunctionMode` that records the torch functions the entry itself calls (not the
ones they call in turn). An OpInfo is covered when an entry calls its function, its method variant or an alias,
or a function of the same name (:func:`canonical_name`: ``x + y`` counts for ``add``, ``3 / x`` for
``__rdiv__``, ``linalg_solve`` for ``linalg.solve``); an OpInfo that is one variant of an operator
(``interpolate`` with ``variant_test_name`` ``bilinear``) counts only when an entry of that operator names the
variant in its ID (``opgrad.interpolate-bilinear``), so the figure never claims a variant no entry exercises.

``--write`` records the figure for the installed torch in :data:`OPINFO_FIGURE`, where README.md and SPECS.md take
it from (``python -m conformance.catalogue``). ``--json`` writes the covered and missing operators; ``--compare
OLD.json NEW.json`` tells from two of those (two torch releases) which operators a release made differentiable,
or no longer, and whether the catalogue covers them: a new release's new gradients are found, not missed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from backends.torch_backend import TorchBackend

from .catalogue import OPINFO_FIGURE
from .gradcheck import Op, forward
from .operator_catalogue import CATALOGUE

#: Python operators as ``__torch_function__`` sees them -> the OpInfo of the function they call
DUNDER_OPINFO = {"__truediv__": "div", "__add__": "add", "__sub__": "sub", "__mul__": "mul", "__pow__": "pow"}
DUNDER_OPINFO |= {"__matmul__": "matmul", "__neg__": "neg"}


def autograd_opinfos() -> list:
    """OpInfo's autograd-capable operators for the installed torch."""
    try:
        from torch.testing._internal.common_methods_invocations import op_db
    except ModuleNotFoundError as exc:  # torch.testing._internal needs expecttest, a test-only dependency
        raise SystemExit(
            f"OpInfo's op_db cannot be imported ({exc}): pip install 'autograd-conformance[coverage]'"
        ) from exc
    return [info for info in op_db if info.supports_autograd]


class Recorder(TorchFunctionMode):
    """Records each torch function called directly (the mode is off while one runs, so nested calls are not)."""

    def __init__(self) -> None:
        super().__init__()
        self.called: list[Callable] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.called.append(func)
        return func(*args, **(kwargs or {}))


def called_by(op: Op) -> list[Callable]:
    """The torch functions ``op`` calls on seeded float64 inputs, on torch as an engine (not the oracle, which
    computes some operators another way: :mod:`conformance.formulations`)."""
    np.random.seed(0)
    arrays = op.draw()
    with Recorder() as recorder:
        forward(TorchBackend("cpu"), op, arrays, np.float64)
    return recorder.called


def canonical_name(func: Callable) -> str:
    """The name OpInfo gives the operator ``func`` is: ``linalg_solve`` -> ``linalg.solve``, ``F.gelu`` ->
    ``nn.functional.gelu``, ``__add__`` -> ``add``, the getter of ``Tensor.mT`` -> ``mT``."""
    name = getattr(func, "__name__", "")
    if name == "__get__":
        name = getattr(getattr(func, "__self__", None), "__name__", name)
    if name in DUNDER_OPINFO:
        return DUNDER_OPINFO[name]
    if name.startswith("linalg_"):
        return f"linalg.{name.removeprefix('linalg_')}"
    if getattr(torch.nn.functional, name, None) is func:
        return f"nn.functional.{name}"
    return name


def covered_by(info, entries: dict[str, list[Callable]]) -> list[str]:
    """The IDs of the entries that exercise OpInfo ``info`` (see the module's docstring for the rule)."""
    functions = [info.op, info.method_variant, *(alias.op for alias in info.aliases)]
    targets = {id(func) for func in functions if func is not None}
    names = {info.name, *(alias.name for alias in info.aliases)}
    variant = info.variant_test_name.replace("_", "-")
    return [
        spec_id
        for spec_id, called in entries.items()
        if any(id(func) in targets or canonical_name(func) in names for func in called)
        and (not variant or re.search(rf"(^|-){re.escape(variant)}(-|$)", spec_id.removeprefix("opgrad.")))
    ]


def coverage(entries: dict[str, list[Callable]], infos: list) -> tuple[list[str], list[str]]:
    """(covered, missing) OpInfo names, each ``name`` or ``name.variant``, in op_db's order."""
    covered, missing = [], []
    for info in infos:
        label = f"{info.name}.{info.variant_test_name}" if info.variant_test_name else info.name
        (covered if covered_by(info, entries) else missing).append(label)
    return covered, missing


def catalogue_calls() -> dict[str, list[Callable]]:
    """spec ID -> the torch functions its entry calls."""
    return {entry.id: called_by(entry.op) for entry in CATALOGUE}


def summary(covered: list[str], missing: list[str]) -> str:
    total = len(covered) + len(missing)
    return f"{len(covered)} of {total} OpInfo autograd-capable operators covered (torch {torch.__version__})"


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The lines saying which operators became autograd-capable between two ``--json`` outputs (and whether the
    catalogue covers them), and which stopped being."""
    before = set(old["covered"]) | set(old["missing"])
    after = set(new["covered"]) | set(new["missing"])
    gained, lost = sorted(after - before), sorted(before - after)
    lines = [
        f"torch {old['torch']} -> {new['torch']}: {len(gained)} operators newly autograd-capable, {len(lost)} no longer"
    ]
    lines += [f"  + {name} ({'covered' if name in new['covered'] else 'NOT in the catalogue'})" for name in gained]
    lines += [f"  - {name}" for name in lost]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.opinfo_coverage",
        description="Print which of OpInfo's autograd-capable operators the operator catalogue covers.",
    )
    parser.add_argument("--write", action="store_true", help=f"record the figure in {OPINFO_FIGURE.name}")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the covered and missing operators")
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("OLD.json", "NEW.json"),
        help="which operators became autograd-capable between two --json outputs (two torch releases)",
    )
    args = parser.parse_args(argv)
    if args.compare:
        old, new = (json.loads(path.read_text(encoding="utf-8")) for path in args.compare)
        print("\n".join(compare(old, new)))
        return 0
    covered, missing = coverage(catalogue_calls(), autograd_opinfos())
    print(summary(covered, missing))
    print(f"missing ({len(missing)}):")
    for label in missing:
        print(f"  {label}")
    if args.write:
        figure = {
            "torch": torch.__version__.split("+")[0],
            "covered": len(covered),
            "total": len(covered) + len(missing),
        }
        OPINFO_FIGURE.write_text(json.dumps(figure, indent=2) + "\n", encoding="utf-8")
    if args.json:
        listing = {"torch": torch.__version__.split("+")[0], "covered": covered, "missing": missing}
        args.json.write_text(json.dumps(listing, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
