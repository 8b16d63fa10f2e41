"""Mutants of operator gradients: one per ``opgrad`` spec, each an operator whose forward is right and whose
backward sends one input twice its gradient (the commonest kind of wrong derivative an engine ships).

The mutants are generated from :data:`WRONG_GRADIENTS`, one line per operator: the name torch's
``__torch_function__`` receives it by, which input's gradient is doubled, and, where two specs exercise the
same operator, the call that is broken (``sum`` with and without ``dim``). The rest of the catalogue is the
compact :data:`DOUBLED` table: (spec, operator, input), the operator the entry is about as
``__torch_function__`` names it and its first input that requires grad (a list, such as ``cat``'s, has its
first such tensor doubled). :data:`EDGE_CASES` break an operator only on non-contiguous inputs, or only when
broadcasting, and are caught by the entries written for those edge cases; :data:`FLOAT32_ONLY` break an
operator in float32 only, and are caught by the entry's ``float32`` check; :data:`NAN_FORMULAS` compute a gradient
by the textbook formula that is NaN at a point where the function is differentiable (``prod / x`` at a zero factor),
and :data:`AT_ZERO` are wrong at 0 alone, where the function is smooth (``i0`` through ``|x|``); :data:`BY_EQUALITY`
send a maximum's gradient to every element equal to it, wrong over equal values alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from . import mutant
from .corrupted_tensors import CorruptedTensor, CorruptedTensorBackend


def with_doubled_gradient(value: torch.Tensor | list | tuple) -> torch.Tensor | list | tuple:
    """The same values, whose gradient flows back twice as large (in a list of tensors, the first one's)."""
    if isinstance(value, (list, tuple)):
        first = next(i for i, item in enumerate(value) if isinstance(item, torch.Tensor) and item.requires_grad)
        return type(value)(with_doubled_gradient(item) if i == first else item for i, item in enumerate(value))
    return value * 2 - value.detach()


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
    #: the mutant's name is ``<kind>-<spec>``
    kind: str = "wrong-grad"
    #: specs (without ``opgrad.``) it passes: the same operator on inputs without the edge case it breaks
    keeps: tuple[str, ...] = ()
    #: ``formula(func, args, kwargs)``, the operator with another backward, in place of the doubled gradient
    formula: Callable | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.spec}"


def with_dim(args: tuple, kwargs: dict) -> bool:
    return "dim" in kwargs or len(args) > 1


def without_dim(args: tuple, kwargs: dict) -> bool:
    return not with_dim(args, kwargs)


def non_contiguous(args: tuple, kwargs: dict) -> bool:
    """The operator's first input is a non-contiguous view (transposed, strided, permuted)."""
    return not CorruptedTensor.call(torch.Tensor.is_contiguous, args[0])


def broadcasting(args: tuple, kwargs: dict) -> bool:
    """The operator's first two inputs are tensors of different shapes."""
    return isinstance(args[1], torch.Tensor) and tuple(args[0].shape) != tuple(args[1].shape)


def in_float32(args: tuple, kwargs: dict) -> bool:
    """The operator's first input is a float32 tensor (a backward wrong in one dtype's kernel only)."""
    return CorruptedTensor.attribute(args[0], "dtype") == torch.float32


def both_batched(args: tuple, kwargs: dict) -> bool:
    """Both operands of a product have batch dimensions (and so may both broadcast)."""
    return args[0].dim() >= 3 and args[1].dim() >= 3


def every_operand_broadcast(args: tuple, kwargs: dict) -> bool:
    """Each of the first two operands is a tensor of another shape than the broadcast result."""
    if not broadcasting(args, kwargs):
        return False
    shape = torch.broadcast_shapes(args[0].shape, args[1].shape)
    return tuple(args[0].shape) != tuple(shape) and tuple(args[1].shape) != tuple(shape)


def non_square_matrix_with_dim(args: tuple, kwargs: dict) -> bool:
    """A reduction over a dimension of a non-square matrix (where a transposed Jacobian has the wrong shape)."""
    return with_dim(args, kwargs) and args[0].dim() == 2 and args[0].shape[0] != args[0].shape[1]


def not_last_dim(args: tuple, kwargs: dict) -> bool:
    """A reduction over one dimension that is not the last."""
    dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
    return isinstance(dim, int) and dim % args[0].dim() != args[0].dim() - 1


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
#: (spec, operator, input) of the generated mutants of the rest of the catalogue
# fmt: off
DOUBLED = [
    ("cos", "cos", 0), ("tan", "tan", 0), ("asin", "asin", 0), ("acos", "acos", 0), ("atan", "atan", 0),
    ("sinh", "sinh", 0), ("cosh", "cosh", 0), ("asinh", "asinh", 0), ("acosh", "acosh", 0), ("atanh", "atanh", 0),
    ("abs", "abs", 0), ("sqrt", "sqrt", 0), ("sqrt-0d", "sqrt", 0), ("rsqrt", "rsqrt", 0),
    ("reciprocal", "reciprocal", 0), ("square", "square", 0), ("erf", "erf", 0), ("erfc", "erfc", 0),
    ("erfinv", "erfinv", 0), ("expm1", "expm1", 0), ("log1p", "log1p", 0), ("log2", "log2", 0), ("log10", "log10", 0),
    ("exp2", "exp2", 0), ("sinc", "sinc", 0), ("lgamma", "lgamma", 0), ("digamma", "digamma", 0),
    ("polygamma", "polygamma", 0), ("mvlgamma", "mvlgamma", 0), ("i0", "i0", 0), ("frac", "frac", 0),
    ("relu-method", "relu", 0), ("clamp", "clamp", 0), ("clamp-min", "clamp", 0), ("logit", "logit", 0),
    ("neg", "neg", 0), ("deg2rad", "deg2rad", 0), ("rad2deg", "rad2deg", 0), ("nan-to-num", "nan_to_num", 0),
    ("exp-0d", "exp", 0), ("exp-empty", "exp", 0), ("exp-transposed", "exp", 0), ("exp-strided", "exp", 0),
    ("exp-expanded", "expand", 0), ("sin-transposed", "sin", 0), ("sqrt-strided", "sqrt", 0), ("gelu", "gelu", 0),
    ("gelu-tanh", "gelu", 0), ("silu", "silu", 0), ("softplus", "softplus", 0),
    ("softplus-beta-threshold", "softplus", 0), ("elu", "elu", 0), ("elu-alpha", "elu", 0), ("selu", "selu", 0),
    ("celu", "celu", 0), ("leaky-relu", "leaky_relu", 0), ("leaky-relu-slope", "leaky_relu", 0),
    ("hardtanh", "hardtanh", 0), ("relu6", "relu6", 0), ("hardswish", "hardswish", 0),
    ("hardsigmoid", "hardsigmoid", 0), ("mish", "mish", 0), ("logsigmoid", "log_sigmoid", 0),
    ("softsign", "softsign", 0), ("tanhshrink", "tanhshrink", 0), ("softshrink", "softshrink", 0),
    ("hardshrink", "hardshrink", 0), ("threshold", "_threshold", 0), ("glu", "glu", 0), ("prelu", "prelu", 0),
    ("sigmoid-functional", "sigmoid", 0), ("tanh-functional", "tanh", 0), ("softmax", "softmax", 0),
    ("softmax-dim0-3d", "softmax", 0), ("softmax-transposed", "softmax", 0), ("log-softmax", "log_softmax", 0),
    ("softmin", "softmin", 0), ("relu-expanded", "expand", 0), ("gelu-strided", "gelu", 0),
    ("add-0d-broadcast", "add", 0), ("sub-size1-broadcast", "sub", 0), ("mul-both-broadcast", "mul", 0),
    ("mul-same-shape", "mul", 0), ("mul-expanded", "expand", 0), ("mul-transposed", "mul", 0),
    ("mul-empty-broadcast", "mul", 0), ("div-0d", "div", 0), ("pow-0d-exponent", "pow", 0), ("rpow", "__rpow__", 0),
    ("rdiv", "__rdiv__", 0), ("rsub", "__rsub__", 0), ("sqrt-by-pow", "pow", 0), ("maximum", "maximum", 0),
    ("minimum", "minimum", 0), ("maximum-transposed", "maximum", 0), ("fmax", "fmax", 0), ("fmin", "fmin", 0),
    ("atan2", "atan2", 0), ("hypot", "hypot", 0), ("fmod", "fmod", 0), ("remainder", "remainder", 0),
    ("lerp", "lerp", 0), ("lerp-scalar", "lerp", 0), ("addcmul", "addcmul", 0), ("addcdiv", "addcdiv", 0),
    ("xlogy", "xlogy", 0), ("logaddexp", "logaddexp", 0), ("logaddexp2", "logaddexp2", 0),
    ("copysign", "copysign", 0), ("float-power", "float_power", 0), ("where", "where", 1), ("where-0d", "where", 1),
    ("clamp-tensor-bounds", "clamp", 0), ("sum-0d", "sum", 0), ("sum-empty", "sum", 0),
    ("sum-dims-negative", "sum", 0), ("sum-transposed", "sum", 0), ("sum-expanded", "expand", 0),
    ("mean-keepdim", "mean", 0), ("prod", "prod", 0), ("prod-dim", "prod", 0), ("prod-dim-keepdim", "prod", 0),
    ("amax", "amax", 0), ("amax-dims-keepdim", "amax", 0), ("amin", "amin", 0), ("max-all", "max", 0),
    ("max-dim", "max", 0), ("min-dim-keepdim", "min", 0), ("min-all", "min", 0), ("amax-over-copies", "amax", 0),
    ("max-all-over-copies", "max", 0), ("max-dim-over-copies", "max", 0), ("std", "std", 0),
    ("std-dim-correction0", "std", 0), ("var", "var", 0), ("var-dim-keepdim", "var", 0), ("norm", "norm", 0),
    ("norm-p1-dim", "norm", 0), ("norm-p3", "norm", 0), ("logsumexp", "logsumexp", 0),
    ("logsumexp-dims-keepdim", "logsumexp", 0), ("cumsum", "cumsum", 0), ("cumsum-transposed", "cumsum", 0),
    ("cumprod", "cumprod", 0), ("cumprod-dim0", "cumprod", 0), ("cummax", "cummax", 0), ("cummin", "cummin", 0),
    ("logcumsumexp", "logcumsumexp", 0), ("median", "median", 0), ("median-dim", "median", 0),
    ("nansum", "nansum", 0), ("nanmean", "nanmean", 0), ("trace", "trace", 0), ("diff", "diff", 0),
    ("dist", "dist", 0), ("view", "view", 0), ("view-inferred", "view", 0), ("reshape-transposed", "reshape", 0),
    ("permute", "permute", 0), ("transpose", "transpose", 0), ("t", "t", 0), ("mt-batched", "pow", 0),
    ("expand", "expand", 0), ("expand-0d", "expand", 0), ("expand-as", "expand_as", 0), ("squeeze", "squeeze", 0),
    ("squeeze-dim", "squeeze", 0), ("unsqueeze", "unsqueeze", 0), ("unsqueeze-negative", "unsqueeze", 0),
    ("split", "split", 0), ("split-sizes", "split", 0), ("chunk", "chunk", 0), ("unbind", "unbind", 0),
    ("flip", "flip", 0), ("flip-dims", "flip", 0), ("fliplr", "fliplr", 0), ("flipud", "flipud", 0),
    ("roll", "roll", 0), ("roll-dims", "roll", 0), ("repeat", "repeat", 0), ("tile", "tile", 0),
    ("narrow", "narrow", 0), ("movedim", "movedim", 0), ("contiguous-transposed", "contiguous", 0),
    ("unflatten", "unflatten", 0), ("flatten-range", "flatten", 0), ("diagonal", "diagonal", 0),
    ("diagonal-offset-dims", "diagonal", 0), ("diag-embed", "diag_embed", 0), ("diag", "diag", 0),
    ("tril", "tril", 0), ("triu-offset", "triu", 0), ("unfold-windows", "unfold", 0),
    ("repeat-interleave", "repeat_interleave", 0), ("swapaxes", "swapaxes", 0), ("rot90", "rot90", 0),
    ("tensor-split", "tensor_split", 0), ("slice-strided", "__getitem__", 0),
    ("index-int-ellipsis", "__getitem__", 0), ("index-none", "__getitem__", 0),
    ("index-advanced-repeated", "__getitem__", 0), ("index-advanced-2d", "__getitem__", 0),
    ("index-boolean-mask", "__getitem__", 0), ("gather", "gather", 0), ("gather-dim0", "gather", 0),
    ("gather-transposed", "gather", 0), ("scatter", "scatter", 0), ("scatter-add", "scatter_add", 0),
    ("scatter-reduce-sum", "scatter_reduce", 0), ("index-select", "index_select", 0),
    ("index-select-dim1", "index_select", 0), ("masked-fill", "masked_fill", 0),
    ("masked-select", "masked_select", 0), ("take-along-dim", "take_along_dim", 0), ("index-add", "index_add", 0),
    ("index-copy", "index_copy", 0), ("index-fill", "index_fill", 0), ("take", "take", 0), ("put", "put", 0),
    ("index-put", "index_put", 0), ("cat", "cat", 0), ("cat-dim1", "cat", 0), ("cat-empty", "cat", 0),
    ("cat-transposed", "cat", 0), ("stack", "stack", 0), ("stack-last-dim", "stack", 0), ("hstack", "hstack", 0),
    ("vstack", "vstack", 0), ("dstack", "dstack", 0), ("einsum-matmul", "einsum", 1), ("einsum-batched", "einsum", 1),
    ("einsum-trace", "einsum", 1), ("einsum-outer-broadcast", "einsum", 1), ("einsum-reduce", "einsum", 1),
    ("bmm", "bmm", 0), ("bmm-transposed", "bmm", 0), ("baddbmm", "baddbmm", 0), ("addmm", "addmm", 0),
    ("addmv", "addmv", 0), ("mm", "mm", 0), ("mm-expanded", "expand", 0), ("mv", "mv", 0), ("dot", "dot", 0),
    ("outer", "outer", 0), ("inner", "inner", 0), ("kron", "kron", 0), ("tensordot", "tensordot", 0),
    ("cdist", "cdist", 0), ("cross", "cross", 0), ("block-diag", "block_diag", 0),
    ("cartesian-prod", "cartesian_prod", 0), ("broadcast-to", "broadcast_to", 0), ("column-stack", "column_stack", 0),
    ("atleast-2d-0d", "atleast_2d", 0), ("trapezoid", "trapezoid", 0),
    ("cumulative-trapezoid", "cumulative_trapezoid", 0), ("logdet", "logdet", 0), ("linalg-solve", "linalg_solve", 0),
    ("linalg-solve-batched-broadcast", "linalg_solve", 0), ("linalg-inv", "linalg_inv", 0),
    ("linalg-inv-batched", "linalg_inv", 0), ("linalg-det", "linalg_det", 0), ("linalg-det-batched", "linalg_det", 0),
    ("linalg-slogdet", "linalg_slogdet", 0), ("linalg-cholesky", "linalg_cholesky", 0),
    ("linalg-norm", "linalg_norm", 0), ("linalg-vector-norm-ord3-dim", "linalg_vector_norm", 0),
    ("linalg-vector-norm-inf", "linalg_vector_norm", 0), ("linalg-matrix-norm-nuclear", "linalg_matrix_norm", 0),
    ("linalg-matrix-norm-2", "linalg_matrix_norm", 0), ("linalg-eigvalsh", "linalg_eigvalsh", 0),
    ("linalg-svdvals", "linalg_svdvals", 0), ("linalg-pinv", "linalg_pinv", 0),
    ("linalg-matrix-power", "linalg_matrix_power", 0), ("linalg-matrix-power-negative", "linalg_matrix_power", 0),
    ("linalg-multi-dot", "linalg_multi_dot", 0), ("linalg-matrix-exp", "linalg_matrix_exp", 0),
    ("linalg-cross", "linalg_cross", 0), ("linalg-solve-triangular", "linalg_solve_triangular", 0),
    ("linalg-vecdot", "linalg_vecdot", 0), ("linalg-inv-transposed", "linalg_inv", 0),
    ("bessel-j0", "special_bessel_j0", 0), ("bessel-j1", "special_bessel_j1", 0),
    ("bessel-y0", "special_bessel_y0", 0), ("bessel-y1", "special_bessel_y1", 0),
    ("modified-bessel-i0", "special_modified_bessel_i0", 0), ("modified-bessel-i1", "special_modified_bessel_i1", 0),
    ("modified-bessel-k0", "special_modified_bessel_k0", 0), ("modified-bessel-k1", "special_modified_bessel_k1", 0),
    ("conv1d", "conv1d", 0),
    ("conv1d-stride-padding-dilation", "conv1d", 0), ("conv1d-groups", "conv1d", 0), ("conv2d-groups", "conv2d", 0),
    ("conv2d-depthwise", "conv2d", 0), ("conv2d-dilation", "conv2d", 0), ("conv2d-padding-same", "conv2d", 0),
    ("conv2d-channels-last", "conv2d", 0), ("conv3d", "conv3d", 0), ("conv3d-stride", "conv3d", 0),
    ("conv-transpose1d", "conv_transpose1d", 0), ("conv-transpose2d", "conv_transpose2d", 0),
    ("conv-transpose2d-stride-output-padding", "conv_transpose2d", 0),
    ("conv-transpose2d-groups-dilation", "conv_transpose2d", 0), ("conv-transpose3d", "conv_transpose3d", 0),
    ("avg-pool1d", "avg_pool1d", 0), ("avg-pool2d", "avg_pool2d", 0), ("avg-pool2d-padding-exclude", "avg_pool2d", 0),
    ("avg-pool2d-ceil-mode", "avg_pool2d", 0), ("avg-pool3d", "avg_pool3d", 0), ("max-pool1d", "max_pool1d", 0),
    ("max-pool2d-dilation", "max_pool2d", 0), ("max-pool2d-transposed", "max_pool2d", 0),
    ("max-pool3d", "max_pool3d", 0), ("adaptive-avg-pool1d", "adaptive_avg_pool1d", 0),
    ("adaptive-avg-pool2d-uneven", "adaptive_avg_pool2d", 0), ("adaptive-avg-pool3d", "adaptive_avg_pool3d", 0),
    ("adaptive-max-pool1d", "adaptive_max_pool1d", 0), ("adaptive-max-pool2d", "adaptive_max_pool2d", 0),
    ("lp-pool1d", "lp_pool1d", 0), ("lp-pool2d", "lp_pool2d", 0), ("layer-norm", "layer_norm", 0),
    ("layer-norm-2d-shape", "layer_norm", 0), ("layer-norm-no-affine", "layer_norm", 0),
    ("layer-norm-transposed", "layer_norm", 0), ("group-norm", "group_norm", 0),
    ("group-norm-no-affine", "group_norm", 0), ("instance-norm", "instance_norm", 0),
    ("batch-norm-1d-train", "batch_norm", 0), ("rms-norm", "rms_norm", 0),
    ("local-response-norm", "local_response_norm", 0), ("normalize", "normalize", 0),
    ("normalize-p1-dim0", "normalize", 0), ("embedding", "embedding", 1), ("interpolate-nearest", "interpolate", 0),
    ("interpolate-bilinear", "interpolate", 0), ("interpolate-bilinear-align-corners", "interpolate", 0),
    ("interpolate-bicubic", "interpolate", 0), ("interpolate-linear", "interpolate", 0),
    ("interpolate-trilinear", "interpolate", 0), ("interpolate-area", "interpolate", 0), ("pad-constant", "pad", 0),
    ("pad-reflect", "pad", 0), ("pad-replicate", "pad", 0), ("pad-circular", "pad", 0),
    ("scaled-dot-product-attention", "scaled_dot_product_attention", 0),
    ("scaled-dot-product-attention-causal", "scaled_dot_product_attention", 0),
    ("scaled-dot-product-attention-mask", "scaled_dot_product_attention", 0), ("bilinear", "bilinear", 0),
    ("linear-no-bias-batched", "linear", 0), ("pixel-shuffle", "pixel_shuffle", 0),
    ("pixel-unshuffle", "pixel_unshuffle", 0), ("unfold-im2col", "unfold", 0), ("fold-col2im", "fold", 0),
    ("cosine-similarity", "cosine_similarity", 0), ("pairwise-distance", "pairwise_distance", 0),
    ("grid-sample", "grid_sample", 0), ("affine-grid", "affine_grid", 0), ("mse-loss", "mse_loss", 0),
    ("mse-loss-sum-both", "mse_loss", 0), ("mse-loss-none", "mse_loss", 0), ("l1-loss", "l1_loss", 0),
    ("smooth-l1-loss", "smooth_l1_loss", 0), ("smooth-l1-loss-beta", "smooth_l1_loss", 0),
    ("huber-loss", "huber_loss", 0), ("nll-loss", "nll_loss", 0), ("nll-loss-weight-ignore", "nll_loss", 0),
    ("nll-loss-2d", "nll_loss", 0), ("cross-entropy-label-smoothing", "cross_entropy", 0),
    ("cross-entropy-probabilities", "cross_entropy", 0), ("cross-entropy-weight-sum", "cross_entropy", 0),
    ("binary-cross-entropy", "binary_cross_entropy", 0), ("binary-cross-entropy-weight", "binary_cross_entropy", 0),
    ("bce-with-logits", "binary_cross_entropy_with_logits", 0),
    ("bce-with-logits-pos-weight", "binary_cross_entropy_with_logits", 0), ("kl-div", "kl_div", 0),
    ("kl-div-log-target", "kl_div", 0), ("poisson-nll-loss", "poisson_nll_loss", 0),
    ("gaussian-nll-loss", "gaussian_nll_loss", 0), ("soft-margin-loss", "soft_margin_loss", 0),
    ("margin-ranking-loss", "margin_ranking_loss", 0), ("hinge-embedding-loss", "hinge_embedding_loss", 0),
    ("cosine-embedding-loss", "cosine_embedding_loss", 0), ("triplet-margin-loss", "triplet_margin_loss", 0),
    ("multilabel-soft-margin-loss", "multilabel_soft_margin_loss", 0), ("multi-margin-loss", "multi_margin_loss", 0),
    ("matmul-vector-matrix", "matmul", 1), ("mul-0d-both", "mul", 1), ("linear-broadcast-batched", "linear", 2),
    ("mul-inplace", "mul_", 1), ("add-inplace-alpha", "add_", 1), ("div-inplace", "div_", 1),
    ("mul-inplace-through-view", "mul_", 1),
]
# fmt: on
WRONG_GRADIENTS += [
    WrongGradient(spec, operator, f"{operator}: the gradient of its input {argument}", argument=argument)
    for spec, operator, argument in DOUBLED
]


def edge_case(spec: str, operator: str, kept: str, *, argument: int = 0, on_views: bool = True) -> WrongGradient:
    """A mutant whose ``operator`` is wrong only on non-contiguous inputs (``on_views``) or only when
    broadcasting, caught by ``opgrad.<spec>`` and passing ``opgrad.<kept>``, which lacks that edge case."""
    when, kind, edge = (
        (non_contiguous, "view-grad", "non-contiguous") if on_views else (broadcasting, "broadcast-grad", "broadcast")
    )
    broken = f"{operator} on {edge} inputs: the gradient of its input {argument}"
    return WrongGradient(spec, operator, broken, argument=argument, when=when, kind=kind, keeps=(kept,))


# fmt: off
EDGE_CASES = [
    edge_case("exp-transposed", "exp", "exp"),
    edge_case("exp-strided", "exp", "exp"),
    edge_case("sin-transposed", "sin", "sin"),
    edge_case("sqrt-strided", "sqrt", "sqrt"),
    edge_case("gelu-strided", "gelu", "gelu"),
    edge_case("softmax-transposed", "softmax", "softmax"),
    edge_case("mul-transposed", "mul", "mul-same-shape"),
    edge_case("maximum-transposed", "maximum", "maximum"),
    edge_case("sum-transposed", "sum", "sum-dims-negative"),
    edge_case("cumsum-transposed", "cumsum", "cumsum"),
    edge_case("gather-transposed", "gather", "gather"),
    edge_case("bmm-transposed", "bmm", "bmm"),
    edge_case("conv2d-channels-last", "conv2d", "conv2d-dilation"),
    edge_case("max-pool2d-transposed", "max_pool2d", "max-pool2d-dilation"),
    edge_case("layer-norm-transposed", "layer_norm", "layer-norm"),
    edge_case("linalg-inv-transposed", "linalg_inv", "linalg-inv"),
    edge_case("mul-broadcast", "mul", "mul-same-shape", argument=1, on_views=False),
    edge_case("mul-both-broadcast", "mul", "mul-same-shape", on_views=False),
    edge_case("add-0d-broadcast", "add", "add-residual", argument=1, on_views=False),
    edge_case("div-0d", "div", "rdiv", argument=1, on_views=False),
    edge_case("maximum", "maximum", "maximum-transposed", argument=1, on_views=False),
    WrongGradient("matmul-broadcast-both-batched", "matmul", "matmul with both operands batched: the first's gradient",
                  when=both_batched, kind="shape-grad", keeps=("matmul-batched-broadcast",)),
    WrongGradient("add-broadcast-every-operand", "add", "addition broadcasting both operands: the first's gradient",
                  when=every_operand_broadcast, kind="shape-grad", keeps=("add-0d-broadcast",)),
    WrongGradient("sum-dim0-non-square", "sum", "sum over a dimension of a non-square matrix: the input's gradient",
                  when=non_square_matrix_with_dim, kind="shape-grad", keeps=("sum-dims-negative",)),
    WrongGradient("mean-dim-batched-non-square", "mean", "mean over a dimension other than the last: the gradient",
                  when=not_last_dim, kind="shape-grad", keeps=("mean-keepdim",)),
]
#: wrong only in float32, caught by the ``float32`` check of the entry (its float64 checks hold)
FLOAT32_ONLY = [
    WrongGradient(spec, operator, f"{operator} in float32 only: the gradient of its input {argument}",
                  argument=argument, when=in_float32, kind="float32-grad")
    for spec, operator, argument in (("exp", "exp", 0), ("sigmoid", "sigmoid", 0), ("matmul", "matmul", 1))
]
# fmt: on


def prod_by_logs(func: Callable, args: tuple, kwargs: dict) -> torch.Tensor:
    """``prod(x[, dim, keepdim])`` with torch's value, differentiated as ``Π sign(x) · exp(Σ log|x|)``: every
    derivative is the textbook formula's (``prod / x`` first), right where no factor is 0, NaN at a zero factor
    (``0 · ∞``)."""
    (x,) = args
    dim, keepdim = kwargs.get("dim"), kwargs.get("keepdim", False)
    reduced = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    smooth = torch.sign(x).prod(**reduced) * torch.exp(torch.log(torch.abs(x)).sum(**reduced))
    return func(x.detach(), **kwargs) + (smooth - smooth.detach())


def std_by_sqrt(func: Callable, args: tuple, kwargs: dict) -> torch.Tensor:
    """``std(x, dim=, correction=)`` with torch's value, differentiated as ``sqrt(var(x))``: every derivative is
    the textbook formula's (``(x - mean) / ((n - correction) std)`` first), right where the deviation is not 0,
    NaN where it is (a dimension of one element: ``0 · ∞``)."""
    (x,) = args
    smooth = torch.sqrt(torch.var(x, **kwargs))
    return func(x.detach(), **kwargs) + (smooth - smooth.detach())


def cumprod_by_logs(func: Callable, args: tuple, kwargs: dict) -> torch.Tensor:
    """``cumprod(x, dim)`` with torch's value, differentiated as ``cumprod(sign(x)) · exp(cumsum(log|x|))``: the
    textbook formula (``cumprod / x`` summed), NaN through a zero factor."""
    x, *rest = args
    dim = kwargs["dim"] if "dim" in kwargs else rest[0]
    smooth = torch.sign(x).cumprod(dim) * torch.exp(torch.log(torch.abs(x)).cumsum(dim))
    return func(x.detach(), *rest, **kwargs) + (smooth - smooth.detach())


def i0_through_abs(func: Callable, args: tuple, kwargs: dict) -> torch.Tensor:
    """``i0(x)`` with torch's value, differentiated as ``exp(|x|) · i0e(x)`` with ``|x|``'s derivative at 0 taken
    as 1: right everywhere but at 0, where its gradient is 1 (not 0) and its second derivative 3/2 (not 1/2)."""
    (x,) = args
    smooth = torch.exp(torch.where(x >= 0, x, -x)) * torch.special.i0e(x)
    return func(x.detach()) + (smooth - smooth.detach())


def i1_gradient_one_at_zero(func: Callable, args: tuple, kwargs: dict) -> torch.Tensor:
    """``modified_bessel_i1(x)`` whose gradient at exactly 0 is ``I0(0) = 1`` (the ``I0 - I1/x`` formula's
    first term alone) instead of 1/2: right everywhere else, and in every second derivative."""
    (x,) = args
    at_zero = (x.detach() == 0).to(x.dtype)
    return func(x) + 0.5 * at_zero * (x - x.detach())


#: formulas right everywhere but at one point where the function is smooth: 0 for i0 and I1 (jax's i0 goes through
#: |x|; TensorFlow's I1 gradient at 0 is 1)
AT_ZERO = [
    WrongGradient(
        "i0-at-zero",
        "i0",
        "i0 as exp(|x|) i0e(x), |x|' = 1 at 0",
        kind="kink-grad",
        keeps=("i0",),
        formula=i0_through_abs,
    ),
    WrongGradient(
        "modified-bessel-i1-at-zero",
        "special_modified_bessel_i1",
        "I1's gradient at 0 taken as 1",
        kind="kink-grad",
        keeps=("modified-bessel-i1",),
        formula=i1_gradient_one_at_zero,
    ),
]


def max_by_equality(func: Callable, args: tuple, kwargs: dict) -> torch.Tensor | tuple:
    """``amax``'s or ``max``'s value (and indices), differentiated by equality: the whole gradient to every element
    equal to the maximum, not shared among equal values (amax, max()) nor sent to the indexed one (max(dim)). Right
    without ties; over k copies of one value the value's gradient is k times its own."""
    x, *rest = args
    result = func(x.detach(), *rest, **kwargs)
    values = result[0] if isinstance(result, tuple) else result
    dim = kwargs.get("dim", rest[0] if rest else None)
    keepdim = kwargs.get("keepdim", rest[1] if len(rest) > 1 else False)
    reduced = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    peak = x.detach().amax(dim=() if dim is None else dim, keepdim=True)
    smooth = (x * (x.detach() == peak)).sum(**reduced)
    values = values + (smooth - smooth.detach())
    return type(result)((values, *result[1:])) if isinstance(result, tuple) else values


#: a maximum's gradient sent by equality, caught by the entries over copies of one value and passing those without
#: equal values (jittor's, backends/findings/jittor.json)
BY_EQUALITY = [
    WrongGradient(
        spec,
        operator,
        f"{operator}: the gradient by equality",
        when=when,
        kind="equality-grad",
        keeps=keeps,
        formula=max_by_equality,
    )
    for spec, operator, when, keeps in (
        ("amax-over-copies", "amax", always, ("amax", "amax-dims-keepdim")),
        ("max-all-over-copies", "max", without_dim, ("max-all",)),
        ("max-dim-over-copies", "max", with_dim, ("max-dim",)),
    )
]


#: the textbook formula of a gradient where it is NaN at a point the function is differentiable at, caught by the
#: entry that draws that point and passing the one that does not
NAN_FORMULAS = [
    WrongGradient(
        "prod-with-zero",
        "prod",
        "prod's gradient as prod / x",
        when=without_dim,
        kind="nan-grad",
        keeps=("prod",),
        formula=prod_by_logs,
    ),
    WrongGradient(
        "prod-dim-with-zero",
        "prod",
        "prod(dim)'s gradient as prod / x",
        when=with_dim,
        kind="nan-grad",
        keeps=("prod-dim",),
        formula=prod_by_logs,
    ),
    WrongGradient(
        "cumprod-with-zero",
        "cumprod",
        "cumprod's gradient as a sum of cumprod / x",
        kind="nan-grad",
        keeps=("cumprod", "cumprod-dim0"),
        formula=cumprod_by_logs,
    ),
    WrongGradient(
        "std-one-element",
        "std",
        "std's gradient as (x - mean) / ((n - correction) std)",
        when=with_dim,
        kind="nan-grad",
        keeps=("std-dim-correction0",),
        formula=std_by_sqrt,
    ),
]


class WrongGradientTensor(CorruptedTensor):
    """Tensors on which :attr:`wrong` holds: its operator doubles one input's gradient."""

    wrong: WrongGradient

    @classmethod
    def corrupt(cls, func, args, kwargs):
        if getattr(func, "__name__", None) == cls.wrong.operator and cls.wrong.when(args, kwargs):
            if cls.wrong.formula is not None:
                return cls.call(cls.wrong.formula, func, args, kwargs)
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
    mutant(wrong.name, breaks=f"opgrad.{wrong.spec}", keeps=tuple(f"opgrad.{kept}" for kept in wrong.keeps))(backend)


for _wrong in WRONG_GRADIENTS + EDGE_CASES + FLOAT32_ONLY + NAN_FORMULAS + AT_ZERO + BY_EQUALITY:
    register(_wrong)
