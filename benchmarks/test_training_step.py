"""The full training step of the seeds on resnet18 and its variants (see benchmarks.sweep)."""

from __future__ import annotations

import pytest

from backends import Unsupported

from .measure import clock_device, run_rounds, throughput
from .sweep import variants
from .training_step import StepConfig, build_step, device_reason, math_mode, unsupported_reason
from .workloads import Workload


@pytest.mark.parametrize("config", variants())
def test_training_step(benchmark, engine, config: StepConfig, rounds: dict[str, int]) -> None:
    if reason := unsupported_reason(engine):
        pytest.skip(reason)
    device = clock_device(engine)
    if reason := device_reason(config, device):
        pytest.skip(reason)
    benchmark.group = f"{engine.name} {config.batch}x{config.image}px"
    with math_mode(config, device):
        try:
            step = build_step(engine, config)
        except Unsupported as error:
            pytest.skip(str(error))
        timing = run_rounds(benchmark, engine, Workload(run=step.run, readback=step.readback), **rounds)
    benchmark.extra_info.update(
        backend=engine.name,
        **config.as_dict(),
        **timing,
        **throughput(timing, images=step.images, flops=step.flops, precision=config.precision),
    )
