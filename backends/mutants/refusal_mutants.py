"""Mutants of refusals, the two ways a refusal can be wrong.

- In its own words: torch refusing what it refuses, but with ``ValueError`` and words of its own. Each such
  mutant breaks a surface spec (torch's class and message) and keeps the refusal spec beside it: a correct
  engine that words its errors its own way passes the behaviour and is told apart from one that does not
  refuse. They are generated from :data:`OWN_WORDS`, one line per surface spec.
- After the damage: refusing with torch's very error, but only after changing state (the values written,
  the gradient accumulated). Each breaks a refusal spec and keeps its surface spec.
"""

from __future__ import annotations

import torch

from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend
from .tensor_mutants import IN_PLACE_METHOD

OWN_WORDS_MESSAGE = "the engine refuses this operation"


class OwnWords(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        try:
            return cls.call(func, *args, **kwargs)
        except NotImplementedError:
            raise
        except (RuntimeError, TypeError):
            raise ValueError(OWN_WORDS_MESSAGE) from None


#: surface spec -> the refusal spec of the same behaviour, which the mutant refusing in its own words keeps
OWN_WORDS: dict[str, str] = {
    "conversion.item-one-element-torch-error": "conversion.item-one-element",
    "conversion.numpy-needs-detach-torch-error": "conversion.numpy-needs-detach",
    "grad.vector-backward-needs-gradient-torch-error": "grad.vector-backward-needs-gradient",
    "inplace.saved-tensor-modified-torch-error": "inplace.saved-tensor-modified",
    "inplace.leaf-inplace-torch-error": "inplace.leaf-inplace-error",
    "inplace.leaf-slice-assignment-torch-error": "inplace.leaf-slice-assignment-error",
    "mechanics.custom-function-saved-version-check-torch-error": "mechanics.custom-function-saved-version-check",
    "mechanics.inference-tensors-refused-torch-error": "mechanics.inference-tensors-refused-by-autograd",
    "mechanics.retain-graph-second-backward-torch-error": "mechanics.retain-graph-second-backward-fails",
    "mechanics.anomaly-torch-error": "mechanics.anomaly-names-forward-op",
}

for _surface, _refusal in OWN_WORDS.items():
    mutant(f"own-words-{_surface.split('.', 1)[1].removesuffix('-torch-error')}", breaks=_surface, keeps=(_refusal,))(
        type(
            f"OwnWords_{_surface}",
            (CorruptedTensorBackend,),
            {
                "__doc__": f"Every error torch raises is a ValueError({OWN_WORDS_MESSAGE!r}): {_refusal} is refused "
                "as torch refuses it, in words of the engine's own.",
                "__module__": __name__,
                "tensor_type": OwnWords,
            },
        )
    )


class OnHost(torch.Tensor):
    """A tensor copied to the host: a plain torch tensor, whatever operations follow."""


class OnAccelerator(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.numpy:
            raise ValueError("copy the tensor to the host first")
        if func is torch.Tensor.cpu:
            on_host = cls.call(torch.Tensor.view_as, args[0], args[0])
            on_host.__class__ = OnHost
            return on_host
        return cls.call(func, *args, **kwargs)


@mutant(
    "accelerator-numpy-own-words",
    breaks="conversion.gpu-numpy-needs-cpu-torch-error",
    keeps=("conversion.gpu-numpy-needs-cpu",),
)
class AcceleratorNumpyOwnWords(CorruptedTensorBackend):
    """An accelerator backend whose numpy() refuses a tensor not copied to the host with cpu(), but with
    ValueError in its own words, not torch's TypeError."""

    tensor_type = OnAccelerator

    @property
    def device(self) -> str:
        return "accelerator"


LEAF_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


class LeafInPlaceAppliedThenRefused(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        name = getattr(func, "__name__", "")
        if (IN_PLACE_METHOD.fullmatch(name) or func is torch.Tensor.__setitem__) and cls.is_leaf_requiring_grad(
            args[0] if args else None
        ):
            with torch.no_grad():
                cls.call(func, *args, **kwargs)
            raise RuntimeError(LEAF_MESSAGE)
        return cls.call(func, *args, **kwargs)


@mutant(
    "leaf-in-place-applied-then-refused",
    breaks="inplace.leaf-inplace-error",
    keeps=("inplace.leaf-inplace-torch-error",),
)
class LeafInPlaceAppliedThenRefusedBackend(CorruptedTensorBackend):
    """a.add_(10.) and a += 10. on a leaf that requires grad raise torch's error, but only after adding 10 to
    the leaf's values."""

    tensor_type = LeafInPlaceAppliedThenRefused


@mutant(
    "leaf-setitem-applied-then-refused",
    breaks="inplace.leaf-slice-assignment-error",
    keeps=("inplace.leaf-slice-assignment-torch-error",),
)
class LeafSetItemAppliedThenRefusedBackend(CorruptedTensorBackend):
    """a[:] = 0 on a leaf that requires grad raises torch's error, but only after writing the zeros."""

    tensor_type = LeafInPlaceAppliedThenRefused


class SeededThenRefused(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.backward and len(args) == 1 and kwargs.get("gradient") is None:
            (output,) = args
            if cls.call(torch.Tensor.numel, output) != 1:
                cls.call(func, output, cls.call(torch.ones_like, output))
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return cls.call(func, *args, **kwargs)


@mutant(
    "vector-backward-seeded-then-refused",
    breaks="grad.vector-backward-needs-gradient",
    keeps=("grad.vector-backward-needs-gradient-torch-error",),
)
class SeededThenRefusedBackend(CorruptedTensorBackend):
    """backward() on a vector without gradient raises torch's error, but only after a backward seeded with
    ones has filled the leaves' .grad."""

    tensor_type = SeededThenRefused


class AccumulatesThenRefuses(CorruptedTensor):
    @classmethod
    def corrupt(cls, func, args, kwargs):
        if func is torch.Tensor.backward:
            root = args[0]
            cls.call(func, *args, **{**kwargs, "retain_graph": True})
            if getattr(root, "backed_once", False):
                raise RuntimeError("Trying to backward through the graph a second time")
            root.backed_once = True
            return None
        return cls.call(func, *args, **kwargs)


@mutant(
    "second-backward-accumulates-then-refuses",
    breaks="mechanics.retain-graph-second-backward-fails",
    keeps=("mechanics.retain-graph-second-backward-torch-error",),
)
class AccumulatesThenRefusesBackend(CorruptedTensorBackend):
    """A second backward through a freed graph raises torch's error, but only after adding its gradients to
    .grad once more (the graph is never freed)."""

    tensor_type = AccumulatesThenRefuses
