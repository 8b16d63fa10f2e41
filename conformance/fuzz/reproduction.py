"""Reproduction scripts. For torch itself, a script in torch alone: the program's operators as the catalogue
writes them, over a namespace of torch's modules standing for ``lib``, its gradient against central differences
in float64. For any other engine (a mutant or variant of torch the suite makes, torch.func, another engine; and an
operator whose source cannot be read on its own), a script that replays the record through this suite
(``python -m conformance.fuzz --replay``)."""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

from .operators import Chainable

SUITE_REPLAY = '''"""Replays {signature} through the conformance suite: exits 1 while it is there, 0 once it is gone."""
import subprocess
import sys

sys.exit(subprocess.call([sys.executable, "-m", "conformance.fuzz", "--backend={backend}", "--replay={record}"]))
'''

TORCH_ALONE = '''"""{signature} in torch alone, float64 on the CPU: the program's gradient along a direction (each
input moved along its own) against central differences of its value (exits 1 where they disagree). Recorded on
{engine}: {figures}"""
import types

import numpy as np
import torch

lib = types.SimpleNamespace(
    functional=torch.nn.functional, linalg=torch.linalg, special=torch.special, ops=torch, tensor=torch.tensor
)
# each step, and whether it takes the next input as its second operand (a binary step, which broadcasts)
steps = [
{steps}
]
view = {view!r}
inputs = [np.array(values, dtype=np.float64) for values in {inputs!r}]
generator = np.random.default_rng({seed})


def program(x, *operands):
    value, operands = (x.mT if view == "transpose" else x[::2] if view == "stride" else x), iter(operands)
    for step, binary in steps:
        value = step(lib, value, next(operands)) if binary else step(lib, value)
    return value


leaves = [torch.tensor(array, requires_grad=True) for array in inputs]
output = program(*leaves)
cotangent = torch.tensor(generator.standard_normal(tuple(output.shape)))
directions = [torch.tensor(generator.standard_normal(array.shape)) for array in inputs]
gradients = torch.autograd.grad(output, leaves, cotangent)
h = 1e-6
with torch.no_grad():
    plus = (cotangent * program(*(x + h * d for x, d in zip(leaves, directions)))).sum()
    minus = (cotangent * program(*(x - h * d for x, d in zip(leaves, directions)))).sum()
    difference = (plus - minus) / (2 * h)
along_gradient = float(sum((gradient * d).sum() for gradient, d in zip(gradients, directions)))
print(f"gradient along the direction {{along_gradient!r}}, central differences {{float(difference)!r}}")
raise SystemExit(int(abs(along_gradient - float(difference)) > 1e-6 + 1e-5 * abs(float(difference))))
'''


@functools.cache
def module_tree(path: str) -> ast.Module:
    return ast.parse(Path(path).read_text(encoding="utf-8"))


def lambda_source(entry: Chainable) -> str | None:
    """The source of the entry's operator where it is the only lambda on its line, else None."""
    code = entry.op.fn.__code__
    if code.co_name != "<lambda>":
        return None
    path = inspect.getsourcefile(entry.op.fn)
    tree = module_tree(path)
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno]
    if len(found) != 1:
        return None
    return ast.get_source_segment(Path(path).read_text(encoding="utf-8"), found[0])


def script(record: dict, record_path: Path, entries: dict[str, Chainable]) -> str:
    """The reproduction script of a deviation record: torch alone where the engine is torch and every operator's
    source reads on its own, else the suite's replay."""
    operators = record["program"]["operators"]
    sources = [lambda_source(entries[name]) for name in operators]
    if record["engine"]["engine"] != "torch" or None in sources:
        return SUITE_REPLAY.format(
            signature=record["signature"], backend=record["engine"]["backend"], record=record_path.resolve()
        )
    return TORCH_ALONE.format(
        signature=record["signature"],
        engine=record["engine"]["backend"],
        figures=record["figures"],
        steps="\n".join(
            f"    ({source}, {entries[name].binary})," for name, source in zip(operators, sources, strict=True)
        ),
        view=record["program"]["view"],
        inputs=record["inputs"],
        seed=record["program"]["seed"],
    )
