"""Tensor-level mutants: torch with one documented autograd behaviour broken (see corrupted_tensors)."""

from __future__ import annotations

import contextlib
import re
from typing import Any, ClassVar

import numpy as np
import torch

from ..torch_backend import TorchBackend
from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend, reads

#: torch's in-place methods: add_, zero_, __iadd__, ...
IN_PLACE_METHOD = re.compile(
    r"[a-z][a-z0-9_]*[a-z0-9]_|__i(add|sub|mul|truediv|floordiv|mod|pow|matmul|and|or|xor|lshift|rshift)__"
)


def leaves_of(root: torch.Tensor) -> list[torch.Tensor]:
    """The leaf tensors that backward from ``root`` accumulates into."""
    leaves, pending, seen = [], [root.grad_fn], set()
    while pending:
        node = pending.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if hasattr(node, "variable"):
            leaves.append(node.variable)
        pending.extend(function for function, _ in node.next_functions)
    return leaves


class DoubledGradients(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "grad") and result is not None:
            return cls.call(torch.mul, result, 2)
        return result


@mutant("doubled-gradients", breaks="grad.external-gradient")
class DoubledGradientsBackend(CorruptedTensorBackend):
    """.grad reads twice the gradient autograd computed."""

    tensor_type = DoubledGradients


class ImplicitVectorGradient(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.backward and len(args) == 1 and kwargs.get("gradient") is None:
            (output,) = args
            kwargs = {**kwargs, "gradient": cls.call(torch.ones_like, output)}
        return cls.call(func, *args, **kwargs)


@mutant("implicit-vector-gradient", breaks="grad.vector-backward-needs-gradient")
class ImplicitVectorGradientBackend(CorruptedTensorBackend):
    """backward() on a vector without gradient silently uses ones instead of refusing."""

    tensor_type = ImplicitVectorGradient


class OverwrittenGradients(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.backward:
            for leaf in leaves_of(args[0]):
                leaf.grad = None
        return cls.call(func, *args, **kwargs)


@mutant("overwritten-gradients", breaks="grad.accumulates")
class OverwrittenGradientsBackend(CorruptedTensorBackend):
    """Each backward replaces the leaves' .grad instead of accumulating into it."""

    tensor_type = OverwrittenGradients


class UnpropagatedRequiresGrad(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        inputs = [arg for arg in args if isinstance(arg, torch.Tensor)]
        if isinstance(result, torch.Tensor) and len(inputs) > 1 and not all(t.requires_grad for t in inputs):
            return cls.call(torch.Tensor.detach, result)
        return result


@mutant("unpropagated-requires-grad", breaks="requires_grad.propagation")
class UnpropagatedRequiresGradBackend(CorruptedTensorBackend):
    """The result of an operation requires grad only if every tensor input does."""

    tensor_type = UnpropagatedRequiresGrad


class LeafGradFn(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "grad_fn") and result is None:
            return cls.call(torch.Tensor.clone, args[0]).grad_fn
        return result


@mutant("leaf-grad-fn", breaks="graph.leaf")
class LeafGradFnBackend(CorruptedTensorBackend):
    """Leaves that require grad report a grad_fn (that of a copy) instead of None."""

    tensor_type = LeafGradFn


class FrozenVersion(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        return 0 if reads(func, "_version") else cls.call(func, *args, **kwargs)


@mutant("frozen-version", breaks="inplace.version-counter")
class FrozenVersionBackend(CorruptedTensorBackend):
    """_version stays 0 whatever in-place operations do."""

    tensor_type = FrozenVersion


class UncheckedSavedTensors(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.__setitem__ and not cls.attribute(args[0], "is_leaf"):
            target, *rest = args
            # .data has a version counter of its own: the write reaches the storage, the check never sees it
            return cls.call(func, cls.attribute(target, "data"), *rest, **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("unchecked-saved-tensors", breaks="inplace.saved-tensor-modified")
class UncheckedSavedTensorsBackend(CorruptedTensorBackend):
    """Item assignment to a computed tensor goes around its version counter, so a tensor saved for backward
    can change unnoticed and backward computes with the new values."""

    tensor_type = UncheckedSavedTensors


class LeafInPlaceAllowed(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if IN_PLACE_METHOD.fullmatch(getattr(func, "__name__", "")) and args and cls.is_leaf_requiring_grad(args[0]):
            with torch.no_grad():
                return cls.call(func, *args, **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("leaf-in-place-allowed", breaks="inplace.leaf-inplace-error")
class LeafInPlaceAllowedBackend(CorruptedTensorBackend):
    """In-place methods (add_, __iadd__, ...) on a leaf that requires grad silently run untracked."""

    tensor_type = LeafInPlaceAllowed


class CopyingDetach(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if func is torch.Tensor.detach:
            return cls.call(torch.Tensor.clone, result)
        return result


@mutant("copying-detach", breaks="detach.shares-storage")
class CopyingDetachBackend(CorruptedTensorBackend):
    """detach() returns a copy instead of a tensor sharing the original's storage."""

    tensor_type = CopyingDetach


class NumpyIgnoresRequiresGrad(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.numpy:
            return cls.call(func, cls.call(torch.Tensor.detach, args[0]), *args[1:], **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("numpy-ignores-requires-grad", breaks="conversion.numpy-needs-detach")
class NumpyIgnoresRequiresGradBackend(CorruptedTensorBackend):
    """numpy() of a tensor that requires grad detaches it silently instead of refusing."""

    tensor_type = NumpyIgnoresRequiresGrad


class ItemOfFirstElement(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.item:
            return cls.call(func, cls.call(torch.Tensor.reshape, args[0], -1)[0])
        return cls.call(func, *args, **kwargs)


@mutant("item-of-first-element", breaks="conversion.item-one-element")
class ItemOfFirstElementBackend(CorruptedTensorBackend):
    """item() of a tensor with several elements returns the first one instead of refusing."""

    tensor_type = ItemOfFirstElement


class RetainedNonLeafGrad(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if isinstance(result, torch.Tensor) and result.grad_fn is not None:
            cls.call(torch.Tensor.retain_grad, result)
        return result


@mutant("retained-non-leaf-grad", breaks="graph.non-leaf-grad-not-retained")
class RetainedNonLeafGradBackend(CorruptedTensorBackend):
    """Every result of an operation keeps its .grad after backward, as if retain_grad() had been called."""

    tensor_type = RetainedNonLeafGrad


@mutant("tracking-no-grad", breaks="no_grad.context")
class TrackingNoGradBackend(TorchBackend):
    """no_grad() leaves gradient tracking on."""

    def no_grad(self) -> Any:
        return contextlib.nullcontext()


class ItemAsTensor(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.item and cls.call(torch.Tensor.numel, args[0]) == 1:
            return cls.call(torch.Tensor.reshape, cls.call(torch.Tensor.detach, args[0]), ())
        return cls.call(func, *args, **kwargs)


@mutant("item-as-tensor", breaks="conversion.item")
class ItemAsTensorBackend(CorruptedTensorBackend):
    """item() of a one-element tensor returns a 0-d tensor instead of a Python float."""

    tensor_type = ItemAsTensor


class FlatToList(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.tolist:
            return cls.call(func, cls.call(torch.Tensor.flatten, args[0]))
        return cls.call(func, *args, **kwargs)


@mutant("flat-tolist", breaks="conversion.tolist")
class FlatToListBackend(CorruptedTensorBackend):
    """tolist() returns one flat list of the elements instead of a nested list per dimension."""

    tensor_type = FlatToList


class NoOpDetach(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        return args[0] if func is torch.Tensor.detach else cls.call(func, *args, **kwargs)


@mutant("no-op-detach", breaks="detach.no-tracking")
class NoOpDetachBackend(CorruptedTensorBackend):
    """detach() returns the tensor itself, still requiring grad and attached to the graph."""

    tensor_type = NoOpDetach


class ScalarBackwardNeedsGradient(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.backward and len(args) == 1 and kwargs.get("gradient") is None:
            (output,) = args
            if cls.call(torch.Tensor.dim, output) == 0:
                # torch's own refusal of a vector output, reached by handing it the scalar as a vector
                return cls.call(func, cls.call(torch.Tensor.expand, output, 2), **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("scalar-backward-needs-gradient", breaks="grad.scalar-backward")
class ScalarBackwardNeedsGradientBackend(CorruptedTensorBackend):
    """backward() without gradient refuses a scalar output too, as if it were a vector."""

    tensor_type = ScalarBackwardNeedsGradient


class GradientArgumentIgnored(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.backward and kwargs.get("gradient") is not None:
            kwargs = {**kwargs, "gradient": cls.call(torch.ones_like, kwargs["gradient"])}
        return cls.call(func, *args, **kwargs)


@mutant("gradient-argument-ignored", breaks="grad.vector-jacobian-product")
class GradientArgumentIgnoredBackend(CorruptedTensorBackend):
    """backward(gradient=v) uses ones whatever v holds, so the gradients are the Jacobian's column sums."""

    tensor_type = GradientArgumentIgnored


def with_gradient(value: torch.Tensor, base: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """``value``, whose derivative with respect to ``base`` is ``gradient`` in backward."""
    return value.detach() + gradient.detach() * (base - base.detach())


class PowerRuleWithoutMinusOne(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if getattr(func, "__name__", "") == "pow" and len(args) == 2 and isinstance(args[1], (int, float)):
            base, exponent = args
            if cls.attribute(base, "requires_grad"):
                return cls.call(with_gradient, result, base, cls.call(torch.mul, result, exponent))
        return result


@mutant("power-rule-without-minus-one", breaks="grad.check-collected-gradients")
class PowerRuleWithoutMinusOneBackend(CorruptedTensorBackend):
    """The gradient of x**n is n·x**n instead of n·x**(n-1), so a.grad is 9a³ instead of 9a²."""

    tensor_type = PowerRuleWithoutMinusOne


class ResultsLookLikeLeaves(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if reads(func, "is_leaf"):
            return True
        if reads(func, "grad_fn"):
            return None
        return cls.call(func, *args, **kwargs)


@mutant("results-look-like-leaves", breaks="graph.non-leaf-grad-fn")
class ResultsLookLikeLeavesBackend(CorruptedTensorBackend):
    """Results of operations report is_leaf=True and grad_fn None, as if the user had created them."""

    tensor_type = ResultsLookLikeLeaves


#: the arithmetic operators, as ``__torch_function__`` names them: a + b is add, 2 - a is __rsub__, ...
ARITHMETIC = frozenset({"add", "sub", "mul", "div", "pow", "matmul", "__rsub__", "__rdiv__", "__rpow__"})


class LeavesBehindCopies(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if getattr(func, "__name__", "") in ARITHMETIC:
            args = tuple(cls.call(torch.Tensor.clone, arg) if cls.is_leaf_requiring_grad(arg) else arg for arg in args)
        return cls.call(func, *args, **kwargs)


@mutant("leaves-behind-copies", breaks="graph.next-functions")
class LeavesBehindCopiesBackend(CorruptedTensorBackend):
    """Arithmetic reads leaves through a copy, so next_functions lead to CloneBackward nodes instead of the
    leaves' AccumulateGrad."""

    tensor_type = LeavesBehindCopies


def node_signature(node: Any) -> Any:
    """What a graph node computes: its name and its inputs' signatures, down to the leaves it accumulates
    into."""
    if node is None:
        return None
    if hasattr(node, "variable"):  # AccumulateGrad: the leaf itself
        return id(node.variable)
    return node.name(), tuple(node_signature(function) for function, _ in node.next_functions)


class StaticGraph(CorruptedTensor):
    #: node signature -> the first node read with it
    first_nodes: ClassVar[dict[Any, Any]] = {}

    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "grad_fn") and result is not None:
            return cls.first_nodes.setdefault(node_signature(result), result)
        return result


@mutant("static-graph", breaks="graph.rebuilt-every-forward")
class StaticGraphBackend(CorruptedTensorBackend):
    """A forward that repeats the operations of an earlier one reuses its graph nodes: grad_fn is the node
    recorded the first time."""

    tensor_type = StaticGraph


@mutant("tensor-requires-grad-by-default", breaks="requires_grad.default-false")
class TensorRequiresGradByDefaultBackend(TorchBackend):
    """tensor() creates a tensor that requires grad unless requires_grad=False is passed."""

    def tensor(self, data: Any, *, requires_grad: bool = True) -> torch.Tensor:
        return super().tensor(data, requires_grad=requires_grad)


class RequiresGradOnCopy(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.requires_grad_:
            tensor, *rest = args
            return cls.call(func, cls.call(torch.Tensor.detach, tensor), *rest, **kwargs)
        return cls.call(func, *args, **kwargs)


@mutant("requires-grad-on-copy", breaks="requires_grad.requires-grad-underscore")
class RequiresGradOnCopyBackend(CorruptedTensorBackend):
    """requires_grad_() returns a copy that tracks gradients and leaves the tensor itself untracked."""

    tensor_type = RequiresGradOnCopy


class NoGradEnablingOnExit(torch.no_grad):
    def __exit__(self, exc_type, exc_value, traceback) -> None:
        torch.set_grad_enabled(True)


@mutant("no-grad-exit-enables-grad", breaks="no_grad.nested")
class NoGradExitEnablesGradBackend(TorchBackend):
    """Leaving a no_grad block turns tracking on instead of restoring it, even inside an enclosing no_grad."""

    def no_grad(self) -> torch.no_grad:
        return NoGradEnablingOnExit()


class NoGradContextOnly(torch.no_grad):
    def __call__(self, function):
        return function


@mutant("no-grad-decorator-inert", breaks="no_grad.decorator")
class NoGradDecoratorInertBackend(TorchBackend):
    """no_grad() used as a decorator returns the function unchanged, so it runs with tracking on."""

    def no_grad(self) -> torch.no_grad:
        return NoGradContextOnly()


class Float32Scalars(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        rounded = [float(np.float32(arg)) if type(arg) is float else arg for arg in args]
        return cls.call(func, *rounded, **kwargs)


@mutant("float32-scalars", breaks="promotion.python-scalar-float64")
class Float32ScalarsBackend(CorruptedTensorBackend):
    """A Python float operand is rounded to float32 before it meets a tensor, whatever the tensor's dtype."""

    tensor_type = Float32Scalars


class Float64GradientsDoubled(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "grad") and result is not None and result.dtype == torch.float64:
            return cls.call(torch.mul, result, 2)
        return result


@mutant("float64-gradients-doubled", breaks="grad.external-gradient-float64")
class Float64GradientsDoubledBackend(CorruptedTensorBackend):
    """.grad of a float64 tensor reads twice the gradient autograd computed (float32 gradients are right)."""

    tensor_type = Float64GradientsDoubled


class OneSliceBroadcast(torch.autograd.Function):
    """``x.expand(shape)`` whose backward reduces each broadcast dimension by taking its first slice times the
    dimension's size, not the sum: right only where the gradient is constant along that dimension."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.expand(shape)

    @staticmethod
    def backward(ctx, grad):
        while grad.dim() > len(ctx.shape):
            grad = grad[0] * grad.shape[0]
        for dim, size in enumerate(ctx.shape):
            if size == 1 and grad.shape[dim] != 1:
                grad = grad.narrow(dim, 0, 1) * grad.shape[dim]
        return grad, None


#: the multiplication functions, as ``__torch_function__`` receives them
MULTIPLICATIONS = (torch.Tensor.__mul__, torch.Tensor.__rmul__, torch.Tensor.mul, torch.mul)


class BroadcastGradientFromOneSlice(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func in MULTIPLICATIONS and all(isinstance(arg, torch.Tensor) for arg in args):
            shape = torch.broadcast_shapes(*(arg.shape for arg in args))
            args = tuple(
                cls.call(OneSliceBroadcast.apply, arg, shape)
                if cls.attribute(arg, "requires_grad") and arg.shape != shape
                else arg
                for arg in args
            )
        return cls.call(func, *args, **kwargs)


@mutant("broadcast-gradient-from-one-slice", breaks="grad.broadcast-reduced")
class BroadcastGradientFromOneSliceBackend(CorruptedTensorBackend):
    """A tensor that requires grad, broadcast in a multiplication, gets as gradient the first slice of the
    output gradient along each broadcast dimension times its size instead of the sum over it: right where that
    gradient is constant along the dimension (a sum's), wrong otherwise."""

    tensor_type = BroadcastGradientFromOneSlice


class ZeroDimGradientAsVector(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        result = cls.call(func, *args, **kwargs)
        if reads(func, "grad") and result is not None and cls.call(torch.Tensor.dim, result) == 0:
            return cls.call(torch.reshape, result, (1,))
        return result


@mutant("zero-dim-gradient-as-vector", breaks="grad.zero-dim-leaf")
class ZeroDimGradientAsVectorBackend(CorruptedTensorBackend):
    """The gradient of a 0-d leaf reads as a vector of one element, shape (1,), instead of a 0-d tensor."""

    tensor_type = ZeroDimGradientAsVector
