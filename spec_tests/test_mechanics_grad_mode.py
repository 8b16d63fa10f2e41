"""Grad-mode switches: set_grad_enabled and enable_grad (see also no_grad in the tutorial specs)."""

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec

LOCALLY_DISABLING = "docs:autograd-mechanics#locally-disabling-gradient-computation"


@spec(
    "mechanics.set-grad-enabled",
    sources=[LOCALLY_DISABLING, "docs:torch#torch.set_grad_enabled"],
    needs=[cap.AUTOGRAD, cap.GRAD_MODE_SWITCHES, cap.GRAD_MODE],
    kind=VALUE,
)
def test_set_grad_enabled_switches_grad_mode_in_its_block(engine):
    """set_grad_enabled(mode) is a context manager that sets gradient calculation on or off; results
    computed with it off do not require grad, and the previous mode returns when the block ends.

    Wherever the block is: at the top, inside enable_grad (off wins inside it), inside no_grad (on wins); and
    whichever operand requires grad (x * 2 and 2 * x)."""
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with engine.set_grad_enabled(False):
        assert engine.is_grad_enabled() is False
        y = x * 2
    with engine.set_grad_enabled(True):
        z = x * 2
    assert engine.is_grad_enabled() is True
    assert y.requires_grad is False
    assert z.requires_grad is True
    with engine.enable_grad():
        with engine.set_grad_enabled(False):
            off_inside_enable_grad = (x * 2, 2 * x)
        assert engine.is_grad_enabled() is True
    with engine.no_grad():
        with engine.set_grad_enabled(True):
            on_inside_no_grad = (x * 2, 2 * x)
        assert engine.is_grad_enabled() is False
    assert [result.requires_grad for result in off_inside_enable_grad] == [False, False]
    assert [result.requires_grad for result in on_inside_no_grad] == [True, True]


@spec(
    "mechanics.enable-grad-inside-no-grad",
    sources=[LOCALLY_DISABLING, "docs:torch#torch.enable_grad"],
    needs=[cap.AUTOGRAD, cap.GRAD_MODE_SWITCHES, cap.GRAD_MODE],
    kind=VALUE,
)
def test_enable_grad_inside_no_grad(engine):
    """enable_grad enables gradient calculation if it has been disabled via no_grad or set_grad_enabled."""
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with engine.no_grad():
        with engine.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad is True
    assert z.requires_grad is False
