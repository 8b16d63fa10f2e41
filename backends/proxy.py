"""A thin proxy that gives a third-party engine's tensor torch's spelling of the operations the specs use.

Adapters subclass :class:`TensorProxy`, say which class is the engine's tensor (:meth:`engine_tensor_type`),
and add the autograd names that differ per engine (``requires_grad``, ``grad``, ``backward``). The proxy only
forwards: every result is the engine's own, wrapped again when it is one of the engine's tensors and handed
back as it is otherwise (mygrad's ``==`` gives a NumPy array, and so does the proxy).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar


class TensorProxy:
    """Wraps one engine tensor (``.wrapped``); operators and reductions forward to it and wrap the result."""

    __array_priority__ = 100  # NumPy defers `array * proxy` to the proxy's reflected operator
    __hash__ = object.__hash__  # hashed by identity, as torch's tensors are, although `==` is elementwise

    #: the engine's keyword for torch's ``keepdim`` in reductions over dimensions (the dimensions are ``axis``)
    keepdim_keyword: ClassVar[str] = "keepdim"

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    @classmethod
    def engine_tensor_type(cls) -> type:
        """The engine's tensor class: results of this type are wrapped, anything else is returned as is."""
        raise NotImplementedError(f"{cls.__name__} must name the engine's tensor class")

    @classmethod
    def wrap(cls, value: Any) -> Any:
        return cls(value) if isinstance(value, cls.engine_tensor_type()) else value

    @classmethod
    def unwrap(cls, value: Any) -> Any:
        return value.wrapped if isinstance(value, TensorProxy) else value

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.wrapped.shape)

    # --- reductions: torch's dim/keepdim are the engines' axis/keepdim(s) ------------------------------
    def _reduce(self, name: str, dim: Any, keepdim: bool) -> Any:
        reduce = getattr(self.wrapped, name)
        return self.wrap(reduce() if dim is None else reduce(axis=dim, **{self.keepdim_keyword: keepdim}))

    def sum(self, dim: Any = None, keepdim: bool = False) -> Any:
        return self._reduce("sum", dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False) -> Any:
        return self._reduce("mean", dim, keepdim)

    # --- elementwise functions: methods of the engine's tensor unless an adapter says otherwise --------
    def _unary(self, name: str) -> Any:
        """The engine's own ``name`` applied to the wrapped tensor."""
        return getattr(self.wrapped, name)()

    def exp(self) -> Any:
        return self.wrap(self._unary("exp"))

    def log(self) -> Any:
        return self.wrap(self._unary("log"))

    def sin(self) -> Any:
        return self.wrap(self._unary("sin"))

    def sqrt(self) -> Any:
        return self.wrap(self._unary("sqrt"))

    def tanh(self) -> Any:
        return self.wrap(self._unary("tanh"))

    def sigmoid(self) -> Any:
        return self.wrap(self._unary("sigmoid"))

    # --- shape ---------------------------------------------------------------------------------------
    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        return self.wrap(self.wrapped.flatten(start_dim, end_dim))

    def reshape(self, *shape: Any) -> Any:
        return self.wrap(self.wrapped.reshape(*shape))

    def __getitem__(self, index: Any) -> Any:
        """Indexing, with index tensors (advanced indexing) handed to the engine as its own tensors."""
        if isinstance(index, tuple):
            return self.wrap(self.wrapped[tuple(self.unwrap(item) for item in index)])
        return self.wrap(self.wrapped[self.unwrap(index)])

    def __neg__(self) -> Any:
        return self.wrap(-self.wrapped)

    # --- conversion (capability numpy) ---------------------------------------------------------------
    def numpy(self) -> Any:
        return self.wrapped.numpy()

    def item(self) -> Any:
        return self.wrapped.item()

    def tolist(self) -> Any:
        return self.wrapped.tolist()

    def cpu(self) -> TensorProxy:
        """The tensor itself: torch's ``cpu()`` returns the original object when it is already in host memory,
        where these engines keep their tensors."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r})"


def _forward(name: str):
    def operator(self: TensorProxy, other: Any) -> Any:
        return self.wrap(getattr(self.wrapped, name)(TensorProxy.unwrap(other)))

    operator.__name__ = name
    return operator


for _op in ("add", "sub", "mul", "truediv", "pow", "matmul"):
    for _name in (f"__{_op}__", f"__r{_op}__"):
        setattr(TensorProxy, _name, _forward(_name))
for _name in ("__eq__", "__ne__"):
    setattr(TensorProxy, _name, _forward(_name))


def _forward_inplace(name: str):
    """``a += b`` as the engine's own in-place operator; an engine without one gets Python's ``a = a + b``."""

    def operator(self: TensorProxy, other: Any) -> Any:
        inplace = getattr(self.wrapped, name, None)
        if inplace is None:
            return NotImplemented
        result = inplace(TensorProxy.unwrap(other))
        return self if result is self.wrapped else self.wrap(result)

    operator.__name__ = name
    return operator


for _op in ("add", "sub", "mul", "truediv"):
    setattr(TensorProxy, f"__i{_op}__", _forward_inplace(f"__i{_op}__"))


#: torch's elementwise names that NumPy, and the engines that follow it (mygrad, ``jax.numpy``), spell otherwise
NUMPY_SPELLINGS = {
    **{name: f"arc{name[1:]}" for name in ["asin", "acos", "atan", "asinh", "acosh", "atanh"]},
    "atan2": "arctan2",
    "neg": "negative",
}


def numpy_spelling(name: str) -> str:
    """NumPy's name of torch's elementwise ``name``."""
    return NUMPY_SPELLINGS.get(name, name)


def squeezed_dims(shape: Sequence[int], dim: int | Sequence[int]) -> tuple[int, ...]:
    """The dimensions torch's ``squeeze(dim)`` removes from a tensor of ``shape``: those ``dim`` names (one or
    several, negatives from the end) whose size is 1. torch leaves a named dimension of another size as it is, where
    NumPy's squeeze (mygrad's), TensorFlow's and jittor's refuse it."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted({d % len(shape) for d in dims if shape[d] == 1}))


def torch_chunks(tensor: TensorProxy, chunks: int, dim: int = 0) -> list:
    """torch's ``chunk``: parts of ``ceil(size / chunks)`` elements, the last one smaller, as the proxy's ``split`` by
    that size (``jnp.array_split`` balances the parts instead, paddle's ``chunk`` refuses a size ``chunks`` does not
    divide)."""
    return tensor.split(-(-tensor.wrapped.shape[dim] // chunks), dim)


def pair(size: int | tuple[int, int]) -> tuple[int, int]:
    """torch's ``kernel_size=3`` or ``(3, 2)`` of a 2-d operator, as the pair engines that want both take."""
    return (size, size) if isinstance(size, int) else tuple(size)


def translate(proxy: type[TensorProxy], function: Callable[[str], Callable], names: dict[str, str]) -> None:
    """Give ``proxy`` torch's tensor method ``torch_name`` for each ``torch_name: engine_name`` of ``names``: the
    engine's own ``function(engine_name)`` called with the tensor and the arguments as torch's method takes them,
    proxies unwrapped, its result wrapped. Only names: an argument spelled differently needs a method of its own."""
    for torch_name, engine_name in names.items():

        def method(self: TensorProxy, *args: Any, _engine_name: str = engine_name, **kwargs: Any) -> Any:
            unwrap = TensorProxy.unwrap
            result = function(_engine_name)(
                self.wrapped, *map(unwrap, args), **{key: unwrap(value) for key, value in kwargs.items()}
            )
            return self.wrap(result)

        method.__name__ = torch_name
        setattr(proxy, torch_name, method)


def engine_function(
    spec_function: type, base: type, *, context: Callable[[Any], Any], wrap: Callable, unwrap: Callable
) -> type:
    """A subclass of the engine's custom-function class ``base`` (torch's ``autograd.Function``, paddle's
    ``PyLayer``) whose static ``forward(ctx, ...)`` and ``backward(ctx, ...)`` are ``spec_function``'s, called
    with ``context(ctx)`` and wrapped values, and handing the engine unwrapped ones."""

    class Function(base):
        @staticmethod
        def forward(ctx, *args):
            return unwrap(spec_function.forward(context(ctx), *wrap(args)))

        @staticmethod
        def backward(ctx, *grads):
            return unwrap(spec_function.backward(context(ctx), *wrap(grads)))

    Function.__name__ = Function.__qualname__ = spec_function.__name__
    return Function
