"""The capability audit: torch on the CPU seen through exactly the members a spec's ``needs`` grant.

:class:`RestrictedBackend` wraps the torch backend. Before each spec the audit plugin (this module, loaded with
``-p conformance.capability_audit``) narrows it to the members that the spec's declared capabilities grant
(:func:`backends.capabilities.granted`), plus those granted always. Tensors are :class:`RestrictedTensor`, a
:class:`~backends.proxy.TensorProxy` over torch's tensors; namespaces (``engine.nn``, ``engine.autograd``),
modules, optimizers, graph nodes and a custom function's context are :class:`RestrictedObject`. Every result handed back
is restricted again, and what the spec hands in (tensors, modules, hooks) is unwrapped for torch. Touching a
member that the spec's capabilities do not grant raises :class:`UndeclaredMember`, naming the member and the
capabilities that grant it, so the spec fails with the capability to declare.

Run it as ``pytest spec_tests --backend=conformance.capability_audit:backend -p conformance.capability_audit``
(``tests/test_capability_audit.py`` does). On modules and other objects only the members the table names are
checked: their attributes are the model's own (``model.layer1``), not the contract's.
"""

from __future__ import annotations

import functools
import os
import types
import weakref
from collections.abc import ValuesView
from typing import Any, ClassVar

import pytest
import torch

from backends import Backend
from backends import capabilities as cap
from backends.proxy import TensorProxy, engine_function
from backends.torch_backend import TorchBackend

from .catalogue import spec_of

#: what the audit's backend grants now: group -> members (set before each spec by the plugin)
GRANTS: dict[str, frozenset[str]] = {group: cap.granted(set(), group) for group in cap.GROUPS}
#: every member the table names, per group: on objects, only these are checked
NAMED: dict[str, frozenset[str]] = {group: cap.granted(cap.ALL, group) for group in GRANTS}
#: the capabilities the audit's backend declares now: the spec's needs
DECLARED: set[str] = set()
#: the members the running spec has used, as (group, member)
USED: set[tuple[str, str]] = set()
#: the process whose specs are audited (where :func:`restrict` was called); None in a rank's own process
AUDITED_PID: int | None = None
#: callables handed across (torch's functions and classes one way, the spec's hooks the other)
CALLABLES = (
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    types.BuiltinMethodType,
    functools.partial,
    type,
)
#: one view per live torch tensor or object, so that identity (``a.grad is a.grad``, a graph node reached twice)
#: holds through the view
_views: weakref.WeakValueDictionary[int, RestrictedTensor | RestrictedObject] = weakref.WeakValueDictionary()


class UndeclaredMember(BaseException):
    """A spec used a member that none of its declared capabilities grants.

    A ``BaseException``, so that nothing in a spec swallows it: not ``pytest.raises(Exception)`` in a refusal
    spec, not the fall-back from ``__getattribute__`` to ``__getattr__`` that an ``AttributeError`` triggers."""


def check(group: str, member: str) -> None:
    if member in GRANTS[group]:
        USED.add((group, member))
        return
    if owners := cap.granting(member, group):
        raise UndeclaredMember(
            f"{member} is granted by capability {' or '.join(owners)}: declare it in the spec's needs"
        )
    raise UndeclaredMember(f"{member} is not granted by any capability: no spec may use it (backends/capabilities.py)")


def wrap(value: Any) -> Any:
    """An engine value as the spec sees it: tensors, modules and optimizers restricted, containers walked."""
    if isinstance(value, torch.Tensor):
        if (view := _views.get(id(value))) is None or not isinstance(view, TensorProxy) or view.wrapped is not value:
            view = _views[id(value)] = RestrictedTensor(value)
        return view
    if type(value) in (list, tuple):
        return type(value)(wrap(item) for item in value)
    if isinstance(value, tuple):  # torch.return_types: max(dim=), slogdet, ... (values, indices) as a structseq
        return type(value)(tuple(wrap(item) for item in value))
    if isinstance(value, types.GeneratorType):
        return (wrap(item) for item in value)
    if value is torch.autograd.Function:
        return RestrictedFunction
    if isinstance(
        value,
        (torch.nn.Module, torch.optim.Optimizer, torch.autograd.function.FunctionCtx, torch.autograd.graph.Node),
    ):
        if (view := _views.get(id(value))) is None or object.__getattribute__(view, "target") is not value:
            view = _views[id(value)] = RestrictedObject(value)
        return view
    if isinstance(value, CALLABLES):
        return lambda *args, **kwargs: wrap(value(*unwrap(args), **unwrap(kwargs)))
    return value


def unwrap(value: Any) -> Any:
    """A spec's value as torch needs it: proxies opened, containers walked, callbacks (hooks) given views."""
    if isinstance(value, TensorProxy):
        return value.wrapped
    if isinstance(value, RestrictedObject):
        return object.__getattribute__(value, "target")
    if type(value) in (list, tuple):
        return type(value)(unwrap(item) for item in value)
    if type(value) is dict:
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, (types.GeneratorType, ValuesView)):  # model.parameters(), dict(...).values()
        return [unwrap(item) for item in value]
    if isinstance(value, CALLABLES) and not isinstance(value, type):
        return lambda *args, **kwargs: unwrap(value(*wrap(args), **wrap(kwargs)))
    return value


class RestrictedTensor(TensorProxy):
    """A torch tensor offering the members granted now; operators and methods hand back restricted tensors."""

    #: the proxy's own machinery, not members of the contract
    MACHINERY: ClassVar[frozenset[str]] = frozenset(
        {"wrapped", "wrap", "unwrap", "engine_tensor_type", "keepdim_keyword", "MACHINERY"}
    )

    @classmethod
    def engine_tensor_type(cls) -> type:
        return torch.Tensor

    @classmethod
    def wrap(cls, value: Any) -> Any:
        return wrap(value)

    def __getattribute__(self, name: str) -> Any:
        if name in NAMED["tensor"] or not (name.startswith("_") or name in RestrictedTensor.MACHINERY):
            check("tensor", name)
        return super().__getattribute__(name)

    def __getattr__(self, name: str) -> Any:
        """A granted member the proxy does not spell itself: torch's, restricted."""
        return wrap(getattr(self.wrapped, name))

    def sum(self, dim: Any = None, keepdim: bool = False) -> Any:
        if dim is not None:
            check("tensor", "sum(dim=)")
        return super().sum(dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Any:
        if dim is not None:
            check("tensor", "mean(dim=)")
        return super().mean(dim, keepdim)

    def backward(self, *args: Any, **kwargs: Any) -> None:
        if "retain_graph" in kwargs:
            check("tensor", "backward(retain_graph=)")
        self.wrapped.backward(*unwrap(args), **unwrap(kwargs))

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "wrapped":
            object.__setattr__(self, name, value)
            return
        check("tensor", name)
        setattr(self.wrapped, name, unwrap(value))


def _checked(name: str):
    def operator(self: RestrictedTensor, *args: Any) -> Any:
        check("tensor", name)
        return wrap(getattr(self.wrapped, name)(*unwrap(args)))

    operator.__name__ = name
    return operator


for _name in ("__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__", "__matmul__", "__rmatmul__"):
    setattr(RestrictedTensor, _name, _checked(_name))
for _name in ("__getitem__", "__neg__", "__eq__", "__ne__"):  # the proxy's own, checked like the rest
    setattr(RestrictedTensor, _name, _checked(_name))


def _arithmetic(name: str):
    """The proxy's operator, checking ``broadcasting`` when the other operand is a tensor of another shape."""
    forward = getattr(TensorProxy, name)

    def operator(self: RestrictedTensor, other: Any) -> Any:
        if isinstance(other, TensorProxy) and other.shape != self.shape:
            check("tensor", "broadcasting")
        return forward(self, other)

    operator.__name__ = name
    return operator


for _op in ("add", "sub", "mul", "truediv", "pow"):
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(RestrictedTensor, _name, _arithmetic(_name))


class RestrictedObject:
    """A namespace of the backend (``path`` set) or an object it made (a module, an optimizer, a context).

    In a namespace every attribute is checked against the ``backend`` grants by its dotted path; on an object
    the members the table names are checked against the ``objects`` grants."""

    def __init__(self, target: Any, path: str | None = None) -> None:
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "path", path)

    def __getattr__(self, name: str) -> Any:
        target, path = object.__getattribute__(self, "target"), object.__getattribute__(self, "path")
        if path is None:
            if name in NAMED["objects"]:
                check("objects", name)
            return wrap(getattr(target, name))
        dotted = f"{path}.{name}"
        if dotted not in NAMED["backend"] and any(member.startswith(f"{dotted}.") for member in NAMED["backend"]):
            return RestrictedObject(getattr(target, name), dotted)
        check("backend", dotted)
        return wrap(getattr(target, name))

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "target"), name, unwrap(value))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return wrap(object.__getattribute__(self, "target")(*unwrap(args), **unwrap(kwargs)))

    def __repr__(self) -> str:
        return repr(object.__getattribute__(self, "target"))


class RestrictedFunction:
    """``autograd.Function`` for specs that see restricted tensors: a subclass's static ``forward(ctx, ...)``
    and ``backward(ctx, ...)`` become those of a torch Function, called with views."""

    _function: ClassVar[type[torch.autograd.Function]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._function = engine_function(cls, torch.autograd.Function, context=wrap, wrap=wrap, unwrap=unwrap)

    @classmethod
    def apply(cls, *args: Any) -> Any:
        return wrap(cls._function.apply(*unwrap(args)))


class RestrictedBackend(Backend):
    """torch on the CPU declaring every capability, offering only the members granted now (see :data:`GRANTS`)."""

    engine = "torch"

    def __init__(self) -> None:
        super().__init__("audit")
        self.inner = TorchBackend("cpu")

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("_") or name == "inner" or name in cap.ALWAYS.backend:
            return object.__getattribute__(self, name)
        if name == "for_rank" and os.getpid() != AUDITED_PID:
            # A rank of a distributed spec runs in a process of its own, where the spec's needs are unknown: it
            # gets torch unrestricted, and the audit covers what the spec does in its own process.
            return object.__getattribute__(self, "inner").for_rank
        inner = object.__getattribute__(self, "inner")
        if any(member.startswith(f"{name}.") for member in NAMED["backend"]):
            return RestrictedObject(getattr(inner, name), name)
        check("backend", name)
        return wrap(getattr(inner, name))

    @property
    def capabilities(self) -> frozenset[str]:  # type: ignore[override]
        """Exactly the spec's needs: what the engine seen through this view declares."""
        return frozenset(DECLARED)

    @property
    def engine_version(self) -> str:
        return self.inner.engine_version

    # the always-granted entry points, with views in and out (rand, randn, ones, zeros go through tensor)
    def tensor(self, data: Any, *, requires_grad: bool = False) -> RestrictedTensor:
        if requires_grad:
            check("backend", "tensor(requires_grad=)")
        return wrap(self.inner.tensor(unwrap(data), requires_grad=requires_grad))

    def to_numpy(self, tensor: Any) -> Any:
        return self.inner.to_numpy(unwrap(tensor))


def restrict(needs: frozenset[str]) -> None:
    """Declare ``needs`` and grant exactly what they grant (and what is granted always)."""
    global AUDITED_PID
    AUDITED_PID = os.getpid()
    DECLARED.clear()
    DECLARED.update(needs)
    USED.clear()
    for group in GRANTS:
        GRANTS[group] = cap.granted(needs, group)


def unused(needs: frozenset[str]) -> list[str]:
    """The declared capabilities that grant members of which the spec used none: over-declarations, which
    turn an engine's deviation into "unsupported". Capabilities that grant no member cannot be judged here, nor
    can a distributed spec, which uses what it declares in its ranks, out of the audit's sight."""
    if cap.DISTRIBUTED in needs:
        return []
    return sorted(name for name in needs if (grants := cap.BY_NAME[name].members()) and not grants & USED)


backend = RestrictedBackend


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """Narrow the audit's backend to the spec's declared capabilities (to nothing for a test that is no spec)
    before anything else of the spec runs: the harness's capability check and the fixtures."""
    entry = spec_of(item)
    restrict(entry.needs if entry is not None else frozenset())
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail a spec that passed while declaring a capability it does not use."""
    outcome = yield
    if (entry := spec_of(item)) is not None and (extra := unused(entry.needs)):
        pytest.fail(
            f"declares {', '.join(extra)} but uses none of the members granted: drop it from needs", pytrace=False
        )
    return outcome
