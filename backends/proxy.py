"""A thin proxy that gives a third-party engine's tensor torch's spelling of the arithmetic the specs use.

Adapters subclass :class:`TensorProxy` and add the autograd names that differ per engine (``requires_grad``,
``grad``, ``backward``). The proxy only forwards: every result is the engine's own, wrapped again.
"""

from __future__ import annotations

from typing import Any


class TensorProxy:
    """Wraps one engine tensor (``.wrapped``); operators and reductions forward to it and wrap the result."""

    __array_priority__ = 100  # NumPy defers `array * proxy` to the proxy's reflected operator

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    @classmethod
    def unwrap(cls, value: Any) -> Any:
        return value.wrapped if isinstance(value, TensorProxy) else value

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.wrapped.shape)

    def sum(self) -> TensorProxy:
        return type(self)(self.wrapped.sum())

    def mean(self) -> TensorProxy:
        return type(self)(self.wrapped.mean())

    def exp(self) -> TensorProxy:
        return type(self)(self.wrapped.exp())

    def __getitem__(self, index: Any) -> TensorProxy:
        return type(self)(self.wrapped[index])

    def __neg__(self) -> TensorProxy:
        return type(self)(-self.wrapped)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r})"


def _forward(name: str):
    def operator(self: TensorProxy, other: Any) -> TensorProxy:
        return type(self)(getattr(self.wrapped, name)(TensorProxy.unwrap(other)))

    operator.__name__ = name
    return operator


for _op in ("add", "sub", "mul", "truediv", "pow"):
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(TensorProxy, _name, _forward(_name))
