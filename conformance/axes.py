"""The review of every area of the catalogue against the axes where real engine bugs hide.

A spec that checks a behaviour in one configuration passes an engine whose bug lives in another: a float32-only
backward, a Jacobian transposed only for non-square matrices, an in-place form whose gradient misses the operand
on the right, a hook honoured on leaves only, a module wrong where the functional form is right, a momentum buffer
that resets after the second step. Each area of ``SPECS.md`` says here, for each axis, which specs vary it
(:class:`Covered`), why the axis does not apply to the behaviours of that area (:class:`NotApplicable`), or
what is still missing where it applies (:class:`Gap`).

``tests/test_axes.py`` holds this table to the catalogue: every area is reviewed on every axis, and every spec
a review cites exists; the README shows :func:`markdown`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: axis -> the variations it asks for
AXES: dict[str, str] = {
    "dtypes": "float32 as well as float64, with float32 tolerances from an error model",
    "shapes": "non-square and batched shapes, broadcasting in every operand, 0-d and empty tensors",
    "forms": "in-place and out-of-place forms, the operand that requires grad on either side, leaves and "
    "non-leaves, views and detached aliases",
    "graph APIs": "hooks on leaves and non-leaves that replace the gradient, retain_grad on non-leaves",
    "models": "modules standalone and inside resnet18, networks frozen in part, optimizers over several steps",
    "oracle": "an expectation that the code path under test cannot compute (NumPy, closed forms, float64 "
    "replicas, finite differences)",
}


@dataclass(frozen=True)
class Covered:
    """The axis is varied: ``how``, by the specs ``by``."""

    how: str
    by: tuple[str, ...]


@dataclass(frozen=True)
class NotApplicable:
    """The axis does not apply to this area's behaviours, because ``why``."""

    why: str


@dataclass(frozen=True)
class Gap:
    """The axis applies and no spec varies it yet: ``what`` is missing (a survivor of the holdouts shows it)."""

    what: str


Review = Covered | NotApplicable | Gap


def covered(how: str, *by: str) -> Covered:
    return Covered(how, by)


def not_applicable(why: str) -> NotApplicable:
    return NotApplicable(why)


def gap(what: str) -> Gap:
    return Gap(what)


NO_MODELS = not_applicable("no module or optimizer is part of the behaviour")
NO_HOOKS = not_applicable("no gradient is computed, so there is nothing for a hook or retain_grad to see")
NUMPY_ORACLE = covered("every expected value is NumPy's or a closed form", "grad.external-gradient")

#: area -> axis -> its review
REVIEW: dict[str, dict[str, Review]] = {
    "conversion": {
        "dtypes": covered(
            "item() of float32 and float64 (a float64 value rounded on the way fails)", "conversion.item"
        ),
        "shapes": covered(
            "item() of shape (1,), (1, 1), 0-d; tolist() of 2-d, 3-d and 0-d (a number)",
            "conversion.item",
            "conversion.tolist",
        ),
        "forms": covered(
            "item() of a one-element slice of a larger tensor, tolist() of a strided view",
            "conversion.item",
            "conversion.tolist",
        ),
        "graph APIs": NO_HOOKS,
        "models": NO_MODELS,
        "oracle": covered(
            "values read back through the harness's to_numpy, not the method under test", "conversion.item"
        ),
    },
    "ddp": {
        "dtypes": not_applicable(
            "the documented promise is that ranks agree with one process; the one process's float32 arithmetic "
            "is the reference by the documentation's own definition"
        ),
        "shapes": not_applicable("shards of one global batch; the operators' shapes are the opgrad specs'"),
        "forms": not_applicable("DDP's documented behaviour concerns modules and their gradients, not statements"),
        "graph APIs": not_applicable("DDP's hooks are its own internals, not a documented promise"),
        "models": covered(
            "resnet18 frozen but for a new fc under DDP, no_sync accumulation, SGD with momentum over two steps",
            "ddp.freeze-then-replace-fc",
            "ddp.no-sync-accumulates",
            "ddp.sgd-momentum-identical",
        ),
        "oracle": not_applicable(
            'the documented reference is the same model in one process ("as if computed in one process"); DDP\'s '
            "averaging and broadcast, not the modules, are under test"
        ),
    },
    "detach": {
        "dtypes": not_applicable("aliasing and tracking do not depend on the dtype; the gradient values are grad's"),
        "shapes": gap(
            "detach() of a non-contiguous tensor (a transpose, a strided slice) sharing its storage; the holdout "
            "detach-noncontiguous-copy survives"
        ),
        "forms": covered(
            "writes through the alias and through the original, in place, bumping the shared version counter",
            "detach.shares-storage",
            "detach.shares-version-counter",
        ),
        "graph APIs": NO_HOOKS,
        "models": NO_MODELS,
        "oracle": covered("expected values and versions are constants of the documentation", "detach.shares-storage"),
    },
    "finetune": {
        "dtypes": not_applicable("the seeds' fine-tuning is float32 resnet18; the contract has no module.double()"),
        "shapes": not_applicable("resnet18's shapes are fixed by the seeds; the modules' shapes are nn's"),
        "forms": not_applicable("freezing by flag is the documented form; nn.frozen-middle-layer varies it"),
        "graph APIs": covered("features read by a forward pre-hook on fc", "finetune.fc-gradient-from-features"),
        "models": covered(
            "frozen backbone, new fc, optimizer over all parameters or over fc only, two SGD steps",
            "finetune.only-fc-gets-grad",
            "finetune.optimize-only-classifier",
            "finetune.fc-gradient-from-features",
        ),
        "oracle": covered(
            "fc's gradient gᵀh and the SGD steps computed in NumPy", "finetune.fc-gradient-from-features"
        ),
    },
    "grad": {
        "dtypes": covered("float32 and float64", "grad.external-gradient", "grad.external-gradient-float64"),
        "shapes": covered(
            "(2, 3) batches, leaves of (3, 1), (1, 4), (4,) broadcast against (3, 4), 0-d leaves",
            "grad.external-gradient-float64",
            "grad.broadcast-reduced",
            "grad.zero-dim-leaf",
        ),
        "forms": covered("backward() on the tape and vjp, accumulation over two backwards", "grad.accumulates"),
        "graph APIs": not_applicable("hooks and retain_grad are the mechanics area's"),
        "models": NO_MODELS,
        "oracle": NUMPY_ORACLE,
    },
    "graph": {
        "dtypes": not_applicable("is_leaf, grad_fn and next_functions do not depend on the dtype"),
        "shapes": not_applicable("the graph's structure does not depend on the shapes"),
        "forms": covered(
            "leaves and non-leaves, a graph rebuilt every forward", "graph.leaf", "graph.rebuilt-every-forward"
        ),
        "graph APIs": covered(
            "a non-leaf's .grad is not retained without retain_grad", "graph.non-leaf-grad-not-retained"
        ),
        "models": NO_MODELS,
        "oracle": covered("the documentation's node names and flags, constants", "graph.leaf"),
    },
    "inplace": {
        "dtypes": not_applicable("version counters and identities do not depend on the dtype"),
        "shapes": covered("views: slices, narrow, view, t", "inplace.view-shares-version-counter"),
        "forms": covered(
            "item assignment, in-place methods, augmented assignment, through views; on leaves and on non-leaves",
            "inplace.saved-tensor-modified",
            "inplace.view-of-non-leaf-grad",
            "inplace.view-shares-version-counter",
        ),
        "graph APIs": not_applicable("hooks see gradients, not versions"),
        "models": NO_MODELS,
        "oracle": covered("gradients after in-place changes in closed form", "inplace.view-of-non-leaf-grad"),
    },
    "mechanics": {
        "dtypes": not_applicable("each mechanism's values are small closed forms; dtypes are opgrad's and grad's"),
        "shapes": covered(
            "a custom Function of non-square inputs, autograd.grad on non-leaf inputs",
            "mechanics.custom-function-several-inputs",
            "mechanics.autograd-grad-non-leaf-inputs",
        ),
        "forms": covered(
            "set_grad_enabled at the top and nested in enable_grad and no_grad, either operand requiring grad",
            "mechanics.set-grad-enabled",
        ),
        "graph APIs": covered(
            "hooks on leaves and non-leaves that replace the gradient, several in order, retain_grad accumulating "
            "and after hooks",
            "mechanics.tensor-hook-non-leaf",
            "mechanics.tensor-hooks-in-order",
            "mechanics.retain-grad-accumulates",
            "mechanics.retain-grad-after-tensor-hooks",
        ),
        "models": covered("module forward, pre-forward and backward hooks", "mechanics.module-hooks"),
        "oracle": covered("NumPy closed forms", "mechanics.custom-function-several-inputs"),
    },
    "nn": {
        "dtypes": not_applicable("modules run in float32: the contract has no module.double(); float64 is opgrad's"),
        "shapes": covered(
            "non-square kernels, images and strides, tuple padding, no bias, batches of 2 and 3, Linear on 3-d input",
            "nn.conv2d-module",
            "nn.linear-module",
        ),
        "forms": covered("resnet18's in-place ReLU alone", "nn.resnet18-modules"),
        "graph APIs": not_applicable("module hooks are the mechanics area's"),
        "models": covered(
            "modules standalone and resnet18's own, batch norm in training, running statistics and evaluation, a "
            "frozen middle layer",
            "nn.conv2d-module",
            "nn.resnet18-modules",
            "nn.batchnorm2d-running-stats",
            "nn.frozen-middle-layer",
        ),
        "oracle": covered(
            "NumPy float64 formulas, not torch.nn.functional", "nn.conv2d-module", "nn.batchnorm2d-train"
        ),
    },
    "no_grad": {
        "dtypes": not_applicable("grad mode does not depend on the dtype"),
        "shapes": not_applicable("grad mode does not depend on the shapes"),
        "forms": covered(
            "context, nested, decorator, in-place changes inside", "no_grad.nested", "no_grad.in-place-not-recorded"
        ),
        "graph APIs": NO_HOOKS,
        "models": not_applicable("evaluation under no_grad with a network is nn.no-grad-evaluation"),
        "oracle": covered("flags and values are constants of the documentation", "no_grad.context"),
    },
    "opgrad": {
        "dtypes": covered(
            "float64 against finite differences, and float32 against the float64 oracle within an error model "
            "measured per entry",
            "opgrad.exp",
        ),
        "shapes": covered(
            "non-square, batched, broadcast in every operand, 0-d, empty, non-contiguous",
            "opgrad.matmul-broadcast-both-batched",
            "opgrad.add-broadcast-every-operand",
            "opgrad.mul-0d-both",
            "opgrad.exp-empty",
            "opgrad.exp-transposed",
        ),
        "forms": covered(
            "in-place forms with the grad-requiring operand as self or as other, and through a view",
            "opgrad.mul-inplace",
            "opgrad.add-inplace-alpha",
            "opgrad.mul-inplace-through-view",
        ),
        "graph APIs": not_applicable("operator gradients are asked through vjp; hooks are the mechanics area's"),
        "models": not_applicable("functional operators; their modules are nn's"),
        "oracle": covered(
            "torch's float64 CPU kernels outside the engine's dispatch scope, and central finite differences of the "
            "engine's own forward",
            "opgrad.exp",
        ),
    },
    "promotion": {
        "dtypes": covered(
            "float64 and float32 tensors with Python floats and 0-d tensors",
            "promotion.python-scalar-float64",
            "promotion.python-scalar-keeps-float32",
            "promotion.zero-dim-tensor-does-not-promote",
        ),
        "shapes": covered("0-d against dimensioned operands", "promotion.zero-dim-tensor-does-not-promote"),
        "forms": covered("the number on either side", "promotion.python-scalar-float64"),
        "graph APIs": NO_HOOKS,
        "models": NO_MODELS,
        "oracle": covered("NumPy's float64 and float32 arithmetic", "promotion.python-scalar-float64"),
    },
    "requires_grad": {
        "dtypes": not_applicable("propagation does not depend on the dtype"),
        "shapes": not_applicable("propagation does not depend on the shapes"),
        "forms": covered(
            "out-of-place and in-place (x *= w, add_, +=, slice assignment) with only the other operand requiring grad",
            "requires_grad.propagation",
            "requires_grad.propagation-in-place",
        ),
        "graph APIs": NO_HOOKS,
        "models": not_applicable("parameters' flags are nn's and finetune's"),
        "oracle": covered("flags are constants of the documentation", "requires_grad.propagation"),
    },
    "train": {
        "dtypes": not_applicable("the seeds' step is float32 resnet18; the contract has no module.double()"),
        "shapes": not_applicable("the seeds' one image and labels; the modules' shapes are nn's"),
        "forms": covered("training and evaluation mode", "train.eval-mode-fills-every-grad"),
        "graph APIs": not_applicable("hooks are the mechanics area's"),
        "models": covered(
            "resnet18 whole and with layer2 frozen, SGD over four steps with the learning rate changed, every SGD "
            "argument",
            "train.frozen-middle-block",
            "train.sgd-momentum-across-steps",
            "train.sgd-update-rule",
        ),
        "oracle": covered(
            "float64 replicas of the step (an error model) and the documented SGD rule in NumPy",
            "train.backward-fills-every-grad",
            "train.sgd-update-rule",
        ),
    },
    "weights": {
        "dtypes": not_applicable("loading copies the saved values bit for bit"),
        "shapes": not_applicable("resnet18's state dict has one set of shapes"),
        "forms": covered("weights=DEFAULT and the deprecated pretrained=True", "weights.pretrained-deprecated"),
        "graph APIs": not_applicable("no gradient is computed"),
        "models": covered("resnet18, the model the seeds load", "weights.default"),
        "oracle": covered("the saved state dict's arrays", "weights.default"),
    },
}


def phrase(axis: str, review: Review) -> str:
    if isinstance(review, Covered):
        return f"{axis}: {review.how} ({', '.join(f'`{spec_id}`' for spec_id in review.by)})"
    if isinstance(review, Gap):
        return f"{axis}: {review.what}"
    return f"{axis}: {review.why}"


def markdown() -> str:
    """The review as the README shows it: the axes, then a line an area saying what each axis covers there and
    why the others do not apply."""
    lines = ["| axis | what it varies |", "| --- | --- |", *(f"| {axis} | {what} |" for axis, what in AXES.items()), ""]
    for area, reviews in REVIEW.items():
        covered_axes = [phrase(axis, review) for axis, review in reviews.items() if isinstance(review, Covered)]
        other_axes = [phrase(axis, review) for axis, review in reviews.items() if isinstance(review, NotApplicable)]
        line = f"- **{area}**: covers " + ("; ".join(covered_axes) if covered_axes else "no axis")
        if other_axes:
            line += ". Not applicable: " + "; ".join(other_axes)
        if gaps := [phrase(axis, review) for axis, review in reviews.items() if isinstance(review, Gap)]:
            line += ". **Not yet covered**: " + "; ".join(gaps)
        lines.append(line + ".")
    return "\n".join(lines) + "\n"
