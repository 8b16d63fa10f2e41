"""Mutants of operator gradients: one per ``opgrad`` spec, each an operator whose forward is right and whose
backward sends one input twice its gradient (the commonest kind of wrong derivative an engine ships).

The mutants are generated from :data:`WRONG_GRADIENTS`, one line per operator: the name torch's
``__torch_function__`` receives it by, which input's gradient is doubled, and, where two specs exercise the
same operator, the call that is broken (``sum`` with and without ``dim``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend


def with_doubled_gradient(tensor: torch.Tensor) -> torch.Tensor:
    """The same values, whose gradient flows back twice as large."""
    return tensor * 2 - tensor.detach()


def always(args: tuple, kwargs: dict) -> bool:
    return True


@dataclass(frozen=True)
class WrongGradient:
    """``operator`` (as ``__torch_function__`` names it) doubles the gradient of its input ``argument``
    whenever ``when(args, kwargs)`` holds."""

    spec: str
    operator: str
    broken: str
    argument: int = 0
    when: Callable[[tuple, dict], bool] = always

    @property
    def name(self) -> str:
        return f"wrong-grad-{self.spec}"


def with_dim(args: tuple, kwargs: dict) -> bool:
    return "dim" in kwargs or len(args) > 1


def without_dim(args: tuple, kwargs: dict) -> bool:
    return not with_dim(args, kwargs)


def training(args: tuple, kwargs: dict) -> bool:
    return bool(kwargs.get("training"))


def evaluating(args: tuple, kwargs: dict) -> bool:
    return not training(args, kwargs)


def with_bias(args: tuple, kwargs: dict) -> bool:
    return len(args) > 2 and args[2] is not None


def without_bias(args: tuple, kwargs: dict) -> bool:
    return not with_bias(args, kwargs)


# fmt: off
WRONG_GRADIENTS = [
    WrongGradient("conv2d-stride-padding", "conv2d", "conv2d with bias: the weight's gradient", argument=1,
                  when=with_bias),
    WrongGradient("conv2d-no-bias", "conv2d", "conv2d without bias: the input's gradient", when=without_bias),
    WrongGradient("batch-norm-train", "batch_norm", "batch_norm in training mode: the input's gradient",
                  when=training),
    WrongGradient("batch-norm-eval", "batch_norm", "batch_norm in eval mode: the input's gradient",
                  when=evaluating),
    WrongGradient("relu", "relu", "relu: the input's gradient"),
    WrongGradient("max-pool2d", "max_pool2d", "max_pool2d: the input's gradient"),
    WrongGradient("adaptive-avg-pool2d", "adaptive_avg_pool2d", "adaptive_avg_pool2d: the input's gradient"),
    WrongGradient("linear", "linear", "linear: the bias's gradient", argument=2),
    WrongGradient("add-residual", "add", "addition: the second operand's gradient", argument=1),
    WrongGradient("flatten", "flatten", "flatten: the input's gradient"),
    WrongGradient("loss-sum-of-difference", "sub", "subtraction: the first operand's gradient"),
    WrongGradient("cross-entropy", "cross_entropy", "cross_entropy: the logits' gradient"),
    WrongGradient("pow-scalar", "pow", "pow: the base's gradient"),
    WrongGradient("pow-broadcast", "pow", "pow: the exponent's gradient", argument=1),
    WrongGradient("exp", "exp", "exp: the input's gradient"),
    WrongGradient("log", "log", "log: the input's gradient"),
    WrongGradient("sin", "sin", "sin: the input's gradient"),
    WrongGradient("tanh", "tanh", "tanh: the input's gradient"),
    WrongGradient("sigmoid", "sigmoid", "sigmoid: the input's gradient"),
    WrongGradient("mul-broadcast", "mul", "multiplication: the second operand's gradient", argument=1),
    WrongGradient("div-broadcast", "div", "division: the denominator's gradient", argument=1),
    WrongGradient("matmul", "matmul", "matmul: the first operand's gradient"),
    WrongGradient("matmul-batched-broadcast", "matmul", "matmul: the second operand's gradient", argument=1),
    WrongGradient("sum", "sum", "sum over all elements: the input's gradient", when=without_dim),
    WrongGradient("sum-dim-keepdim", "sum", "sum over a dimension: the input's gradient", when=with_dim),
    WrongGradient("mean", "mean", "mean over all elements: the input's gradient", when=without_dim),
    WrongGradient("mean-dims", "mean", "mean over dimensions: the input's gradient", when=with_dim),
]
# fmt: on


class WrongGradientTensor(CorruptedTensor):
    """Tensors on which :attr:`wrong` holds: its operator doubles one input's gradient."""

    wrong: WrongGradient

    @classmethod
    def corrupt(cls, func, args, kwargs):
        if getattr(func, "__name__", None) == cls.wrong.operator and cls.wrong.when(args, kwargs):
            args = list(args)
            args[cls.wrong.argument] = cls.call(with_doubled_gradient, args[cls.wrong.argument])
        return cls.call(func, *args, **kwargs)


def register(wrong: WrongGradient) -> None:
    """Register the mutant that breaks ``opgrad.<spec>`` as ``wrong`` says."""
    tensor_type = type(f"WrongGradient[{wrong.spec}]", (WrongGradientTensor,), {"wrong": wrong})
    backend = type(
        f"WrongGradientBackend[{wrong.spec}]",
        (CorruptedTensorBackend,),
        {"tensor_type": tensor_type, "__doc__": f"{wrong.broken} flows back twice too large."},
    )
    mutant(wrong.name, breaks=f"opgrad.{wrong.spec}")(backend)


for _wrong in WRONG_GRADIENTS:
    register(_wrong)
