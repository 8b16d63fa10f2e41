"""Conv2d in a Sequential: which tensors require grad, freezing layers and no_grad for evaluation (seed 002).

The seed's input is 8×3×50×100; the specs use a batch of 2 (same channels and size) to stay fast: the
batch size plays no part in the behaviour.
"""

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec


def conv_net(engine):
    return engine.nn.Sequential(engine.nn.Conv2d(3, 16, 3, 1), engine.nn.Conv2d(16, 32, 3, 1))


@spec("nn.input-does-not-require-grad", sources=["002"], needs=[cap.AUTOGRAD], kind=VALUE)
def test_input_does_not_require_grad(engine):
    """input = torch.randn(8, 3, 50, 100) prints input.requires_grad as False: network inputs need no
    gradients."""
    assert engine.randn(2, 3, 50, 100).requires_grad is False


@spec("nn.parameters-require-grad", sources=["002"], needs=[cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_parameters_and_output_require_grad(engine):
    """Every parameter of nn.Sequential(nn.Conv2d(3, 16, 3, 1), nn.Conv2d(16, 32, 3, 1)) requires grad
    (0.weight True, 0.bias True, 1.weight True, 1.bias True), so the output requires grad."""
    net = conv_net(engine)
    named = {name: param.requires_grad is True for name, param in net.named_parameters()}
    assert named == {"0.weight": True, "0.bias": True, "1.weight": True, "1.bias": True}
    assert net(engine.randn(2, 3, 50, 100)).requires_grad is True


@spec("nn.frozen-network", sources=["002"], needs=[cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_frozen_network_output_does_not_require_grad(engine):
    """Setting requires_grad = False on every parameter freezes the network: its output does not require
    grad."""
    net = conv_net(engine)
    for _, param in net.named_parameters():
        param.requires_grad = False
    assert [param.requires_grad is False for param in net.parameters()] == [True] * 4
    assert net(engine.randn(2, 3, 50, 100)).requires_grad is False


@spec("nn.no-grad-evaluation", sources=["002"], needs=[cap.NN, cap.AUTOGRAD, cap.GRAD_MODE], kind=VALUE)
def test_no_grad_for_evaluation(engine):
    """When evaluating, wrap the inference code in with torch.no_grad(): the output does not require grad
    inside the block, and does again after it."""
    net = conv_net(engine)
    input = engine.randn(2, 3, 50, 100)
    with engine.no_grad():
        assert net(input).requires_grad is False
    assert net(input).requires_grad is True
