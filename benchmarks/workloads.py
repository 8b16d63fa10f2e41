"""What one measured round runs, for every timing tool: the pytest benchmarks, the A/B command, the
tracker's own measurement.

A :class:`Workload` is a round (``run``), the untimed ``setup`` that precedes each round, and ``readback``:
a read of the last round's result to the host, which the harness uses to check that an engine's
``synchronize()`` really waited for the round (:func:`benchmarks.measure.check_synchronize`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from backends import capabilities as cap
from backends.contract import Unsupported
from conformance.plugin import UNSUPPORTED

from .measure import clock_device
from .sweep import SEED
from .training_step import build_step, math_mode


@dataclasses.dataclass
class Workload:
    """``run(*args, **kwargs)`` is one round, with ``(args, kwargs) = setup()`` made untimed before it."""

    run: Callable[..., object]
    readback: Callable[[], object]
    setup: Callable[[], tuple[tuple, dict[str, Any]]] | None = None


def autograd_chain(engine: Any, nodes: int) -> Workload:
    """The autograd engine's own cost: ``backward()`` through a chain of ``nodes`` multiplications of a scalar
    (built untimed), then ``engine.synchronize()``. Needs the ``autograd`` capability only."""
    if cap.AUTOGRAD not in engine.capabilities:
        raise Unsupported(f"{UNSUPPORTED}: {engine.name} does not declare {cap.AUTOGRAD}")
    last: dict[str, Any] = {}

    def chain() -> tuple[tuple, dict[str, Any]]:
        leaf = engine.tensor(1.0, requires_grad=True)
        root = leaf
        for _ in range(nodes):
            root = root * 1.0
        last["leaf"] = leaf
        return (root,), {}

    def backward(root: Any) -> None:
        root.backward()
        engine.synchronize()

    def readback() -> object:
        if (grad := last["leaf"].grad) is None:
            raise RuntimeError(
                f"{engine.name}: backward() through the chain left the leaf's .grad None; a round computes no "
                "gradient, so its time would mean nothing (run the specs on this engine to see why)"
            )
        return engine.to_numpy(grad)

    return Workload(run=backward, setup=chain, readback=readback)


def smallest_step(engine: Any) -> Workload:
    """The seeds' training step at their own size (one 64 px image: :data:`benchmarks.sweep.SEED`)."""
    device = clock_device(engine)
    with math_mode(SEED, device):
        step = build_step(engine, SEED)

    def run() -> None:
        with math_mode(SEED, device):
            step.run()

    return Workload(run=run, readback=step.readback)


#: The workloads the A/B command and the tracker's measurement know, by name. The overhead one is the
#: benchmark's 1000-node chain: on 100 nodes a Python hook (how a slowed backend slows backward) alone costs
#: more than 2% of the round.
WORKLOADS: dict[str, Callable[[Any], Workload]] = {
    "overhead": lambda engine: autograd_chain(engine, 1000),
    "step": smallest_step,
}
