"""Operator gradients: every operator of resnet18's training step (seed 000) and common tensor math.

Each catalogue line is one spec: the operator written once against the contract, its input shapes (with
broadcasting and size-1 dimensions), and what it needs. ``conformance.gradcheck.check_gradients`` compares the
engine's gradients, asked for through the functional entry point ``vjp`` (so an engine without a tape runs them),
with torch's on the CPU and, where the engine has float64, with central finite differences; forward mode and
second derivatives too where the engine declares ``jvp`` and ``vjp.second-order``.
A new operator is one more line.
"""

import pytest

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec_param
from conformance.gradcheck import Op, check_gradients

TEST = f"{__name__}::test_operator_gradient"
AUTOGRAD = "docs:autograd-mechanics#how-autograd-encodes-the-history"


def op(name, fn, *shapes, says, source, needs=(), **options):
    """One catalogue line: the spec ``opgrad.<name>`` for operator ``fn`` on inputs of ``shapes``."""
    return spec_param(
        f"opgrad.{name}",
        Op(fn, shapes, **options),
        says=says,
        sources=[AUTOGRAD, source],
        test=TEST,
        kind=VALUE,
        needs=[cap.VJP, *needs],
    )


F, MATH = [cap.FUNCTIONAL], [cap.TENSOR_MATH]
# One operator per entry, laid out by hand to read as a table.
# fmt: off
TRAINING_STEP = [
    op("conv2d-stride-padding", lambda lib, x, w, b: lib.functional.conv2d(x, w, b, stride=2, padding=1),
       (2, 3, 5, 5), (4, 3, 3, 3), (4,), needs=F, source="docs:nn.functional#conv2d",
       says="conv2d with stride 2 and padding 1 differentiates w.r.t. input, weight and bias."),
    op("conv2d-no-bias", lambda lib, x, w: lib.functional.conv2d(x, w, None, padding=1),
       (1, 2, 4, 4), (3, 2, 3, 3), needs=F, source="docs:nn.functional#conv2d",
       says="conv2d without bias (resnet's convolutions) differentiates w.r.t. input and weight."),
    op("batch-norm-train", lambda lib, x, w, b: lib.functional.batch_norm(x, None, None, w, b, training=True),
       (3, 2, 3, 3), (2,), (2,), needs=F, source="docs:nn.functional#batch-norm",
       says="batch_norm in training mode (batch statistics) differentiates w.r.t. input, weight and bias."),
    op("batch-norm-eval", lambda lib, x, mean, var, w, b: lib.functional.batch_norm(x, mean, var, w, b),
       (3, 2, 3, 3), (2,), (2,), (2,), (2,), constant=(1, 2), positive=True, needs=F,
       source="docs:nn.functional#batch-norm",
       says="batch_norm in eval mode (running statistics) differentiates w.r.t. input, weight and bias."),
    op("relu", lambda lib, x: lib.functional.relu(x), (2, 3, 4), needs=F, source="docs:nn.functional#relu",
       says="relu passes the gradient where its input is positive and blocks it elsewhere."),
    op("max-pool2d", lambda lib, x: lib.functional.max_pool2d(x, kernel_size=3, stride=2, padding=1),
       (1, 2, 5, 5), needs=F, source="docs:nn.functional#max-pool2d",
       says="max_pool2d (kernel 3, stride 2, padding 1, as resnet's) routes the gradient to each window's max."),
    op("adaptive-avg-pool2d", lambda lib, x: lib.functional.adaptive_avg_pool2d(x, (1, 1)),
       (2, 3, 3, 3), needs=F, source="docs:nn.functional#adaptive-avg-pool2d",
       says="adaptive_avg_pool2d to 1×1 spreads the gradient evenly over each plane."),
    op("linear", lambda lib, x, w, b: lib.functional.linear(x, w, b), (2, 5), (3, 5), (3,), needs=F,
       source="docs:nn.functional#linear", says="linear differentiates w.r.t. input, weight and bias."),
    op("add-residual", lambda lib, x, y: x + y, (2, 3, 2, 2), (2, 3, 2, 2), source="docs:torch#add",
       says="the residual addition passes the gradient unchanged to both operands."),
    op("flatten", lambda lib, x: x.flatten(1), (2, 3, 1, 1), needs=MATH, source="docs:torch#flatten",
       says="flatten(1) reshapes the gradient back to the input's shape."),
    op("loss-sum-of-difference", lambda lib, pred, labels: (pred - labels).sum(), (1, 10), (1, 10),
       constant=(1,), source="000", says="the seeds' loss (prediction - labels).sum() has gradient one."),
    op("cross-entropy", lambda lib, x: lib.functional.cross_entropy(x, lib.tensor([2, 0, 4])), (3, 5),
       needs=F, source="docs:nn.functional#cross-entropy",
       says="cross_entropy with class indices differentiates w.r.t. the logits (softmax minus one-hot)."),
]
TENSOR_MATH = [
    op("pow-scalar", lambda lib, x: x**3, (2, 3), source="docs:torch#pow", says="x ** 3 has gradient 3x²."),
    op("pow-broadcast", lambda lib, x, y: x**y, (2, 3), (1, 3), positive=True, needs=MATH, source="docs:torch#pow",
       says="x ** y with a broadcast exponent differentiates w.r.t. base and exponent."),
    op("exp", lambda lib, x: x.exp(), (2, 3), source="docs:torch#exp", says="exp(x) has gradient exp(x)."),
    op("log", lambda lib, x: x.log(), (2, 3), positive=True, needs=MATH, source="docs:torch#log",
       says="log(x) has gradient 1/x."),
    op("sin", lambda lib, x: x.sin(), (2, 3), needs=MATH, source="docs:torch#sin",
       says="sin(x) has gradient cos(x)."),
    op("tanh", lambda lib, x: x.tanh(), (2, 3), needs=MATH, source="docs:torch#tanh",
       says="tanh(x) has gradient 1 - tanh²(x)."),
    op("sigmoid", lambda lib, x: x.sigmoid(), (2, 3), needs=MATH, source="docs:torch#sigmoid",
       says="sigmoid(x) has gradient sigmoid(x)(1 - sigmoid(x))."),
    op("mul-broadcast", lambda lib, x, y: x * y, (2, 1, 3), (4, 1), needs=MATH, source="docs:torch#mul",
       says="a broadcast product sums each operand's gradient over the dimensions it was broadcast along."),
    op("div-broadcast", lambda lib, x, y: x / y, (2, 3), (3,), positive=True, needs=MATH,
       source="docs:torch#div", says="a broadcast quotient differentiates w.r.t. numerator and denominator."),
    op("matmul", lambda lib, x, y: x @ y, (2, 3), (3, 4), needs=MATH, source="docs:torch#matmul",
       says="x @ y has gradients g @ yᵀ and xᵀ @ g."),
    op("matmul-batched-broadcast", lambda lib, x, y: x @ y, (2, 3, 4), (4, 2), needs=MATH,
       source="docs:torch#matmul", says="a batched x @ y broadcasts y and sums its gradient over the batch."),
    op("sum", lambda lib, x: x.sum(), (2, 3), source="docs:torch#sum", says="sum() has gradient one."),
    op("sum-dim-keepdim", lambda lib, x: x.sum(dim=1, keepdim=True), (2, 3, 4), needs=MATH,
       source="docs:torch#sum", says="sum over a dimension with keepdim broadcasts the gradient back."),
    op("mean", lambda lib, x: x.mean(), (2, 3), source="docs:torch#mean", says="mean() has gradient 1/n."),
    op("mean-dims", lambda lib, x: x.mean(dim=(0, 2)), (2, 3, 1), needs=MATH, source="docs:torch#mean",
       says="mean over several dimensions (one of size 1) spreads the gradient over them."),
]
# fmt: on


@pytest.mark.parametrize("operator", TRAINING_STEP + TENSOR_MATH)
def test_operator_gradient(engine, operator):
    check_gradients(engine, operator)
