"""What a backend lacks of the capabilities it declares: ``python -m backends.lacks NAME`` (a built-in backend's
name, or ``package.module:attribute``).

Declaring a capability promises the members the table grants (:mod:`backends.capabilities`). An engine that has
a capability's API but not every member of it names the missing ones in ``Backend.lacks``, and the specs using
them are reported unsupported instead of failing on an ``AttributeError``. This command finds them by looking: each
declared capability's members on the backend, on a tensor, and on the objects the backend makes (a Linear,
resnet18, an SGD optimizer, a custom function's context, graph nodes). It prints the ``lacks`` to declare for the
backend's and tensors' members, and lists the objects' missing members apart: those are deviations the specs
touching them report, for the adapter's docstring to explain.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import capabilities as cap
from .contract import Backend, BackendError
from .registry import resolve


def member_name(member: str) -> str:
    """``backward(retain_graph=)`` grants an argument of ``backward``: the member is ``backward``."""
    return member.split("(", 1)[0]


def resolves(obj: object, path: str) -> bool:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return True


def has_member(obj: object, member: str) -> bool:
    """Whether ``obj`` has ``member``: one whose reading raises (torch 2.11's ``saved_tensors`` of a graph already
    run backward) exists."""
    try:
        return hasattr(obj, member)
    except Exception:
        return True


def custom_function_context(backend: Backend) -> object:
    """The context a custom function's forward receives."""
    seen = []

    class Identity(backend.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(ctx)
            ctx.save_for_backward(x)
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    Identity.apply(backend.tensor([1.0], requires_grad=True))
    return seen[0]


def objects_of(backend: Backend, name: str) -> list[object]:
    """The objects whose members capability ``name`` grants, made by ``backend``."""
    if name in (cap.NN, cap.HOOKS):
        return [backend.nn.Linear(2, 2)]
    if name in (cap.RESNET18, cap.PRETRAINED):
        model = backend.models.resnet18()
        return [model, model.fc]
    if name == cap.SGD:
        model = backend.nn.Linear(2, 2) if cap.NN in backend.capabilities else backend.models.resnet18()
        return [backend.optim.SGD(model.parameters(), lr=0.1)]
    if name == cap.CUSTOM_FUNCTION:
        return [custom_function_context(backend)]
    if name == cap.GRAPH:
        leaf = backend.tensor([1.0, 2.0], requires_grad=True)
        node = (leaf * leaf).grad_fn
        following = node.next_functions[0]
        return [node, following[0] if isinstance(following, tuple) else following]
    return []


def missing(backend: Backend) -> list[tuple[str, str, str]]:
    """(capability, where: ``backend``, ``tensor`` or the objects' types, member) for every member that
    ``backend``'s declared capabilities grant and it neither has nor says it lacks (a tensor is a matrix: ``mT``
    exists only there). An argument ``name(arg=)`` of a member the backend lacks is lacked with it."""
    tensor = backend.tensor([[1.0, 2.0]])
    found = []
    for name in sorted(backend.capabilities):
        capability, lacked = cap.BY_NAME[name], backend.lacks.get(name, frozenset())
        found += [
            (name, "backend", path)
            for path in capability.backend
            if not {path, member_name(path)} & lacked and not resolves(backend, member_name(path))
        ]
        found += [
            (name, "tensor", member)
            for member in capability.tensor
            if member != "broadcasting"
            and not {member, member_name(member)} & lacked
            and not has_member(tensor, member_name(member))
        ]
        if capability.objects:
            objects = objects_of(backend, name)
            where = ", ".join(type(obj).__name__ for obj in objects)
            found += [
                (name, where, member)
                for member in capability.objects
                if not any(has_member(obj, member) for obj in objects)
            ]
    return found


def missing_members(backend: Backend) -> list[str]:
    """:func:`missing`, each as ``capability: backend.path``, ``capability: tensor.member`` or ``capability: member
    of Type``."""
    return [
        f"{name}: {where}.{member}" if where in ("backend", "tensor") else f"{name}: {member} of {where}"
        for name, where, member in missing(backend)
    ]


def derive(backend: Backend) -> dict[str, frozenset[str]]:
    """The ``lacks`` that would make ``backend`` whole: its declared ``lacks`` and, per capability, the backend's
    and tensors' members it does not have (the objects' members are no ``lacks``: see the module docstring)."""
    lacks = {name: set(members) for name, members in backend.lacks.items()}
    for name, where, member in missing(backend):
        if where in ("backend", "tensor"):
            lacks.setdefault(name, set()).add(member)
    return {name: frozenset(members) for name, members in sorted(lacks.items()) if members}


def literal(lacks: dict[str, frozenset[str]]) -> str:
    """``lacks`` as Python to paste into the adapter."""
    lines = ["lacks: ClassVar[dict[str, frozenset[str]]] = {"]
    lines += [f"    {name!r}: frozenset({sorted(members)!r})," for name, members in lacks.items()]
    return "\n".join([*lines, "}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backends.lacks", description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", help="a backend name or package.module:attribute, as --backend takes it")
    args = parser.parse_args(argv)
    try:
        backend = resolve(args.backend)
    except BackendError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(literal(derive(backend)))
    objects: list[Any] = [entry for entry in missing_members(backend) if " of " in entry]
    if objects:
        print("# members of the objects it makes that it lacks (the specs touching them report each):")
        print("\n".join(f"#   {entry}" for entry in objects))
    return 0


if __name__ == "__main__":
    sys.exit(main())
