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
translate(
    TinygradTensor,
    lambda name: getattr(import_engine("tinygrad").Tensor, name),
    {name: name for name in ELEMENTWISE.split()},
)


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


def _functional() -> types.SimpleNamespace:
    """torch's ``nn.functional`` operators of resnet18 as tinygrad's own Tensor methods (see the module
    docstring for the two that tinygrad spells differently)."""
    unwrap = TinygradTensor.unwrap

    def conv2d(input: Any, weight: Any, bias: Any = None, stride: int = 1, padding: int = 0) -> TinygradTensor:
        return TinygradTensor(unwrap(input).conv2d(unwrap(weight), unwrap(bias), stride=stride, padding=padding))

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
        return TinygradTensor(x.batchnorm(unwrap(weight), unwrap(bias), mean, (var + eps).rsqrt()))

    def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: int = 0) -> TinygradTensor:
        return TinygradTensor(unwrap(input).max_pool2d(pair(kernel_size), stride, padding=padding))

    def adaptive_avg_pool2d(input: Any, output_size: Any) -> TinygradTensor:
        x, (out_h, out_w) = unwrap(input), pair(output_size)
        height, width = x.shape[-2:]
        if height % out_h or width % out_w:
            raise NotImplementedError(
                f"tinygrad has no adaptive_avg_pool2d; the adapter pools {height}x{width} only to an output size "
                f"that divides it, not {out_h}x{out_w}"
            )
        kernel = (height // out_h, width // out_w)
        return TinygradTensor(x.avg_pool2d(kernel, stride=kernel))

    return types.SimpleNamespace(
        conv2d=conv2d,
        batch_norm=batch_norm,
        relu=lambda input: TinygradTensor(unwrap(input).relu()),
        max_pool2d=max_pool2d,
        adaptive_avg_pool2d=adaptive_avg_pool2d,
        linear=lambda input, weight, bias=None: TinygradTensor(unwrap(input).linear(unwrap(weight).T, unwrap(bias))),
        cross_entropy=lambda input, target: TinygradTensor(unwrap(input).cross_entropy(unwrap(target))),
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
        }
    )
    lacks: ClassVar[dict[str, frozenset[str]]] = {
        cap.UNARY: frozenset(
            [
                "expm1",
                "log1p",
                "sinc",
                "erfc",
                "erfinv",
                "lgamma",
                "digamma",
                "polygamma",
                "mvlgamma",
                "i0",
                "frac",
                "logit",
                "deg2rad",
                "rad2deg",
                "nan_to_num",
            ]
        ),
        cap.BINARY: frozenset(
            ["fmax", "fmin", "atan2", "hypot", "remainder", "addcmul", "addcdiv", "xlogy", "logaddexp2", "float_power"]
        ),
    }
    known_failures_file = Path(__file__).parent / "known_failures" / "tinygrad.json"

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
