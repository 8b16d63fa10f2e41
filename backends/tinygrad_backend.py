"""tinygrad behind the contract, on its pure-Python device (no compiler needed).

tinygrad 0.14 has no ``requires_grad`` flag: its tensors hold only ``uop``, ``is_param`` (whether an optimizer
updates it, not whether it gets a gradient) and ``grad``, and ``backward()`` fills ``.grad`` of every
floating-point tensor the result was computed from. The proxy therefore reports ``requires_grad`` as
tinygrad decides it (true for every float tensor), ignores the request when creating one, and has nothing to
set: specs about tensors excluded from the graph fail, and the failures are listed in
``known_failures/tinygrad.json``.

Translations: ``nn.Linear``/``nn.Conv2d`` are tinygrad's own layers, ``nn.Sequential`` is a list of them run
by ``Tensor.sequential`` (tinygrad's way to chain layers) and ``named_parameters()`` is
``nn.state.get_state_dict``; ``autograd.grad`` is ``Tensor.gradient``, which leaves ``.grad`` alone and whose
results are always part of the graph (tinygrad has no ``create_graph`` switch, so the argument changes
nothing). ``nn.functional`` is tinygrad's Tensor methods (``conv2d``, ``relu``, ``max_pool2d``, ``linear`` with
the weight transposed to tinygrad's ``[in, out]``, ``cross_entropy``); two are spelled differently:
``batch_norm`` is ``Tensor.batchnorm``, which takes a mean and an inverse standard deviation, computed from
the batch in training mode (running statistics updated with ``assign``) and from the running ones in eval
mode, and ``adaptive_avg_pool2d``, which tinygrad lacks, is ``avg_pool2d`` with the kernel the output size
implies (an output size that does not divide the input is refused).

Elementwise functions (``tensor.unary``, ``tensor.binary``) are tinygrad's Tensor methods of torch's names
(``clamp``'s bounds are ``min_`` and ``max_``); those tinygrad lacks are listed in ``lacks``.

Operator families: activations, convolutions, pooling, normalization, layers, losses, reductions, shapes, indexing
and ``functions`` are declared, each member being tinygrad's Tensor method of torch's name where one exists. The
translations that are more than a name: torch's ``dim`` is ``axis``; ``conv1d``/``conv3d`` are tinygrad's
``conv2d`` and ``conv_transpose1d``/``3d`` its ``conv_transpose2d`` (both work over every dimension after the
channels), ``padding="same"`` the explicit padding it means; ``avg_pool1d``/``3d`` and ``max_pool1d``/``3d`` are
``avg_pool2d``/``max_pool2d`` with a kernel of that many dimensions; ``layer_norm``, ``group_norm`` and
``instance_norm`` are ``Tensor.layernorm`` followed by the affine step tinygrad's ``nn.LayerNorm``/``GroupNorm``/
``InstanceNorm`` apply, ``rms_norm`` and ``embedding`` are ``nn.RMSNorm`` and ``nn.Embedding`` holding the given
weight; ``max``/``min`` over a dimension are ``max``/``min`` with ``argmax``/``argmin`` (torch's values and
indices), ``amax``/``amin`` are ``max``/``min``; ``t``, ``mT`` and ``swapaxes`` are ``transpose``, ``movedim``
a ``permute``, ``fliplr``/``flipud`` ``flip``, ``tile`` ``repeat``, ``narrow`` ``shrink``, ``expand_as`` and
``ops.broadcast_to`` ``expand``; ``scatter_add`` is ``scatter_reduce(..., "sum")`` (what tinygrad's own
``scatter(reduce="add")`` calls), ``index_select`` indexing along the dimension, ``take_along_dim``
``gather``; ``ops.cat``/``stack`` are methods of the first tensor, ``ops.where`` of the condition,
``ops.bmm``/``mm``/``mv`` are ``matmul``.

Lacked, because tinygrad has no such operator: the members listed in ``lacks``. Lacked although tinygrad has the
operator, because an entry of the catalogue needs an option it does not have: ``softplus`` (no ``threshold``),
``interpolate`` (no ``bicubic`` or ``area`` mode; ``nearest`` and ``linear`` exist), ``scaled_dot_product_attention``
(no ``scale``), and among the losses ``cross_entropy`` and ``binary_cross_entropy`` (no class ``weight``;
``cross_entropy`` stays declared in ``nn.functional`` for the training step). ``linalg`` is not declared: tinygrad
has ``svd`` and ``qr`` and none of the catalogue's members.

Not declared: ``models.resnet18`` (not in the tinygrad package, and far too slow on the PYTHON device),
``optim.sgd`` (tinygrad's SGD has no ``param_groups``; no spec uses it without resnet18 anyway),
``grad_mode`` and its switches, ``inplace`` (``assign`` and ``__setitem__`` exist, ``.data`` as a tensor does
not), ``graph``, ``retain_graph`` (the graph is never freed; there is no switch), ``retain_grad``, hooks and
``threads``.

Tensors are created on the ``PYTHON`` device, which interprets kernels in Python and runs anywhere, unless
``DEV`` names another (``DEV=CPU`` needs clang). PYTHON and CPU keep tensors in host memory, so the backend's
torch-style device is ``cpu`` there; :meth:`TinygradBackend.describe` names the tinygrad device.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from . import capabilities as cap
from .capabilities import _members
from .contract import Backend, import_engine
from .proxy import TensorProxy, pair, translate

#: tinygrad devices whose buffers live in host memory
HOST_DEVICES = ("PYTHON", "CPU")


class TinygradTensor(TensorProxy):
    """A tinygrad tensor seen through torch's names (``requires_grad``, ``backward(gradient=...)``, ``.grad``)."""

    @classmethod
    def engine_tensor_type(cls) -> type:
        return import_engine("tinygrad").Tensor

    @property
    def requires_grad(self) -> bool:
        return self.wrapped.is_floating_point()

    @property
    def grad(self) -> TinygradTensor | None:
        grad = self.wrapped.grad
        return None if grad is None else TinygradTensor(grad)

    def backward(self, gradient: Any = None) -> None:
        self.wrapped.backward(None if gradient is None else self.unwrap(gradient))

    def detach(self) -> TinygradTensor:
        return TinygradTensor(self.wrapped.detach())

    def cpu(self) -> TinygradTensor:
        if self.wrapped.device in HOST_DEVICES:
            return self
        return TinygradTensor(self.wrapped.to("CPU"))

    def clamp(self, min: Any = None, max: Any = None) -> TinygradTensor:
        """tinygrad spells the bounds ``min_`` and ``max_``."""
        return TinygradTensor(self.wrapped.clamp(self.unwrap(min), self.unwrap(max)))


#: torch's elementwise tensor methods that tinygrad's tensors have under the same names
ELEMENTWISE = (
    "abs cos cosh tan sinh asin acos atan asinh acosh atanh rsqrt reciprocal square erf exp2 log2 log10 relu neg "
    "maximum minimum fmod lerp logaddexp copysign"
)
#: torch's shape and indexing tensor methods that tinygrad's tensors have under the same names and signatures
SAME_SIGNATURE = (
    "view permute transpose expand unsqueeze flip roll repeat contiguous unflatten diagonal diag tril "
    "triu unfold repeat_interleave gather scatter scatter_reduce masked_fill masked_select"
)
translate(
    TinygradTensor,
    lambda name: getattr(import_engine("tinygrad").Tensor, name),
    {name: name for name in (ELEMENTWISE + " " + SAME_SIGNATURE).split()},
)


def _tensor(function):
    """A method of :class:`TinygradTensor` from ``function(tinygrad_tensor, *args, **kwargs)``, proxies among the
    arguments unwrapped and tinygrad results (alone or in a tuple, as torch's ``(values, indices)``) wrapped."""

    def method(self: TinygradTensor, *args: Any, **kwargs: Any) -> Any:
        unwrap = TinygradTensor.unwrap
        result = function(self.wrapped, *map(unwrap, args), **{key: unwrap(value) for key, value in kwargs.items()})
        if isinstance(result, tuple | list):
            return tuple(TinygradTensor.wrap(item) for item in result)
        return TinygradTensor.wrap(result)

    method.__name__ = function.__name__
    return method


def _values_and_indices(name: str, arg: str):
    """torch's ``max``/``min``: of all elements, a value; over ``dim``, the values and their indices, which
    tinygrad computes with ``max``/``min`` and ``argmax``/``argmin`` over the axis."""

    def reduce(x, dim=None, keepdim=False):
        if dim is None:
            return getattr(x, name)()
        return getattr(x, name)(axis=dim, keepdim=keepdim), getattr(x, arg)(axis=dim, keepdim=keepdim)

    reduce.__name__ = name
    return reduce


def _moved(ndim: int, source: int, destination: int) -> list[int]:
    """The permutation that moves dimension ``source`` to ``destination`` (torch's ``movedim`` as a ``permute``)."""
    order = [dim for dim in range(ndim) if dim != source % ndim]
    order.insert(destination % ndim, source % ndim)
    return order


#: torch's reductions, shape and indexing methods whose arguments tinygrad spells otherwise (``dim`` is ``axis``)
for _name, _function in {
    "prod": lambda x, dim=None, keepdim=False: x.prod(axis=dim, keepdim=keepdim),
    "amax": lambda x, dim=(), keepdim=False: x.max(axis=dim if dim != () else None, keepdim=keepdim),
    "amin": lambda x, dim=(), keepdim=False: x.min(axis=dim if dim != () else None, keepdim=keepdim),
    "max": _values_and_indices("max", "argmax"),
    "min": _values_and_indices("min", "argmin"),
    "std": lambda x, dim=None, *, correction=1, keepdim=False: x.std(axis=dim, keepdim=keepdim, correction=correction),
    "var": lambda x, dim=None, *, correction=1, keepdim=False: x.var(axis=dim, keepdim=keepdim, correction=correction),
    "logsumexp": lambda x, dim, keepdim=False: x.logsumexp(axis=dim, keepdim=keepdim),
    "cumsum": lambda x, dim: x.cumsum(axis=dim),
    "cumprod": lambda x, dim: x.cumprod(axis=dim),
    "cummax": lambda x, dim: x.cummax(axis=dim),
    "cummin": lambda x, dim: x.cummin(axis=dim),
    "logcumsumexp": lambda x, dim: x.logcumsumexp(axis=dim),
    "squeeze": lambda x, dim=None: x.squeeze(dim),
    "split": lambda x, split_size_or_sections, dim=0: x.split(split_size_or_sections, dim),
    "chunk": lambda x, chunks, dim=0: x.chunk(chunks, dim),
    "t": lambda x: x.transpose() if x.ndim == 2 else x,  # torch's t() of a vector (or a 0-d tensor) is itself
    "swapaxes": lambda x, axis0, axis1: x.transpose(axis0, axis1),
    "expand_as": lambda x, other: x.expand(other.shape),
    "fliplr": lambda x: x.flip(1),
    "flipud": lambda x: x.flip(0),
    "tile": lambda x, dims: x.repeat((1,) * (x.ndim - len(dims)) + tuple(dims)),
    "narrow": lambda x, dim, start, length: x.shrink(
        tuple((start, start + length) if d == dim % x.ndim else None for d in range(x.ndim))
    ),
    "movedim": lambda x, source, destination: x.permute(_moved(x.ndim, source, destination)),
    "scatter_add": lambda x, dim, index, src: x.scatter_reduce(dim, index, src, "sum"),
    "index_select": lambda x, dim, index: x[(slice(None),) * (dim % x.ndim) + (index,)],
    "take_along_dim": lambda x, indices, dim: x.gather(dim, indices),
}.items():
    _function.__name__ = _name
    setattr(TinygradTensor, _name, _tensor(_function))
TinygradTensor.mT = property(lambda self: TinygradTensor(self.wrapped.transpose(-2, -1)))


class TinygradModule:
    """A tinygrad layer, or for ``Sequential`` a list of layers, called on proxies and naming its parameters."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def __call__(self, input: Any) -> TinygradTensor:
        x = TinygradTensor.unwrap(input)
        return TinygradTensor(x.sequential(self.module) if isinstance(self.module, list) else self.module(x))

    def named_parameters(self) -> list[tuple[str, TinygradTensor]]:
        from tinygrad.nn.state import get_state_dict

        return [(name, TinygradTensor(tensor)) for name, tensor in get_state_dict(self.module).items()]

    def parameters(self) -> list[TinygradTensor]:
        return [tensor for _, tensor in self.named_parameters()]


def _same_padding(weight: Any, dilation: Any) -> list[int]:
    """torch's ``padding="same"`` as the explicit padding tinygrad takes, ``[left, right]`` per spatial dimension
    in its order (torch puts the extra element of an even kernel on the right)."""
    dims = weight.ndim - 2
    pads = []
    for size, step in zip(weight.shape[2:], (dilation,) * dims if isinstance(dilation, int) else dilation, strict=True):
        total = step * (size - 1)
        pads.append((total // 2, total - total // 2))
    return [side for pair_ in reversed(pads) for side in pair_]


def _functional() -> types.SimpleNamespace:
    """torch's ``nn.functional`` as tinygrad's own Tensor methods (see the module docstring for those that tinygrad
    spells differently)."""
    unwrap, wrap = TinygradTensor.unwrap, TinygradTensor

    def conv(
        input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1
    ) -> TinygradTensor:
        """conv1d, conv2d and conv3d: tinygrad's ``conv2d`` convolves over every dimension after the channels."""
        w = unwrap(weight)
        pads = _same_padding(w, dilation) if padding == "same" else padding
        return wrap(
            unwrap(input).conv2d(w, unwrap(bias), groups=groups, stride=stride, dilation=dilation, padding=pads)
        )

    def conv_transpose(
        input: Any,
        weight: Any,
        bias: Any = None,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        dilation: Any = 1,
    ) -> TinygradTensor:
        """conv_transpose1d/2d/3d: tinygrad's ``conv_transpose2d``, over every dimension after the channels."""
        return wrap(
            unwrap(input).conv_transpose2d(
                unwrap(weight),
                unwrap(bias),
                groups=groups,
                stride=stride,
                dilation=dilation,
                padding=padding,
                output_padding=output_padding,
            )
        )

    def pooling(name: str, dims: int):
        """avg_pool{dims}d or max_pool{dims}d: tinygrad's ``avg_pool2d``/``max_pool2d``, which pool over as many
        trailing dimensions as the kernel has; torch's single size stands for all of them."""

        def kernel(size: Any) -> tuple[int, ...]:
            return (size,) * dims if isinstance(size, int) else tuple(size)

        def avg_pool(
            input: Any,
            kernel_size: Any,
            stride: Any = None,
            padding: Any = 0,
            ceil_mode: bool = False,
            count_include_pad: bool = True,
        ) -> TinygradTensor:
            return wrap(
                unwrap(input).avg_pool2d(
                    kernel(kernel_size),
                    stride=stride,
                    padding=padding,
                    ceil_mode=ceil_mode,
                    count_include_pad=count_include_pad,
                )
            )

        def max_pool(
            input: Any,
            kernel_size: Any,
            stride: Any = None,
            padding: Any = 0,
            dilation: Any = 1,
            ceil_mode: bool = False,
        ) -> TinygradTensor:
            return wrap(
                unwrap(input).max_pool2d(
                    kernel(kernel_size), stride=stride, dilation=dilation, padding=padding, ceil_mode=ceil_mode
                )
            )

        return avg_pool if name == "avg" else max_pool

    def batch_norm(
        input: Any,
        running_mean: Any,
        running_var: Any,
        weight: Any = None,
        bias: Any = None,
        training: bool = False,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> TinygradTensor:
        x = unwrap(input)
        axes = (0, *range(2, x.ndim))
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes, correction=0)
            for running, batch in ((running_mean, mean), (running_var, x.var(axis=axes))):
                if running is not None:
                    running = unwrap(running)
                    running.assign(running * (1 - momentum) + batch.detach() * momentum)
        else:
            mean, var = unwrap(running_mean), unwrap(running_var)
        return wrap(x.batchnorm(unwrap(weight), unwrap(bias), mean, (var + eps).rsqrt()))

    def affine(x: Any, weight: Any, bias: Any, per_channel: bool) -> TinygradTensor:
        """The affine step of tinygrad's ``nn.LayerNorm``/``GroupNorm``/``InstanceNorm`` after their ``layernorm``,
        each factor applied when given (those layers take both or neither), over the channels if ``per_channel``."""

        def shaped(parameter: Any) -> Any:
            parameter = unwrap(parameter)
            return parameter.reshape(1, -1, *[1] * (x.ndim - 2)) if per_channel else parameter

        x = x if weight is None else x * shaped(weight)
        return wrap(x if bias is None else x + shaped(bias))

    def layer_norm(
        input: Any, normalized_shape: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5
    ) -> TinygradTensor:
        axes = tuple(range(-len(tuple(normalized_shape)), 0))
        return affine(unwrap(input).layernorm(axis=axes, eps=eps), weight, bias, per_channel=False)

    def group_norm(
        input: Any, num_groups: int, weight: Any = None, bias: Any = None, eps: float = 1e-5
    ) -> TinygradTensor:
        x = unwrap(input)
        normalized = x.reshape(x.shape[0], num_groups, -1).layernorm(eps=eps).reshape(x.shape)
        return affine(normalized, weight, bias, per_channel=True)

    def instance_norm(
        input: Any,
        running_mean: Any = None,
        running_var: Any = None,
        weight: Any = None,
        bias: Any = None,
        use_input_stats: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> TinygradTensor:
        if running_mean is not None or running_var is not None or not use_input_stats:
            raise NotImplementedError("tinygrad's InstanceNorm has no running statistics")
        x = unwrap(input)
        return group_norm(input, x.shape[1], weight, bias, eps)

    def rms_norm(input: Any, normalized_shape: Any, weight: Any = None, eps: float | None = None) -> TinygradTensor:
        """tinygrad's ``nn.RMSNorm`` with the given weight; torch's default ``eps`` is the dtype's epsilon."""
        from tinygrad import nn

        x = unwrap(input)
        if len(tuple(normalized_shape)) != 1:
            raise NotImplementedError("tinygrad's RMSNorm normalizes the last dimension only")
        norm = nn.RMSNorm(
            x.shape[-1],
            eps=np.finfo(np.dtype(x.dtype.fmt)).eps if eps is None else eps,
            elementwise_affine=weight is not None,
        )
        norm.weight = unwrap(weight)
        return wrap(norm(x))

    def embedding(input: Any, weight: Any) -> TinygradTensor:
        from tinygrad import nn

        table = nn.Embedding(*unwrap(weight).shape)
        table.weight = unwrap(weight)
        return wrap(table(unwrap(input)))

    def pad(input: Any, pad: Any, mode: str = "constant", value: float | None = None) -> TinygradTensor:
        return wrap(unwrap(input).pad(tuple(pad), mode=mode, value=0.0 if value is None else value))

    def adaptive_avg_pool2d(input: Any, output_size: Any) -> TinygradTensor:
        x, (out_h, out_w) = unwrap(input), pair(output_size)
        height, width = x.shape[-2:]
        if height % out_h or width % out_w:
            raise NotImplementedError(
                f"tinygrad has no adaptive_avg_pool2d; the adapter pools {height}x{width} only to an output size "
                f"that divides it, not {out_h}x{out_w}"
            )
        kernel = (height // out_h, width // out_w)
        return wrap(x.avg_pool2d(kernel, stride=kernel))

    def cross_entropy(
        input: Any,
        target: Any,
        weight: Any = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> TinygradTensor:
        """tinygrad's ``cross_entropy`` takes class indices or probabilities, but no class weights and no ignored
        class (``functional.cross_entropy`` is lacked among the losses for that)."""
        if weight is not None:
            raise NotImplementedError("tinygrad's cross_entropy has no class weights")
        return wrap(unwrap(input).cross_entropy(unwrap(target), reduction=reduction, label_smoothing=label_smoothing))

    def nll_loss(
        input: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> TinygradTensor:
        return wrap(unwrap(input).nll_loss(unwrap(target), unwrap(weight), ignore_index, reduction))

    def binary_cross_entropy_with_logits(
        input: Any, target: Any, weight: Any = None, reduction: str = "mean", pos_weight: Any = None
    ) -> TinygradTensor:
        if weight is not None:
            raise NotImplementedError("tinygrad's binary_crossentropy_logits has no weight (only pos_weight)")
        return wrap(unwrap(input).binary_crossentropy_logits(unwrap(target), reduction, unwrap(pos_weight)))

    def method(name: str, **renamed: str):
        """torch's ``functional.<torch name>(input, ...)`` as tinygrad's ``input.<name>(...)``, keyword arguments
        renamed as ``renamed`` says (torch's name: tinygrad's)."""

        def function(input: Any, *args: Any, **kwargs: Any) -> TinygradTensor:
            kwargs = {renamed.get(key, key): unwrap(value) for key, value in kwargs.items()}
            return wrap(getattr(unwrap(input), name)(*map(unwrap, args), **kwargs))

        return function

    return types.SimpleNamespace(
        conv1d=conv,
        conv2d=conv,
        conv3d=conv,
        conv_transpose1d=conv_transpose,
        conv_transpose2d=conv_transpose,
        conv_transpose3d=conv_transpose,
        avg_pool1d=pooling("avg", 1),
        avg_pool2d=pooling("avg", 2),
        avg_pool3d=pooling("avg", 3),
        max_pool1d=pooling("max", 1),
        max_pool2d=pooling("max", 2),
        max_pool3d=pooling("max", 3),
        adaptive_avg_pool2d=adaptive_avg_pool2d,
        batch_norm=batch_norm,
        layer_norm=layer_norm,
        group_norm=group_norm,
        instance_norm=instance_norm,
        rms_norm=rms_norm,
        normalize=method("normalize"),
        embedding=embedding,
        pad=pad,
        linear=lambda input, weight, bias=None: wrap(unwrap(input).linear(unwrap(weight).T, unwrap(bias))),
        relu=method("relu"),
        gelu=lambda input, approximate="none": wrap(unwrap(input).gelu(approximate=approximate)),
        silu=method("silu"),
        elu=method("elu"),
        selu=method("selu"),
        celu=method("celu"),
        leaky_relu=method("leaky_relu", negative_slope="neg_slope"),
        hardtanh=method("hardtanh"),
        relu6=method("relu6"),
        hardswish=method("hardswish"),
        hardsigmoid=method("hardsigmoid"),
        mish=method("mish"),
        logsigmoid=method("logsigmoid"),
        softsign=method("softsign"),
        sigmoid=method("sigmoid"),
        tanh=method("tanh"),
        softmax=method("softmax", dim="axis"),
        log_softmax=method("log_softmax", dim="axis"),
        softmin=method("softmin", dim="axis"),
        cross_entropy=cross_entropy,
        nll_loss=nll_loss,
        binary_cross_entropy_with_logits=binary_cross_entropy_with_logits,
    )


def _ops() -> types.SimpleNamespace:
    """torch's top-level functions of the ``functions`` family as tinygrad's: ``cat``/``stack`` are methods of
    the first tensor, ``where`` of the condition, ``bmm``/``mm``/``mv`` are ``matmul``, ``broadcast_to`` is
    ``expand`` and ``clamp`` takes its bounds as ``min_``/``max_``."""
    unwrap, wrap = TinygradTensor.unwrap, TinygradTensor
    tensor = import_engine("tinygrad").Tensor

    def cat(tensors: Any, dim: int = 0) -> TinygradTensor:
        first, *rest = map(unwrap, tensors)
        return wrap(first.cat(*rest, dim=dim))

    def stack(tensors: Any, dim: int = 0) -> TinygradTensor:
        first, *rest = map(unwrap, tensors)
        return wrap(first.stack(*rest, dim=dim))

    def matmul(input: Any, other: Any) -> TinygradTensor:
        return wrap(unwrap(input).matmul(unwrap(other)))

    return types.SimpleNamespace(
        cat=cat,
        stack=stack,
        where=lambda condition, input, other: wrap(unwrap(condition).where(unwrap(input), unwrap(other))),
        einsum=lambda equation, *operands: wrap(tensor.einsum(equation, *map(unwrap, operands))),
        bmm=matmul,
        mm=matmul,
        mv=matmul,
        dot=lambda input, other: wrap(unwrap(input).dot(unwrap(other))),
        broadcast_to=lambda input, size: wrap(unwrap(input).expand(tuple(size))),
        clamp=lambda input, min=None, max=None: wrap(unwrap(input).clamp(unwrap(min), unwrap(max))),
    )


def _autograd_grad(outputs: Any, inputs: Any, grad_outputs: Any = None, create_graph: bool = False):
    """``Tensor.gradient``: the gradients of ``outputs`` w.r.t. ``inputs``, ``.grad`` untouched. Its results
    are always part of the graph, so ``create_graph`` has nothing to switch."""
    targets = [inputs] if isinstance(inputs, TensorProxy) else list(inputs)
    gradient = None if grad_outputs is None else TinygradTensor.unwrap(grad_outputs)
    grads = TinygradTensor.unwrap(outputs).gradient(*map(TinygradTensor.unwrap, targets), gradient=gradient)
    return tuple(TinygradTensor(grad) for grad in grads)


class TinygradBackend(Backend):
    """tinygrad tensors on one tinygrad device, float32 like torch's default."""

    engine = "tinygrad"
    capabilities = frozenset(
        {
            cap.AUTOGRAD,
            cap.DETACH,
            cap.NUMPY,
            cap.TENSOR_MATH,
            cap.NN,
            cap.FUNCTIONAL,
            cap.AUTOGRAD_GRAD,
            cap.FLOAT64,
            cap.UNARY,
            cap.BINARY,
            cap.ACTIVATIONS,
            cap.CONVOLUTIONS,
            cap.POOLING,
            cap.NORMALIZATION,
            cap.LAYERS,
            cap.LOSSES,
            cap.REDUCTIONS,
            cap.SHAPES,
            cap.INDEXING,
            cap.FUNCTIONS,
        }
    )
    #: what tinygrad does not have (see the module docstring for the members lacked for an option)
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset(
            _members(
                "",
                "expm1 log1p sinc erfc erfinv lgamma digamma polygamma mvlgamma i0 frac logit deg2rad rad2deg "
                "nan_to_num",
            )
        ),
        cap.BINARY: frozenset(
            _members("", "fmax fmin atan2 hypot remainder addcmul addcdiv xlogy logaddexp2 float_power")
        ),
        cap.ACTIVATIONS: frozenset(
            _members("functional.", "softplus tanhshrink softshrink hardshrink glu prelu threshold")
        ),
        cap.POOLING: frozenset(
            _members(
                "functional.",
                "adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d "
                "adaptive_max_pool2d lp_pool1d lp_pool2d",
            )
        ),
        cap.NORMALIZATION: frozenset(_members("functional.", "local_response_norm")),
        cap.LAYERS: frozenset(
            _members(
                "functional.",
                "interpolate scaled_dot_product_attention bilinear pixel_shuffle pixel_unshuffle unfold fold "
                "cosine_similarity pairwise_distance grid_sample affine_grid",
            )
        ),
        cap.LOSSES: frozenset(
            _members(
                "functional.",
                "mse_loss l1_loss smooth_l1_loss huber_loss cross_entropy binary_cross_entropy kl_div "
                "poisson_nll_loss gaussian_nll_loss soft_margin_loss margin_ranking_loss hinge_embedding_loss "
                "cosine_embedding_loss triplet_margin_loss multilabel_soft_margin_loss multi_margin_loss",
            )
        ),
        cap.REDUCTIONS: frozenset(_members("", "norm median nansum nanmean trace diff dist")),
        cap.SHAPES: frozenset(_members("", "unbind diag_embed rot90 tensor_split")),
        cap.INDEXING: frozenset(_members("", "index_add index_copy index_fill take put index_put")),
        cap.FUNCTIONS: frozenset(
            _members(
                "ops.",
                "hstack vstack dstack baddbmm addmm addmv outer inner kron tensordot cdist cross block_diag "
                "cartesian_prod atleast_2d column_stack trapezoid cumulative_trapezoid logdet",
            )
        ),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "tinygrad.json"
    findings_file = Path(__file__).parent / "findings" / "tinygrad.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._tinygrad = import_engine("tinygrad")
        from tinygrad import nn
        from tinygrad.helpers import DEV

        if not DEV.device:
            DEV.value = "PYTHON"
        self._dev = DEV
        self.nn = types.SimpleNamespace(
            Linear=lambda *args, **kwargs: TinygradModule(nn.Linear(*args, **kwargs)),
            Conv2d=lambda *args, **kwargs: TinygradModule(nn.Conv2d(*args, **kwargs)),
            Sequential=lambda *layers: TinygradModule([layer.module for layer in layers]),
        )
        self.functional = _functional()
        self.ops = _ops()
        self.autograd = types.SimpleNamespace(grad=_autograd_grad)

    @property
    def engine_version(self) -> str:
        from importlib.metadata import version

        return version("tinygrad")

    @property
    def device(self) -> str:
        return "cpu" if self._dev.device in HOST_DEVICES else f"tinygrad:{self._dev.device}"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "tinygrad_device": self._dev.device}

    def tensor(self, data: Any, *, requires_grad: bool = False) -> TinygradTensor:
        array = np.asarray(data)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        return TinygradTensor(self._tinygrad.Tensor(array))

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> TinygradTensor:
        return TinygradTensor(self._tinygrad.Tensor(np.asarray(data, dtype=np.float64)))

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return np.array(TinygradTensor.unwrap(tensor).numpy(), copy=True)

    def seed(self, seed: int) -> None:
        self._tinygrad.Tensor.manual_seed(seed)

    def global_state(self) -> dict[str, Any]:
        return {"tinygrad.DEV": self._dev.value}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        self._dev.value = snapshot["tinygrad.DEV"]
