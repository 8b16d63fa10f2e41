"""What one measured round runs, for every timing tool: the pytest benchmarks, the A/B command, the
tracker's own measurement.

A :class:`Workload` is a round (``run``), the untimed ``setup`` that precedes each round, and ``readback``:
a read of the last round's result to the host, which the harness uses to check that an engine's
``synchronize()`` really waited for the round (:func:`benchmarks.measure.check_synchronize`).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from typing import Any

from backends import capabilities as cap
from backends.contract import Unsupported
from conformance.plugin import UNSUPPORTED

from .measure import clock_device
from .sweep import BASE, SEED
from .training_step import StepConfig, build_step, device_reason, math_mode


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


def training_step(engine: Any, config: StepConfig) -> Workload:
    """One variant's training step (:mod:`benchmarks.sweep`), in its math mode. Raises
    :class:`~backends.Unsupported` for a variant the engine's device cannot run."""
    device = clock_device(engine)
    if reason := device_reason(config, device):
        raise Unsupported(f"step {config.id}: {reason}")
    with math_mode(config, device):
        step = build_step(engine, config)

    def run() -> None:
        with math_mode(config, device):
            step.run()

    return Workload(run=run, readback=step.readback)


#: The workloads by name: ``overhead`` is the benchmark's 1000-node chain (on 100 nodes a Python hook, how a
#: slowed backend slows backward, alone costs more than 2% of the round); ``step`` the seeds' training step
#: at their own size (one 64 px image: :data:`benchmarks.sweep.SEED`); ``step:base`` the sweep's base variant
#: (batch 32 at 224 px, the step users run); ``step:<id>`` any variant by its id (:meth:`StepConfig.from_id`).
NAMED_STEPS = {"step": SEED, "step:base": BASE}
NAMES = ("overhead", *NAMED_STEPS, "step:<variant id>")


def step_config(name: str) -> StepConfig | None:
    """The step variant a workload name runs; None for the overhead workload. Raises ValueError for a name
    that is neither."""
    if name == "overhead":
        return None
    if name in NAMED_STEPS:
        return NAMED_STEPS[name]
    kind, _, variant = name.partition(":")
    if kind != "step" or not variant:
        raise ValueError(f"unknown workload {name!r}; workloads: {', '.join(NAMES)}")
    return StepConfig.from_id(variant)


def workload_name(name: str) -> str:
    """``name`` if it names a workload (an argparse type: a bad one is a usage error naming the workloads)."""
    try:
        step_config(name)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return name


def build(name: str, engine: Any) -> Workload:
    """The workload ``name`` built for ``engine``."""
    config = step_config(name)
    return autograd_chain(engine, 1000) if config is None else training_step(engine, config)
