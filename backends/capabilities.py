"""The capabilities a backend may declare, and what each one grants: the single table (:data:`TABLE`).

A spec names the capabilities it needs; a backend that does not declare one of them gets the verdict
"unsupported" for that spec instead of a failure, and the run's coverage (specs run / total) shows it.

**The rule.** Declare a capability when the API it grants exists in your engine; the specs check whether it
behaves. A declared capability whose members misbehave is a failure (or a known failure, as data), never a
reason to leave the capability out: leaving it out hides the deviation behind "unsupported". An engine that has
most of a family but not every member (no ``erfinv`` among its elementwise functions) declares the capability
and lists the members it lacks in ``Backend.lacks``: a spec that uses one (``Spec.uses``, read from an operator's
code) is "unsupported", the others run. Conversely a
spec declares every capability whose members it touches, and nothing more, so that an engine lacking the API
gets "unsupported" and an engine that has it gets a verdict.

Each :class:`Capability` names what it grants:

- ``backend``: attributes of the :class:`~backends.contract.Backend`, dotted for namespaces (``no_grad``,
  ``nn.Linear``, ``autograd.grad``);
- ``tensor``: members of the engine's tensors (``requires_grad``, ``backward``, ``_version``, ``add_``, and
  operators by their Python names, ``__matmul__``);

``name(arg=)`` grants an argument of a member (``backward(retain_graph=)``, ``tensor(requires_grad=)``:
creating a tensor that requires grad is autograd's), and ``broadcasting`` arithmetic between tensors of
different shapes.
- ``objects``: members of the other objects the backend hands out, modules, optimizers, a custom function's
  context (``parameters``, ``step``, ``register_forward_hook``, ``save_for_backward``).

A member may be granted by more than one capability (``parameters()`` of a module made by ``nn`` or by
``models.resnet18``); a spec holding either may use it. A capability may grant no member:
``errors.torch`` promises how errors read, ``graph.names`` the names of graph nodes, ``threads`` a way of
calling; the audit cannot see those, a reader of the spec can. What every backend offers with no capability
at all is :data:`ALWAYS`: creating tensors, arithmetic, indexing, shapes and the harness's own view of values.
``tests/test_capability_audit.py`` runs every spec on torch through a view that offers exactly the members
its ``needs`` grant (:mod:`conformance.capability_audit`), so the table, the specs' ``needs`` and the
backends' declarations cannot drift apart.

A new entry point is one row: its name, what it promises, and the ``backend`` attribute it grants, as the
functional gradient path is (``Capability(VJP, "...", backend=("vjp",))``). ``vjp`` is what a gradient *is*
(values), ``autograd`` what a tape *does* (``.grad`` on leaves): the value specs need only ``vjp``, so an engine
without a tape (JAX, ``torch.func``) runs them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capability:
    """One declarable capability: its name (the string backends, specs and known-failure files use), what it
    promises, and the members it grants."""

    name: str
    description: str
    backend: tuple[str, ...] = ()
    tensor: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()

    def members(self) -> frozenset[tuple[str, str]]:
        """Everything it grants, as (group, member) pairs."""
        return frozenset((group, member) for group in GROUPS for member in getattr(self, group))

    def members_named(self) -> frozenset[str]:
        """Everything it grants, by name alone (``functional.gelu``, ``erfinv``), as ``Backend.lacks`` lists them."""
        return frozenset(member for _, member in self.members())


#: the kinds of member a capability grants (fields of :class:`Capability`)
GROUPS = ("backend", "tensor", "objects")

AUTOGRAD = "autograd"
GRAD_MODE = "grad_mode"
GRAPH = "graph"
GRAPH_NAMES = "graph.names"
INPLACE = "inplace"
VERSION_COUNTER = "version_counter"
DETACH = "detach"
NUMPY = "numpy"
NN = "nn"
RESNET18 = "models.resnet18"
PRETRAINED = "models.pretrained"
SGD = "optim.sgd"
FLOAT64 = "float64"
FUNCTIONAL = "nn.functional"
TENSOR_MATH = "tensor.math"
RETAIN_GRAD = "retain_grad"
RETAIN_GRAPH = "retain_graph"
AUTOGRAD_GRAD = "autograd.grad"
HOOKS = "hooks"
GRAD_MODE_SWITCHES = "grad_mode.switches"
INFERENCE_MODE = "inference_mode"
ANOMALY = "anomaly"
SAVED_TENSOR_HOOKS = "saved_tensor_hooks"
CUSTOM_FUNCTION = "custom_function"
THREADS = "threads"
TORCH_ERRORS = "errors.torch"
DISTRIBUTED = "distributed"
VJP = "vjp"
JVP = "jvp"
SECOND_ORDER = "vjp.second-order"
ACTIVATIONS = "nn.functional.activations"
CONVOLUTIONS = "nn.functional.conv"
POOLING = "nn.functional.pooling"
NORMALIZATION = "nn.functional.normalization"
LAYERS = "nn.functional.layers"
LOSSES = "nn.functional.losses"
UNARY = "tensor.unary"
BINARY = "tensor.binary"
REDUCTIONS = "tensor.reductions"
SHAPES = "tensor.shapes"
INDEXING = "tensor.indexing"
FUNCTIONS = "functions"
LINALG = "linalg"
SPECIAL = "special"
#: the operator families of the ``opgrad`` catalogue that engines commonly have (``special``, torch.special's
#: Bessel functions, is declared on its own)
OPERATOR_FAMILIES = frozenset(
    {ACTIVATIONS, CONVOLUTIONS, POOLING, NORMALIZATION, LAYERS, LOSSES, UNARY, BINARY, REDUCTIONS, SHAPES, INDEXING}
    | {FUNCTIONS, LINALG}
)


def _members(prefix: str, names: str) -> tuple[str, ...]:
    """``prefix`` + each of the space-separated ``names``: a namespace's members, listed compactly."""
    return tuple(f"{prefix}{name}" for name in names.split())


#: module members shared by the capabilities that make modules (``nn``, ``models.resnet18``)
_MODULE = ("parameters", "named_parameters")

TABLE: tuple[Capability, ...] = (
    Capability(
        AUTOGRAD,
        "reverse-mode gradients: requires_grad, backward() with an optional gradient, .grad accumulation",
        backend=("tensor(requires_grad=)",),
        tensor=("requires_grad", "requires_grad_", "grad", "backward"),
    ),
    Capability(
        GRAD_MODE,
        "no_grad() as a context manager and as a decorator",
        backend=("no_grad", "is_grad_enabled"),
    ),
    Capability(
        GRAPH,
        "is_leaf, grad_fn on results (None on leaves), grad_fn.next_functions down to the leaves' AccumulateGrad "
        "nodes, whose .variable is the leaf",
        tensor=("is_leaf", "grad_fn"),
        objects=("next_functions", "variable"),
    ),
    Capability(
        GRAPH_NAMES,
        "grad_fn names follow torch's (SumBackward0, AddBackward0, AccumulateGrad, ...)",
    ),
    Capability(
        INPLACE,
        "in-place operations (add_, zero_, fill_, slice assignment, +=) and .data",
        tensor=("add_", "zero_", "fill_", "data", "__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__"),
    ),
    Capability(
        VERSION_COUNTER,
        "tensor._version counts in-place changes",
        tensor=("_version",),
    ),
    Capability(
        DETACH,
        "detach() returns a tensor that shares storage and does not track gradients",
        tensor=("detach",),
    ),
    Capability(
        NUMPY,
        "numpy(), item(), tolist() and cpu() with torch's refusals",
        tensor=("numpy", "item", "tolist", "cpu"),
    ),
    Capability(
        NN,
        "nn.Linear, nn.Conv2d and nn.Sequential with named_parameters()",
        backend=("nn.Linear", "nn.Conv2d", "nn.Sequential"),
        objects=_MODULE,
    ),
    Capability(
        RESNET18,
        "models.resnet18() whose fc can be replaced by nn.Linear",
        backend=("models.resnet18",),
        objects=(*_MODULE, "fc", "out_features"),
    ),
    Capability(
        PRETRAINED,
        "models.resnet18(weights=...) and the deprecated pretrained=True, from a local state dict",
        objects=("state_dict",),
    ),
    Capability(
        SGD,
        "optim.SGD with lr, momentum, param_groups, zero_grad() and step()",
        backend=("optim.SGD",),
        objects=("param_groups", "zero_grad", "step"),
    ),
    Capability(
        FLOAT64,
        "tensor64(): float64 tensors, so gradients can be checked against finite differences",
        backend=("tensor64",),
    ),
    Capability(
        FUNCTIONAL,
        "functional: conv2d, batch_norm, relu, max_pool2d, adaptive_avg_pool2d, linear, cross_entropy",
        backend=tuple(
            f"functional.{name}"
            for name in (
                "conv2d",
                "batch_norm",
                "relu",
                "max_pool2d",
                "adaptive_avg_pool2d",
                "linear",
                "cross_entropy",
            )
        ),
    ),
    Capability(
        TENSOR_MATH,
        "tensor methods log, sin, sqrt, tanh, sigmoid, flatten, sum/mean over dims, @ and broadcasting",
        tensor=(
            "log",
            "sin",
            "sqrt",
            "tanh",
            "sigmoid",
            "flatten",
            "sum(dim=)",
            "mean(dim=)",
            "__matmul__",
            "__rmatmul__",
            "broadcasting",
        ),
    ),
    Capability(
        RETAIN_GRAD,
        "retain_grad() populates .grad of a non-leaf tensor",
        tensor=("retain_grad",),
    ),
    Capability(
        RETAIN_GRAPH,
        "backward(retain_graph=True); a second backward through a freed graph is an error",
        tensor=("backward(retain_graph=)",),
    ),
    Capability(
        AUTOGRAD_GRAD,
        "autograd.grad(outputs, inputs, create_graph=...), including double backward",
        backend=("autograd.grad",),
    ),
    Capability(
        HOOKS,
        "tensor register_hook and module forward, forward-pre and full backward hooks, with removable handles",
        tensor=("register_hook",),
        objects=("register_forward_pre_hook", "register_forward_hook", "register_full_backward_hook"),
    ),
    Capability(
        GRAD_MODE_SWITCHES,
        "set_grad_enabled(mode) and enable_grad() as context managers",
        backend=("set_grad_enabled", "enable_grad", "is_grad_enabled"),
    ),
    Capability(
        INFERENCE_MODE,
        "inference_mode() and the refusal to record its tensors in autograd",
        backend=("inference_mode",),
    ),
    Capability(
        ANOMALY,
        "autograd.detect_anomaly(): NaN in backward is an error naming the op and its forward traceback",
        backend=("autograd.detect_anomaly",),
    ),
    Capability(
        SAVED_TENSOR_HOOKS,
        "autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook)",
        backend=("autograd.graph.saved_tensors_hooks",),
    ),
    Capability(
        CUSTOM_FUNCTION,
        "autograd.Function with ctx.save_for_backward, saved_tensors and its version check",
        backend=("autograd.Function",),
        objects=("save_for_backward", "saved_tensors"),
    ),
    Capability(
        THREADS,
        "backward on independent graphs from several Python threads at once",
    ),
    Capability(
        TORCH_ERRORS,
        "exceptions, warnings and reprs use torch's classes and words",
    ),
    Capability(
        VJP,
        "vjp(fn, primals, cotangent): fn's output and the vector-Jacobian product for each primal, without a tape "
        "of the spec's own (a tape engine has it through backward(): declaring autograd declares it)",
        backend=("vjp",),
    ),
    Capability(
        JVP,
        "jvp(fn, primals, tangents): fn's output and its Jacobian-vector product (forward mode)",
        backend=("jvp",),
    ),
    Capability(
        SECOND_ORDER,
        "vjp(..., create_graph=True) inside the fn of another vjp gives second derivatives (a tape's create_graph; "
        "a functional engine's transforms compose)",
        backend=("vjp(create_graph=)",),
    ),
    Capability(
        DISTRIBUTED,
        "parallel.DistributedDataParallel over torch.distributed, rebuilt in each rank of a spawned group",
        backend=(
            "parallel.DistributedDataParallel",
            "parallel.allreduce_hook",
            "process_group_backend",
            "for_rank",
        ),
    ),
    Capability(
        ACTIVATIONS,
        "functional activations and softmax: gelu, silu, softplus, elu, leaky_relu, hardtanh, softmax, ...",
        backend=_members(
            "functional.",
            "gelu silu softplus elu selu celu leaky_relu hardtanh relu6 hardswish hardsigmoid mish logsigmoid "
            "softsign tanhshrink softshrink hardshrink glu prelu sigmoid tanh softmax log_softmax softmin "
            "threshold",
        ),
    ),
    Capability(
        CONVOLUTIONS,
        "functional convolutions with stride, padding, dilation and groups: conv1d/2d/3d, conv_transpose1d/2d/3d",
        backend=_members(
            "functional.",
            "conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d",
        ),
    ),
    Capability(
        POOLING,
        "functional average, max, power and adaptive pooling in one, two and three dimensions",
        backend=(
            *_members(
                "functional.",
                "avg_pool1d avg_pool2d avg_pool3d max_pool1d max_pool2d max_pool3d adaptive_avg_pool1d "
                "adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d adaptive_max_pool2d lp_pool1d lp_pool2d",
            ),
            "functional.avg_pool2d(ceil_mode=)",
        ),
    ),
    Capability(
        NORMALIZATION,
        "functional batch, layer, group, instance, RMS and local response norm, and normalize",
        backend=_members(
            "functional.",
            "batch_norm layer_norm group_norm instance_norm rms_norm local_response_norm normalize",
        ),
    ),
    Capability(
        LAYERS,
        "functional embedding, interpolate, pad, scaled_dot_product_attention, bilinear, fold/unfold and distances",
        backend=_members(
            "functional.",
            "embedding interpolate pad scaled_dot_product_attention bilinear pixel_shuffle pixel_unshuffle unfold "
            "fold cosine_similarity pairwise_distance grid_sample affine_grid linear",
        ),
    ),
    Capability(
        LOSSES,
        "functional losses: mse, l1, smooth_l1, huber, nll, cross_entropy (label smoothing), bce, kl_div, ...",
        backend=(
            *_members(
                "functional.",
                "mse_loss l1_loss smooth_l1_loss huber_loss nll_loss cross_entropy binary_cross_entropy "
                "binary_cross_entropy_with_logits kl_div poisson_nll_loss gaussian_nll_loss soft_margin_loss "
                "margin_ranking_loss hinge_embedding_loss cosine_embedding_loss triplet_margin_loss "
                "multilabel_soft_margin_loss multi_margin_loss",
            ),
            "functional.cross_entropy(label_smoothing=)",
            "functional.binary_cross_entropy_with_logits(pos_weight=)",
        ),
    ),
    Capability(
        UNARY,
        "elementwise tensor methods: trigonometric, hyperbolic, exponential, logarithmic, erf, abs, clamp, ...",
        tensor=_members(
            "",
            "cos tan asin acos atan sinh cosh asinh acosh atanh abs sqrt rsqrt reciprocal square erf erfc erfinv "
            "expm1 log1p log2 log10 exp2 sinc lgamma digamma frac relu clamp logit sigmoid tanh log sin neg "
            "deg2rad rad2deg nan_to_num polygamma mvlgamma i0",
        ),
    ),
    Capability(
        BINARY,
        "elementwise tensor methods of two tensors, broadcasting: maximum, minimum, atan2, hypot, lerp, xlogy, ...",
        tensor=(
            *_members(
                "",
                "maximum minimum fmax fmin atan2 hypot fmod remainder lerp addcmul addcdiv xlogy logaddexp "
                "logaddexp2 copysign float_power",
            ),
            "broadcasting",
        ),
    ),
    Capability(
        REDUCTIONS,
        "reductions over all elements or dims, with keepdim: prod, amax/amin, max/min, std/var, norm, "
        "logsumexp, cumsum/cumprod, ...",
        tensor=(
            *_members(
                "",
                "prod amax amin max min std var norm logsumexp cumsum cumprod cummax cummin logcumsumexp median "
                "nansum nanmean trace diff dist",
            ),
            "sum(dim=)",
            "mean(dim=)",
            "std(correction=)",
        ),
    ),
    Capability(
        SHAPES,
        "views and shape changes: view, permute, transpose, expand, squeeze, unsqueeze, split, flip, roll, ...",
        tensor=_members(
            "",
            "view permute transpose t mT expand expand_as squeeze unsqueeze split chunk unbind flip fliplr flipud "
            "roll repeat tile narrow movedim contiguous unflatten flatten diagonal diag_embed tril triu unfold "
            "repeat_interleave swapaxes rot90 tensor_split diag",
        ),
    ),
    Capability(
        INDEXING,
        "index-taking tensor methods: gather, scatter, scatter_add, index_select, masked_fill, take_along_dim, ...",
        tensor=_members(
            "",
            "gather scatter scatter_add scatter_reduce index_select masked_fill masked_select take_along_dim "
            "index_add index_copy index_fill take put index_put",
        ),
    ),
    Capability(
        FUNCTIONS,
        "torch-level functions of several tensors: cat, stack, where, einsum, bmm, outer, cdist, ...",
        backend=_members(
            "ops.",
            "cat stack hstack vstack dstack where einsum bmm baddbmm addmm addmv mm mv dot outer inner kron "
            "tensordot cdist cross block_diag cartesian_prod broadcast_to atleast_2d column_stack trapezoid "
            "cumulative_trapezoid logdet clamp",
        ),
    ),
    Capability(
        LINALG,
        "linalg: solve, inv, det, slogdet, cholesky, norms, eigvalsh, svdvals, pinv, matrix_power, ...",
        backend=_members(
            "linalg.",
            "solve inv det slogdet cholesky norm vector_norm matrix_norm eigvalsh svdvals pinv matrix_power "
            "multi_dot matrix_exp cross solve_triangular vecdot",
        ),
    ),
    Capability(
        SPECIAL,
        "special functions of one tensor: the Bessel functions of the first and second kind and their modified "
        "forms, orders 0 and 1",
        backend=_members(
            "special.",
            "bessel_j0 bessel_j1 bessel_y0 bessel_y1 modified_bessel_i0 modified_bessel_i1 modified_bessel_k0 "
            "modified_bessel_k1",
        ),
    ),
)

#: What every backend offers without declaring anything: creating tensors (``requires_grad=`` included) and
#: reading their values through the harness (``to_numpy``), the harness's hooks, and on tensors their shape,
#: arithmetic, comparison, indexing, ``sum``/``mean`` of all elements, ``exp`` and ``reshape``.
ALWAYS = Capability(
    "always",
    "granted to every spec: tensor creation, values, shapes, arithmetic, indexing",
    backend=(
        "name",
        "engine",
        "engine_version",
        "device",
        "capabilities",
        "known_failures_file",
        "findings_file",
        "lacks",
        "describe",
        "tensor",
        "rand",
        "randn",
        "ones",
        "zeros",
        "to_numpy",
        "synchronize",
        "seed",
        "reset",
        "global_state",
        "restore_global_state",
        "spec_scope",
    ),
    tensor=(
        "shape",
        "sum",
        "mean",
        "exp",
        "reshape",
        "__getitem__",
        "__neg__",
        "__eq__",
        "__ne__",
        *(f"__{prefix}{op}__" for op in ("add", "sub", "mul", "truediv", "pow") for prefix in ("", "r")),
    ),
)

BY_NAME: dict[str, Capability] = {capability.name: capability for capability in TABLE}
DESCRIPTIONS: dict[str, str] = {capability.name: capability.description for capability in TABLE}
ALL = frozenset(DESCRIPTIONS)


def granted(names: frozenset[str] | set[str], group: str) -> frozenset[str]:
    """The members of ``group`` (``backend``, ``tensor`` or ``objects``) that the capabilities ``names`` grant,
    with those granted always."""
    return frozenset(getattr(ALWAYS, group)).union(*(getattr(BY_NAME[name], group) for name in names))


def granting(member: str, group: str) -> list[str]:
    """The capabilities that grant ``member`` of ``group``; empty when no capability does."""
    return [capability.name for capability in TABLE if member in getattr(capability, group)]


def markdown() -> str:
    """The table as Markdown, as the README's "Capabilities" section shows it (a test keeps them equal)."""

    def members(capability: Capability) -> str:
        named = [f"`{path}`" for path in capability.backend]
        named += [f"tensor `{member}`" for member in capability.tensor]
        named += [f"`.{member}`" for member in capability.objects]
        return ", ".join(named) or "no member"

    rows = [f"| `{c.name}` | {c.description} | {members(c)} |" for c in (*TABLE, ALWAYS)]
    return "\n".join(["| capability | promise | grants |", "| --- | --- | --- |", *rows])
