"""NumPy float64 oracles of the nn modules the seeds use, each with the error bound a correct float32 engine keeps.

Written from the documented formulas, not from torch: a module that passes its arguments wrongly to its
functional operator, or computes a wrong gradient, cannot share the mistake with the oracle.

Error model. Each output of a convolution or linear layer, and each of their gradients, is a sum of n products
of float32 factors. A correct engine may round every factor to TF32 first (10 mantissa bits, unit roundoff
2^-11: cuDNN's default on NVIDIA GPUs and the benign variant ``tf32``), which moves a product by at most
2·2^-11 of its size, and adds the products in any order, which moves the sum by at most n·2^-24 of the sum of
the products' sizes (Higham's bound for recursive summation). So each element is within
(2·2^-11 + n·2^-24) · Σ|terms| of the exact value; :func:`bound` computes Σ|terms| by running the same
formula on absolute values, and :func:`assert_within` doubles the bound, which no correct rounding reaches
(the bound is already the worst case), while a wrong padding, layout or gradient moves elements by the size of
the terms themselves.
"""

from __future__ import annotations

import numpy as np

TF32_UNIT = 2.0**-11
FLOAT32_UNIT = 2.0**-24


def assert_within(actual, exact, magnitude, terms: int, name: str, products: bool = True) -> None:
    """actual is exact within twice the error bound (2·2^-11 + terms·2^-24) · magnitude, element by element;
    without the 2·2^-11 of TF32 factors where no matrix product or convolution is involved (products=False:
    batch norm's statistics, pooling, ReLU).

    Compared as error over tolerance, which must stay within 1 (the ratio :mod:`conformance.margins` records)."""
    unit = (2 * TF32_UNIT if products else 0.0) + terms * FLOAT32_UNIT
    tolerance = 2 * unit * np.asarray(magnitude, dtype=np.float64) + 1e-30
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == np.shape(exact), f"{name}: shape {actual.shape}, expected {np.shape(exact)}"
    np.testing.assert_allclose((actual - exact) / tolerance, 0.0, rtol=0, atol=1, err_msg=f"{name} (error / bound)")


def bound(formula, *arrays):
    """Σ|terms| of each element of formula(*arrays), for a formula that is linear in each of its arrays."""
    return formula(*(np.abs(array) for array in arrays))


def _patches(x, kernel, stride, padding):
    """x (N, C, H, W) padded, as (N, C, kh, kw, Ho, Wo): the input under each kernel position of each output."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out_h, out_w = (padded.shape[2] - kh) // sh + 1, (padded.shape[3] - kw) // sw + 1
    patches = np.empty((*x.shape[:2], kh, kw, out_h, out_w))
    for p in range(kh):
        for q in range(kw):
            patches[:, :, p, q] = padded[:, :, p : p + sh * out_h : sh, q : q + sw * out_w : sw]
    return patches


def conv2d(x, weight, stride, padding):
    """out[n, o, i, j] = Σ_{c, p, q} weight[o, c, p, q] · x_padded[n, c, i·sh + p, j·sw + q] (bias added apart)."""
    return np.einsum("ncpqhw,ocpq->nohw", _patches(x, weight.shape[2:], stride, padding), weight)


def conv2d_weight_grad(x, grad, kernel, stride, padding):
    """d Σ(out · grad) / d weight."""
    return np.einsum("ncpqhw,nohw->ocpq", _patches(x, kernel, stride, padding), grad)


def conv2d_input_grad(weight, grad, input_shape, stride, padding):
    """d Σ(out · grad) / d x: each output's gradient scattered back over the input positions it read."""
    (kh, kw), (sh, sw), (ph, pw) = weight.shape[2:], stride, padding
    n, c, h, w = input_shape
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    per_position = np.einsum("ocpq,nohw->ncpqhw", weight, grad)
    out_h, out_w = grad.shape[2:]
    for p in range(kh):
        for q in range(kw):
            padded[:, :, p : p + sh * out_h : sh, q : q + sw * out_w : sw] += per_position[:, :, p, q]
    return padded[:, :, ph : ph + h, pw : pw + w]


def batch_norm_train(x, weight, bias, eps):
    """Batch norm over (N, H, W) per channel with the batch's mean and biased variance; returns the output, the
    mean, the biased variance and the normalized input."""
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    normalized = (x - mean) / np.sqrt(var + eps)
    return normalized * weight[:, None, None] + bias[:, None, None], mean, var, normalized


def batch_norm_train_grads(grad, normalized, var, weight, eps):
    """Gradients of Σ(out · grad) w.r.t. x, weight and bias for batch statistics:
    dx = weight / sqrt(var + eps) · (grad - mean(grad) - normalized · mean(grad · normalized))."""
    axes = (0, 2, 3)
    scale = weight[:, None, None] / np.sqrt(var + eps)
    mean_grad = grad.mean(axis=axes, keepdims=True)
    mean_grad_normalized = (grad * normalized).mean(axis=axes, keepdims=True)
    grad_x = scale * (grad - mean_grad - normalized * mean_grad_normalized)
    magnitude_x = np.abs(scale) * (
        np.abs(grad)
        + np.abs(grad).mean(axis=axes, keepdims=True)
        + np.abs(normalized) * np.abs(grad * normalized).mean(axis=axes, keepdims=True)
    )
    return (grad_x, magnitude_x), (grad * normalized).sum(axis=axes), grad.sum(axis=axes)


def max_pool2d(x, kernel, stride, padding):
    """Each window's largest element (padding never wins) and, for the gradient, a mask of where it is."""
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    windows = _patches(padded, (kernel, kernel), (stride, stride), (0, 0))  # (N, C, k, k, Ho, Wo)
    flat = windows.reshape(*windows.shape[:2], kernel * kernel, *windows.shape[4:])
    return flat.max(axis=2), flat.argmax(axis=2)


def max_pool2d_input_grad(grad, argmax, input_shape, kernel, stride, padding):
    """Each output's gradient routed to the input element its window's max came from."""
    n, c, h, w = input_shape
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    rows, cols = np.divmod(argmax, kernel)
    out_h, out_w = grad.shape[2:]
    for i in range(out_h):
        for j in range(out_w):
            for b in range(n):
                for channel in range(c):
                    r, q = rows[b, channel, i, j], cols[b, channel, i, j]
                    padded[b, channel, i * stride + r, j * stride + q] += grad[b, channel, i, j]
    return padded[:, :, padding : padding + h, padding : padding + w]
