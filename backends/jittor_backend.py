"""jittor behind the contract (CPU): a functional engine, differentiated by ``jt.grad``.

jittor has no tape in torch's sense: its ``Var`` has no ``backward()`` and no ``.grad``; gradients come from
``jt.grad(loss, targets)`` (or an optimizer's ``backward(loss)``). It declares what it has: the functional
gradient path (``vjp`` through ``jt.grad``, and ``vjp.second-order``, since ``jt.grad``'s results are ``Var``\\ s
that ``jt.grad`` differentiates again), ``float64``, the tensor math and ``nn.functional``. jittor has no forward
mode, so ``jvp`` is undeclared, and the tape's specs (``requires_grad``, ``.grad``, ``backward()``, in-place
checks) are "unsupported".

Translations: ``vjp(fn, primals, cotangent)`` is ``jt.grad((fn(*primals) * cotangent).sum(), primals)``, the
vector-Jacobian product as the gradient of ``<cotangent, output>`` (``jt.grad`` takes a loss, not a cotangent);
reductions take the dimensions positionally and ``keepdims``; ``sigmoid`` is ``jt.sigmoid``; ``tensor64`` is
``jt.array(data, dtype="float64")`` (``jt.array`` alone makes float64 data float32: ``auto_convert_64_to_32``).
``nn.functional`` is ``jt.nn``'s own operators with torch's signatures: ``conv2d``, ``relu``, ``max_pool2d``,
``linear`` (``[out, in]`` weights, as torch's), ``cross_entropy`` is ``jt.nn.cross_entropy_loss``,
``adaptive_avg_pool2d`` a ``jt.nn.AdaptiveAvgPool2d`` module applied once, ``batch_norm`` is
``jt.nn.batch_norm``, which refuses ``training=True`` in its own words.

Settings: jittor reads its configuration from environment variables when it is imported. Before the first
import the adapter sets two defaults with ``os.environ.setdefault`` (a value the user set wins):
``nvcc_path=""``, because jittor finds an ``nvcc`` on machines without a CUDA runtime and then fails, and
without it would download a CUDA toolkit of its own; and ``use_mkl=0``, because jittor otherwise downloads
oneDNN at import. Its compiled kernels are cached under ``JITTOR_HOME`` (default: the home directory), keyed by
the jittor installation's path; the README's jittor section and the tox env ``jittor`` fix that directory.
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

import numpy as np

from . import capabilities as cap
from .contract import Backend, import_engine
from .proxy import TensorProxy, pair

#: environment defaults jittor needs on a CPU machine, set before its import (see the module docstring)
JITTOR_ENVIRONMENT = {"nvcc_path": "", "use_mkl": "0"}


def _jittor() -> types.ModuleType:
    for name, value in JITTOR_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    return import_engine("jittor")


class JittorTensor(TensorProxy):
    """A jittor ``Var`` seen through torch's names."""

    keepdim_keyword = "keepdims"

    @classmethod
    def engine_tensor_type(cls) -> type:
        return _jittor().Var

    def _reduce(self, name: str, dim: Any, keepdim: bool) -> Any:
        """jittor takes the dimensions of a reduction positionally (its keyword is ``dim`` for one, ``dims`` for
        several)."""
        reduce = getattr(self.wrapped, name)
        return self.wrap(reduce() if dim is None else reduce(dim, keepdims=keepdim))

    def _unary(self, name: str) -> Any:
        return getattr(_jittor(), name)(self.wrapped)


def _functional() -> types.SimpleNamespace:
    """torch's ``nn.functional`` operators of resnet18 as ``jt.nn``'s own (see the module docstring)."""
    jt = _jittor()
    wrap, unwrap = JittorTensor.wrap, JittorTensor.unwrap

    def conv2d(input: Any, weight: Any, bias: Any = None, stride: int = 1, padding: int = 0) -> Any:
        return wrap(jt.nn.conv2d(unwrap(input), unwrap(weight), unwrap(bias), stride=stride, padding=padding))

    def batch_norm(
        input: Any,
        running_mean: Any,
        running_var: Any,
        weight: Any = None,
        bias: Any = None,
        training: bool = False,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Any:
        affine = {name: unwrap(value) for name, value in (("weight", weight), ("bias", bias)) if value is not None}
        return wrap(
            jt.nn.batch_norm(
                unwrap(input),
                unwrap(running_mean),
                unwrap(running_var),
                training=training,
                momentum=momentum,
                eps=eps,
                **affine,
            )
        )

    def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: int = 0) -> Any:
        return wrap(jt.nn.max_pool2d(unwrap(input), kernel_size, stride=stride, padding=padding))

    def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
        return wrap(jt.nn.AdaptiveAvgPool2d(pair(output_size))(unwrap(input)))

    def linear(input: Any, weight: Any, bias: Any = None) -> Any:
        return wrap(jt.nn.linear(unwrap(input), unwrap(weight), unwrap(bias)))

    def cross_entropy(input: Any, target: Any) -> Any:
        return wrap(jt.nn.cross_entropy_loss(unwrap(input), unwrap(target)))

    return types.SimpleNamespace(
        conv2d=conv2d,
        batch_norm=batch_norm,
        relu=lambda input: wrap(jt.nn.relu(unwrap(input))),
        max_pool2d=max_pool2d,
        adaptive_avg_pool2d=adaptive_avg_pool2d,
        linear=linear,
        cross_entropy=cross_entropy,
    )


class JittorBackend(Backend):
    """jittor ``Var``\\ s on the CPU, float32 unless float64 is asked for."""

    engine = "jittor"
    capabilities = frozenset({cap.VJP, cap.SECOND_ORDER, cap.FLOAT64, cap.TENSOR_MATH, cap.FUNCTIONAL})
    known_failures_file = Path(__file__).parent / "known_failures" / "jittor.json"

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self._jt = _jittor()
        self.functional = _functional()

    @property
    def engine_version(self) -> str:
        return self._jt.__version__

    def tensor(self, data: Any, *, requires_grad: bool = False) -> JittorTensor:
        array = np.asarray(data)
        return JittorTensor(self._jt.array(array.astype(np.float32) if array.dtype.kind == "f" else array))

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> JittorTensor:
        return JittorTensor(self._jt.array(np.asarray(data, dtype=np.float64), dtype="float64"))

    def to_numpy(self, tensor: Any) -> np.ndarray:
        return np.array(JittorTensor.unwrap(tensor).numpy(), copy=True)

    def vjp(self, fn: Any, primals: Any, cotangent: Any, *, create_graph: bool = False) -> tuple[Any, list]:
        """``jt.grad`` of ``<cotangent, fn(*primals)>``; its results are ``Var``\\ s that an enclosing ``jt.grad``
        differentiates again, so ``create_graph`` has nothing to add."""
        inputs = [JittorTensor.unwrap(primal) for primal in primals]
        output = JittorTensor.unwrap(fn(*map(JittorTensor, inputs)))
        gradients = self._jt.grad((output * JittorTensor.unwrap(cotangent)).sum(), inputs)
        return JittorTensor(output), [JittorTensor(gradient) for gradient in gradients]

    def seed(self, seed: int) -> None:
        self._jt.set_global_seed(seed)

    def global_state(self) -> dict[str, Any]:
        """jittor's flags a spec could change: whether it runs on CUDA and whether gradients are recorded."""
        return {"use_cuda": self._jt.flags.use_cuda, "no_grad": self._jt.flags.no_grad}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        self._jt.flags.use_cuda = snapshot["use_cuda"]
        self._jt.flags.no_grad = snapshot["no_grad"]
