"""The nn modules of the seeds' networks, run alone: forward values and gradients against NumPy (seeds 000, 002).

Each module's output and the gradients of Σ(output · g), for a random g, w.r.t. its input and parameters are
compared with a float64 NumPy oracle written from the documented formula (conformance.nn_oracle, whose
docstring gives the error model): a module that passes its arguments wrongly to its operator, or whose
gradient is wrong only for some shapes, fails here though its functional operator passes the opgrad specs.
The modules of resnet18 (convolution without bias, batch norm, ReLU, max pooling, adaptive average pooling,
the classifier) are taken from resnet18 itself and called alone.

The modules run in float32, the dtype the seeds' networks have: the backend contract builds modules and models
in float32 and has no module.double(), and the float64 behaviour of the operators underneath is the opgrad
specs' (float64 against finite differences).
"""

import numpy as np
import pytest

from backends import capabilities as cap
from conformance import nn_oracle
from conformance.catalogue import VALUE, spec

CONV2D = "docs:generated/torch.nn.Conv2d"
LINEAR = "docs:generated/torch.nn.Linear"
BATCH_NORM = "docs:generated/torch.nn.BatchNorm2d"


def forward_backward(engine, module, x):
    """module(x) and, after Σ(module(x) · g).backward() for a random g, x's gradient and the parameters'."""
    input = engine.tensor(x, requires_grad=True)
    output = module(input)
    grad = np.random.standard_normal(tuple(output.shape)).astype(np.float32)
    (output * engine.tensor(grad)).sum().backward()
    grads = {name: engine.to_numpy(param.grad) for name, param in module.named_parameters() if param.grad is not None}
    return engine.to_numpy(output), grad.astype(np.float64), engine.to_numpy(input.grad), grads


def parameters(engine, module) -> dict:
    return {name: engine.to_numpy(param).astype(np.float64) for name, param in module.named_parameters()}


CONV_CASES = {
    # in, out, kernel, stride, padding, bias, input shape
    "seed-3x3": (3, 4, 3, 1, 0, True, (2, 3, 7, 7)),
    "stride-2-padding-1-no-bias": (3, 4, 3, 2, 1, False, (2, 3, 9, 6)),
    "non-square-kernel-stride-padding": (2, 3, (3, 2), (2, 1), (1, 0), True, (3, 2, 8, 5)),
}


def pair(value):
    return value if isinstance(value, tuple) else (value, value)


@pytest.mark.parametrize("case", CONV_CASES)
@spec("nn.conv2d-module", sources=["002", CONV2D], needs=[cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_conv2d_module_forward_and_gradients(engine, case):
    """nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias) computes
    out(N_i, C_out_j) = bias(C_out_j) + Σ_k weight(C_out_j, k) ⋆ input(N_i, k), with the input zero-padded
    by padding on both sides and the kernel moved by stride; backward fills the input's, weight's and bias's
    gradients.

    Square and non-square kernels, strides, paddings and images, with and without bias, on batches of 2 and 3."""
    in_channels, out_channels, kernel, stride, padding, bias, shape = CONV_CASES[case]
    module = engine.nn.Conv2d(in_channels, out_channels, kernel, stride=stride, padding=padding, bias=bias)
    assert sorted(name for name, _ in module.named_parameters()) == (["bias", "weight"] if bias else ["weight"])
    params = parameters(engine, module)
    x = np.random.standard_normal(shape).astype(np.float32)
    output, grad, input_grad, grads = forward_backward(engine, module, x)
    stride, padding, weight = pair(stride), pair(padding), params["weight"]
    terms = in_channels * weight.shape[2] * weight.shape[3]
    bias_values = params["bias"][:, None, None] if bias else 0.0
    exact = nn_oracle.conv2d(x, weight, stride, padding) + bias_values
    magnitude = nn_oracle.bound(lambda a, w: nn_oracle.conv2d(a, w, stride, padding), x, weight) + np.abs(bias_values)
    nn_oracle.assert_within(output, exact, magnitude, terms + 1, "output")
    input_grad_of = lambda w, g: nn_oracle.conv2d_input_grad(w, g, shape, stride, padding)  # noqa: E731
    nn_oracle.assert_within(
        input_grad, input_grad_of(weight, grad), nn_oracle.bound(input_grad_of, weight, grad), terms, "input.grad"
    )
    weight_grad_of = lambda a, g: nn_oracle.conv2d_weight_grad(a, g, weight.shape[2:], stride, padding)  # noqa: E731
    nn_oracle.assert_within(
        grads["weight"],
        weight_grad_of(x, grad),
        nn_oracle.bound(weight_grad_of, x, grad),
        grad[:, 0].size,
        "weight.grad",
    )
    if bias:
        nn_oracle.assert_within(
            grads["bias"], grad.sum((0, 2, 3)), np.abs(grad).sum((0, 2, 3)), grad[:, 0].size, "bias.grad"
        )


@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 3)], ids=["2-d", "3-d"])
@spec("nn.linear-module", sources=["000", LINEAR], needs=[cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_linear_module_forward_and_gradients(engine, shape):
    """nn.Linear(in_features, out_features) applies y = xA^T + b to an input of shape (*, H_in), any number of
    leading dimensions, and backward fills the input's, weight's and bias's gradients.

    Torch keeps A as (out_features, in_features); an engine that keeps it transposed, (in_features,
    out_features) (paddle), is checked in its own layout: the spec is about the values."""
    module = engine.nn.Linear(3, 5)
    params = parameters(engine, module)
    matrix = params["weight"] if params["weight"].shape == (5, 3) else params["weight"].T  # A as (out, in)
    x = np.random.standard_normal(shape).astype(np.float32)
    output, grad, input_grad, grads = forward_backward(engine, module, x)
    nn_oracle.assert_within(
        output, x @ matrix.T + params["bias"], np.abs(x) @ np.abs(matrix.T) + np.abs(params["bias"]), 4, "output"
    )
    nn_oracle.assert_within(input_grad, grad @ matrix, np.abs(grad) @ np.abs(matrix), 5, "input.grad")
    rows = grad.reshape(-1, 5), x.reshape(-1, 3)
    weight_grad = rows[0].T @ rows[1]
    weight_bound = np.abs(rows[0]).T @ np.abs(rows[1])
    if params["weight"].shape != (5, 3):
        weight_grad, weight_bound = weight_grad.T, weight_bound.T
    nn_oracle.assert_within(grads["weight"], weight_grad, weight_bound, len(rows[0]), "weight.grad")
    nn_oracle.assert_within(grads["bias"], rows[0].sum(0), np.abs(rows[0]).sum(0), len(rows[0]), "bias.grad")


RESNET18_MODULE = "docs:generated/torchvision.models.resnet18"
EPS, MOMENTUM = 1e-5, 0.1  # BatchNorm2d's defaults, resnet18's


def stem_input_and_oracle(name: str, params: dict):
    """For resnet18's module ``name``: an input, and the oracle of the output and of x's gradient (with their
    error bounds and number of terms) as functions of x and the output gradient g."""
    if name == "conv1":  # Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        weight, geometry = params["weight"], ((2, 2), (3, 3))
        shape = (2, 3, 11, 8)

        def oracle(x, g):
            forward = lambda a, w: nn_oracle.conv2d(a, w, *geometry)  # noqa: E731
            backward = lambda w, b: nn_oracle.conv2d_input_grad(w, b, shape, *geometry)  # noqa: E731
            return (
                (forward(x, weight), nn_oracle.bound(forward, x, weight), 3 * 49, True),
                (backward(weight, g), nn_oracle.bound(backward, weight, g), 64 * 49, True),
            )

        return shape, oracle
    if name == "relu":
        return (2, 3, 4, 5), lambda x, g: ((np.maximum(x, 0), np.abs(x), 1, False), (g * (x > 0), np.abs(g), 1, False))
    if name == "maxpool":  # MaxPool2d(kernel_size=3, stride=2, padding=1)
        shape = (2, 3, 7, 6)

        def oracle(x, g):
            pooled, argmax = nn_oracle.max_pool2d(x, 3, 2, 1)
            routed = nn_oracle.max_pool2d_input_grad(g, argmax, shape, 3, 2, 1)
            return (pooled, np.abs(pooled), 1, False), (routed, np.abs(routed), 9, False)

        return shape, oracle
    # avgpool: AdaptiveAvgPool2d((1, 1))
    shape = (2, 3, 3, 5)
    return shape, lambda x, g: (
        (x.mean(axis=(2, 3), keepdims=True), np.abs(x).mean(axis=(2, 3), keepdims=True), 15, False),
        (np.broadcast_to(g / 15, shape), np.broadcast_to(np.abs(g) / 15, shape), 1, False),
    )


@pytest.mark.parametrize("name", ["conv1", "relu", "maxpool", "avgpool"])
@spec("nn.resnet18-modules", sources=["000", RESNET18_MODULE], needs=[cap.RESNET18, cap.AUTOGRAD], kind=VALUE)
def test_resnet18_modules_alone(engine, name):
    """resnet18's modules compute what they are: conv1 = Conv2d(3, 64, kernel_size=7, stride=2, padding=3,
    bias=False), relu = ReLU(inplace=True), maxpool = MaxPool2d(kernel_size=3, stride=2, padding=1),
    avgpool = AdaptiveAvgPool2d((1, 1)); called alone on a batch of 2, each gives the documented output and
    passes back the documented gradient to its input (conv1's weight gradient is train's specs' business).

    relu works in place, so it is given x * 1, not the leaf x (an in-place operation on a leaf that requires grad
    is an error)."""
    module = getattr(engine.models.resnet18(), name)
    shape, oracle = stem_input_and_oracle(name, parameters(engine, module))
    x = np.random.standard_normal(shape).astype(np.float32)
    input = engine.tensor(x, requires_grad=True)
    output = module(input * 1)
    grad = np.random.standard_normal(tuple(output.shape)).astype(np.float32)
    (output * engine.tensor(grad)).sum().backward()
    forward, backward = oracle(x.astype(np.float64), grad.astype(np.float64))
    nn_oracle.assert_within(engine.to_numpy(output), *forward[:3], name, products=forward[3])
    nn_oracle.assert_within(engine.to_numpy(input.grad), *backward[:3], f"{name}: input.grad", products=backward[3])


def batch_norm_in_training(engine):
    """resnet18's bn1 (BatchNorm2d(64), in training mode as the model comes) and an input of 2 images of 2x3
    positions: 12 values per channel, so the biased and unbiased variances differ by 1/11."""
    return engine.models.resnet18().bn1, np.random.standard_normal((2, 64, 2, 3)).astype(np.float32) * 2 + 1


@spec("nn.batchnorm2d-train", sources=["000", BATCH_NORM], needs=[cap.RESNET18, cap.AUTOGRAD], kind=VALUE)
def test_batch_norm_training_mode_uses_batch_statistics(engine):
    """In training mode BatchNorm2d computes y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta, the mean and
    standard deviation calculated per channel over the mini-batch, the variance by the biased estimator; backward
    fills the input's, gamma's (weight) and beta's (bias) gradients."""
    module, x = batch_norm_in_training(engine)
    params = parameters(engine, module)
    output, grad, input_grad, grads = forward_backward(engine, module, x)
    exact, mean, var, normalized = nn_oracle.batch_norm_train(
        x.astype(np.float64), params["weight"], params["bias"], EPS
    )
    scale = np.abs(params["weight"])[:, None, None] / np.sqrt(var + EPS)
    magnitude = (np.abs(x) + np.abs(mean)) * scale + np.abs(params["bias"])[:, None, None]
    terms = 12 + 4  # the per-channel sums, the square root and the scaling
    nn_oracle.assert_within(output, exact, magnitude, terms, "output", products=False)
    (input_exact, input_magnitude), weight_grad, bias_grad = nn_oracle.batch_norm_train_grads(
        grad, normalized, var, params["weight"], EPS
    )
    nn_oracle.assert_within(input_grad, input_exact, input_magnitude, terms, "input.grad", products=False)
    magnitude = np.abs(grad * (np.abs(x) + np.abs(mean)) / np.sqrt(var + EPS)).sum((0, 2, 3))
    nn_oracle.assert_within(grads["weight"], weight_grad, magnitude, terms, "weight.grad", products=False)
    nn_oracle.assert_within(grads["bias"], bias_grad, np.abs(grad).sum((0, 2, 3)), terms, "bias.grad", products=False)


def running_statistics(x_batches):
    """running_mean and running_var after training-mode forwards of the batches from mean 0 and variance 1:
    each becomes (1 - momentum) * itself + momentum * the batch's mean, or its unbiased variance; with bounds."""
    mean, var, mean_bound, var_bound = 0.0, 1.0, 0.0, 1.0
    for x in x_batches:
        x = x.astype(np.float64)
        batch_mean = x.mean(axis=(0, 2, 3))
        unbiased = x.var(axis=(0, 2, 3), ddof=1)
        mean = (1 - MOMENTUM) * mean + MOMENTUM * batch_mean
        var = (1 - MOMENTUM) * var + MOMENTUM * unbiased
        mean_bound = (1 - MOMENTUM) * mean_bound + MOMENTUM * np.abs(x).mean(axis=(0, 2, 3))
        var_bound = (1 - MOMENTUM) * var_bound + MOMENTUM * ((np.abs(x) + np.abs(batch_mean)[:, None, None]) ** 2).sum(
            axis=(0, 2, 3)
        ) / 11
    return (mean, mean_bound), (var, var_bound)


@spec("nn.batchnorm2d-running-stats", sources=["000", BATCH_NORM], needs=[cap.RESNET18], kind=VALUE)
def test_batch_norm_running_statistics_follow_momentum(engine):
    """By default, during training BatchNorm2d keeps running estimates of its computed mean and variance, with
    a default momentum of 0.1: x_new = (1 - momentum) * x + momentum * x_t; the running variance is updated with
    the unbiased estimator of the batch's variance.

    Read as bn1.running_mean and bn1.running_var after two training-mode forwards (the second shows the
    update compounds)."""
    module, x = batch_norm_in_training(engine)
    second = np.random.standard_normal(x.shape).astype(np.float32)
    for batch in (x, second):
        module(engine.tensor(batch))
    (mean, mean_bound), (var, var_bound) = running_statistics((x, second))
    terms = 12 + 4
    nn_oracle.assert_within(
        engine.to_numpy(module.running_mean), mean, mean_bound, terms, "running_mean", products=False
    )
    nn_oracle.assert_within(engine.to_numpy(module.running_var), var, var_bound, terms, "running_var", products=False)


@spec(
    "nn.batchnorm2d-eval",
    sources=["000", BATCH_NORM, "docs:generated/torch.nn.Module#torch.nn.Module.eval"],
    needs=[cap.RESNET18, cap.AUTOGRAD],
    kind=VALUE,
)
def test_batch_norm_eval_mode_uses_running_statistics(engine):
    """During evaluation BatchNorm2d uses the running estimates of mean and variance kept in training for
    normalization: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta, an affine map of x whose
    gradient is gamma / sqrt(running_var + eps).

    The running statistics are those of two training-mode forwards, computed by the oracle (not read from the
    module: how an engine names them is nn.batchnorm2d-running-stats's business)."""
    module, x = batch_norm_in_training(engine)
    second = np.random.standard_normal(x.shape).astype(np.float32)
    for batch in (x, second):
        module(engine.tensor(batch))
    (mean, mean_bound), (var, _) = running_statistics((x, second))
    module.eval()
    params = parameters(engine, module)
    third = np.random.standard_normal(x.shape).astype(np.float32)
    output, grad, input_grad, grads = forward_backward(engine, module, third)
    scale = params["weight"] / np.sqrt(var + EPS)
    normalized = (third - mean[:, None, None]) / np.sqrt(var + EPS)[:, None, None]
    exact = normalized * params["weight"][:, None, None] + params["bias"][:, None, None]
    magnitude = (np.abs(third) + mean_bound[:, None, None]) * np.abs(scale)[:, None, None] + np.abs(params["bias"])[
        :, None, None
    ]
    terms = 12 + 8  # the running statistics' updates, then the normalization
    nn_oracle.assert_within(output, exact, magnitude, terms, "output", products=False)
    nn_oracle.assert_within(
        input_grad,
        grad * scale[:, None, None],
        np.abs(grad * scale[:, None, None]),
        terms,
        "input.grad",
        products=False,
    )
    weight_magnitude = (np.abs(grad) * (np.abs(third) + mean_bound[:, None, None])).sum((0, 2, 3)) / np.sqrt(var + EPS)
    nn_oracle.assert_within(
        grads["weight"], (grad * normalized).sum((0, 2, 3)), weight_magnitude, terms, "weight.grad", products=False
    )
    nn_oracle.assert_within(
        grads["bias"], grad.sum((0, 2, 3)), np.abs(grad).sum((0, 2, 3)), 12, "bias.grad", products=False
    )
