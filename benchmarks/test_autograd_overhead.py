"""The autograd engine's own cost: backward through a chain of N tiny ops, in µs per graph node.

Written against the engine contract only (``engine.tensor`` and arithmetic), so any engine that declares
autograd is comparable with torch. The graph is built in pedantic's untimed setup; only ``backward()`` is
timed. torch on CUDA is timed by CUDA events; other engines by the host clock, after
``engine.synchronize()``.
"""

from __future__ import annotations

import pytest

from backends import Unsupported

from .measure import run_rounds
from .workloads import autograd_chain


@pytest.mark.parametrize("nodes", [pytest.param(100, marks=pytest.mark.smoke), 1000])
def test_backward_per_node(benchmark, engine, nodes: int, rounds: dict[str, int]) -> None:
    try:
        workload = autograd_chain(engine, nodes)
    except Unsupported as error:
        pytest.skip(str(error))
    benchmark.group = "autograd overhead"
    timing = run_rounds(benchmark, engine, workload, **rounds)
    benchmark.extra_info.update(backend=engine.name, nodes=nodes, **timing)
    if timing:
        benchmark.extra_info["us_per_node"] = timing["step_ms_median"] * 1e3 / nodes
