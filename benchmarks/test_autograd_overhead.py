"""The autograd engine's own cost: backward through a chain of N tiny ops, in µs per graph node.

Written against the engine contract only (``engine.tensor`` and arithmetic), so any engine that declares
autograd is comparable with torch. The graph is built in pedantic's untimed setup; only ``backward()`` is
timed. torch on CUDA is timed by CUDA events; other engines by the host clock, after
``engine.synchronize()``.
"""

from __future__ import annotations

import pytest

from backends import capabilities as cap
from conformance.plugin import UNSUPPORTED

from .measure import clock_device, run_rounds


@pytest.mark.parametrize("nodes", [pytest.param(100, marks=pytest.mark.smoke), 1000])
def test_backward_per_node(benchmark, engine, nodes: int, rounds: dict[str, int]) -> None:
    if cap.AUTOGRAD not in engine.capabilities:
        pytest.skip(f"{UNSUPPORTED}: {engine.name} does not declare {cap.AUTOGRAD}")

    def chain():
        leaf = engine.tensor(1.0, requires_grad=True)
        root = leaf
        for _ in range(nodes):
            root = root * 1.0
        return (root,), {}

    def backward(root) -> None:
        root.backward()
        engine.synchronize()

    benchmark.group = "autograd overhead"
    timing = run_rounds(benchmark, backward, clock_device(engine), setup=chain, **rounds)
    benchmark.extra_info.update(backend=engine.name, nodes=nodes, **timing)
    if timing:
        benchmark.extra_info["us_per_node"] = timing["step_ms_median"] * 1e3 / nodes
