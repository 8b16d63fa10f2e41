"""FLOPs of one call, counted by torch's own FlopCounterMode (matmuls and convolutions, forward and
backward; elementwise work and the optimizer update are not counted, so achieved TFLOP/s is a lower bound)."""

from __future__ import annotations

from collections.abc import Callable

from torch.utils.flop_counter import FlopCounterMode


def count_flops(fn: Callable[[], object]) -> int:
    """Run ``fn`` once and return the FLOPs it executed."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()
