"""Which variants run: a base configuration and one-axis variations of it, not the cartesian product.

Each question the benchmarks answer is a comparison against :data:`BASE` (batch 32 at 224 px, fp32, eager,
full step, the seeds' sum loss) that changes one thing; bf16 with channels_last is added because the two
only pay off together. :data:`SMOKE` repeats the cheap comparisons at the seeds' own size (one 64 px image),
so a CPU run exercises every code path in seconds. Every variant is marked with the axis it varies
(``-m axis_precision``), ``base`` or ``smoke``; ids carry every axis value (``-k bf16``).

| question | variants |
| --- | --- |
| throughput vs batch size | batch 1, 32, 256 |
| input resolution | 64, 224 px |
| math precision | fp32, tf32, bf16 autocast (+ channels_last) |
| memory layout | contiguous, channels_last |
| execution | eager, torch.compile, whole step in a CUDA graph |
| does freezing the backbone save work (seed 001) | full step vs fine-tune |
| loss | the seeds' sum vs cross-entropy |
| does no_grad save work (seeds 000, 002) | forward under no_grad vs with grad |
"""

from __future__ import annotations

import dataclasses

import pytest

from .training_step import StepConfig

BASE = StepConfig()
SEED = StepConfig(batch=1, image=64)

#: axis marker -> the changes to apply to a configuration, one variant each
AXES: dict[str, list[dict[str, object]]] = {
    "axis_batch": [{"batch": 1}, {"batch": 256}],
    "axis_image": [{"image": 64}],
    "axis_precision": [
        {"precision": "tf32"},
        {"precision": "bf16"},
        {"precision": "bf16", "memory_format": "channels_last"},
    ],
    "axis_memory_format": [{"memory_format": "channels_last"}],
    "axis_execution": [{"execution": "compile"}, {"execution": "cudagraph"}],
    "axis_scope": [{"scope": "finetune"}],
    "axis_loss": [{"loss": "xent"}],
    "axis_mode": [{"mode": "infer-nograd"}, {"mode": "infer-grad"}],
}


def in_smoke(change: dict[str, object]) -> bool:
    """Repeated at the seeds' size: every change but the size itself and torch.compile (whose compilation
    alone takes longer than a smoke run)."""
    return not {"batch", "image"} & change.keys() and change.get("execution") != "compile"


MARKERS = {
    "base": "the base configuration every training-step variant is compared with",
    "smoke": "the smallest variants: a CPU run of every code path in seconds (not a measurement)",
    **{axis: f"varies the training step's {axis.removeprefix('axis_').replace('_', ' ')}" for axis in AXES},
}


def variants() -> list:
    """pytest params of every variant: the base sweep, then the smoke sweep."""
    params = [pytest.param(BASE, id=BASE.id, marks=pytest.mark.base)]
    params += [
        pytest.param(config, id=config.id, marks=getattr(pytest.mark, axis))
        for axis, changes in AXES.items()
        for config in (dataclasses.replace(BASE, **change) for change in changes)
    ]
    params.append(pytest.param(SEED, id=SEED.id, marks=[pytest.mark.base, pytest.mark.smoke]))
    params += [
        pytest.param(config, id=config.id, marks=[getattr(pytest.mark, axis), pytest.mark.smoke])
        for axis, changes in AXES.items()
        for config in (dataclasses.replace(SEED, **change) for change in changes if in_smoke(change))
    ]
    return params
