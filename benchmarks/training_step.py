"""The training step the seeds write (000, 001), and its variants, built for one torch-backed engine.

    optimizer.zero_grad()
    prediction = model(data)
    loss = (prediction - labels).sum()
    loss.backward()
    optimizer.step()          # SGD, lr 0.01, momentum 0.9, on torchvision's resnet18

A :class:`StepConfig` names one variant; :func:`build_step` returns the callable that runs one step, with
the FLOPs it executes (counted once, eagerly, before any warm-up).

An engine whose resnet18 is a torch module runs every variant its device allows. Any other engine that
declares the step's capabilities runs the same step through the engine contract alone
(:func:`contract_step`): the plain variants (fp32, contiguous, eager), since autocast, memory formats,
``torch.compile`` and CUDA graphs are torch's; its FLOPs are those of the same step counted on torch's
resnet18 on the meta device (same architecture, same matmuls and convolutions, nothing computed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from backends import Unsupported
from backends import capabilities as cap
from backends.torch_backend import TorchBackend
from conformance.plugin import UNSUPPORTED

from .flops import count_flops

#: What the step asks of an engine (the plugin's "unsupported" verdict names the missing ones).
NEEDS = frozenset({cap.RESNET18, cap.SGD, cap.AUTOGRAD})
#: The variant values an engine runs through the contract alone; the others are torch features.
CONTRACT_VARIANTS = {"precision": "fp32", "memory_format": "contiguous", "execution": "eager"}
#: Classes of the fine-tuning head: the seeds replace resnet18's fc by ``nn.Linear(512, 10)``.
FINETUNE_CLASSES = 10

PRECISIONS = ("fp32", "tf32", "bf16")
MEMORY_FORMATS = ("contiguous", "channels_last")
EXECUTIONS = ("eager", "compile", "cudagraph")
SCOPES = ("full", "finetune")
LOSSES = ("sum", "xent")
MODES = ("train", "infer-nograd", "infer-grad")
#: The axes after batch and image, in the order of a variant's id, with their values.
AXIS_VALUES = {
    "precision": PRECISIONS,
    "memory_format": MEMORY_FORMATS,
    "execution": EXECUTIONS,
    "scope": SCOPES,
    "loss": LOSSES,
    "mode": MODES,
}


@dataclasses.dataclass(frozen=True)
class StepConfig:
    """One variant of the step. ``precision``: fp32 (TF32 off), tf32 (TF32 on for matmul and convolution) or
    bf16 (autocast); ``scope``: every parameter trained, or a frozen backbone with a new fc (seed 001's
    fine-tuning); ``loss``: the seeds' ``(prediction - labels).sum()`` or cross-entropy on class labels;
    ``mode``: a training step, or a forward pass for inference under ``no_grad`` or with grad recording."""

    batch: int = 32
    image: int = 224
    precision: str = "fp32"
    memory_format: str = "contiguous"
    execution: str = "eager"
    scope: str = "full"
    loss: str = "sum"
    mode: str = "train"

    def __post_init__(self) -> None:
        for field, allowed in AXIS_VALUES.items():
            if getattr(self, field) not in allowed:
                raise ValueError(f"{field} must be one of {allowed}, not {getattr(self, field)!r}")

    @property
    def id(self) -> str:
        """The test id: every axis, so ``-k`` selects by any of them (``-k "bf16 and channels_last"``)."""
        return (
            f"b{self.batch}-{self.image}px-{self.precision}-{self.memory_format}-{self.execution}-"
            f"{self.scope}-{self.loss}-{self.mode}"
        )

    @classmethod
    def from_id(cls, spelled: str) -> StepConfig:
        """The variant an id names: ``b<batch>-<image>px`` then any of the other axes' values in the order of
        :attr:`id`, the ones left out as in the base (``b32-224px`` is the base, ``b1-64px`` the seeds' size,
        ``b32-224px-bf16-channels_last`` one more variant). Raises ValueError naming what it cannot read."""
        head = re.fullmatch(r"b(\d+)-(\d+)px(-.+)?", spelled)
        if not head:
            raise ValueError(f"{spelled!r} is not a step variant id: b<batch>-<image>px[-<axis value>...]")
        values: dict[str, Any] = {"batch": int(head[1]), "image": int(head[2])}
        rest = head[3] or ""
        for field, allowed in AXIS_VALUES.items():
            for value in sorted(allowed, key=len, reverse=True):  # infer-nograd before a shorter prefix
                if rest == f"-{value}" or rest.startswith(f"-{value}-"):
                    values[field], rest = value, rest[len(value) + 1 :]
                    break
        if rest:
            raise ValueError(f"{spelled!r}: cannot read {rest[1:]!r}; axis values, in order: {AXIS_VALUES}")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def unsupported_reason(engine: Any) -> str | None:
    """Why ``engine`` cannot run the step, spelled like the plugin's verdict, or None when it can."""
    if missing := sorted(NEEDS - engine.capabilities):
        return f"{UNSUPPORTED}: {engine.name} does not declare {', '.join(missing)}"
    return None


def device_reason(config: StepConfig, device: torch.device) -> str | None:
    """Why the variant cannot run on ``device`` (a skip reason), or None when it can."""
    if device.type != "cuda":
        if config.precision == "tf32":
            return f"needs CUDA: TF32 is a tensor-core math mode (device {device})"
        if config.execution == "cudagraph":
            return f"needs CUDA: the step is captured in a CUDA graph (device {device})"
    if config.precision == "bf16" and not torch.amp.is_autocast_available(device.type):
        return f"needs bf16 autocast, which torch {torch.__version__} does not offer on {device.type}"
    return None


@contextlib.contextmanager
def math_mode(config: StepConfig, device: torch.device) -> Iterator[None]:
    """On CUDA: TF32 on only for the tf32 variant (torch enables it for cuDNN convolutions by default, which
    would make "fp32" a mix), and cuDNN autotuning on (its trials happen in the warm-up rounds). Restored on
    exit."""
    if device.type != "cuda":
        yield
        return
    fp32_precision = "tf32" if config.precision == "tf32" else "ieee"
    before = (torch.backends.cudnn.benchmark, _fp32_precision())
    torch.backends.cudnn.benchmark = True
    _set_fp32_precision(fp32_precision)
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before[0]
        _set_fp32_precision(*before[1])


def _fp32_precision() -> tuple[Any, Any]:
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # torch >= 2.9
        return torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.conv.fp32_precision
    return torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32


def _set_fp32_precision(matmul: Any, conv: Any = None) -> None:
    conv = matmul if conv is None else conv
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):
        torch.backends.cuda.matmul.fp32_precision = matmul
        torch.backends.cudnn.conv.fp32_precision = conv
    else:
        torch.backends.cuda.matmul.allow_tf32 = matmul in ("tf32", True)
        torch.backends.cudnn.allow_tf32 = conv in ("tf32", True)


@dataclasses.dataclass
class Step:
    """One built variant: ``run()`` performs one step; ``images`` per step; ``flops`` per step;
    ``readback()`` reads the last step's result (its loss, or its prediction in inference) to the host."""

    run: Callable[[], None]
    images: int
    flops: int
    readback: Callable[[], object]


def build_step(
    engine: Any, config: StepConfig, wrap: Callable[[torch.nn.Module], torch.nn.Module] | None = None
) -> Step:
    """Model, data, optimizer and the step function of ``config`` on ``engine``'s device; ``wrap`` wraps the
    model for the forward pass (``DistributedDataParallel`` in :mod:`benchmarks.ddp_step`).

    An engine whose model is not a torch module gets :func:`contract_step`. Call inside :func:`math_mode`.
    Compilation and CUDA-graph capture happen here or in the first runs: the caller's warm-up rounds absorb
    them.
    """
    model = engine.models.resnet18()
    if not isinstance(model, torch.nn.Module):
        return contract_step(engine, model, config)
    device = torch.device(engine.device)
    classes, optimizer = trained_head(engine, model, config)

    data = torch.rand(config.batch, 3, config.image, config.image, device=device)
    if config.memory_format == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        data = data.contiguous(memory_format=torch.channels_last)
    if config.loss == "sum":
        labels = torch.rand(config.batch, classes, device=device)
    else:
        labels = torch.randint(0, classes, (config.batch,), device=device)

    def autocast() -> contextlib.AbstractContextManager:
        if config.precision == "bf16":
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def loss_of(prediction: torch.Tensor) -> torch.Tensor:
        if config.loss == "sum":
            return (prediction - labels).sum()
        return torch.nn.functional.cross_entropy(prediction, labels)

    last: dict[str, torch.Tensor] = {}

    def body() -> None:
        """The step without zero_grad (what a CUDA graph captures)."""
        if config.mode == "train":
            with autocast():
                loss = loss_of(forward(data))
            loss.backward()
            last["result"] = loss.detach()
            optimizer.step()
        else:
            grad = contextlib.nullcontext() if config.mode == "infer-grad" else torch.no_grad()
            with grad, autocast():
                last["result"] = forward(data).detach()

    def step() -> None:
        if config.mode == "train":
            optimizer.zero_grad()
        body()

    def readback() -> object:
        return engine.to_numpy(last["result"])

    forward = wrap(model) if wrap else model
    flops = count_flops(step)
    if config.execution == "compile":
        forward = torch.compile(forward)
    elif config.execution == "cudagraph":
        return Step(run=capture(step, body, optimizer, device), images=config.batch, flops=flops, readback=readback)
    return Step(run=step, images=config.batch, flops=flops, readback=readback)


def trained_head(engine: Any, model: Any, config: StepConfig) -> tuple[int, Any]:
    """The classes of ``model``'s output and the SGD optimizer of the step: over every parameter, or (scope
    ``finetune``, seed 001) the backbone frozen and a new ``fc`` the only parameters optimized."""
    classes, parameters = 1000, model.parameters
    if config.scope == "finetune":
        for parameter in model.parameters():
            parameter.requires_grad = False
        model.fc = engine.nn.Linear(512, FINETUNE_CLASSES)
        classes, parameters = FINETUNE_CLASSES, model.fc.parameters
    if config.mode != "train":
        model.eval()
    return classes, engine.optim.SGD(parameters(), lr=1e-2, momentum=0.9)


def contract_step(engine: Any, model: Any, config: StepConfig) -> Step:
    """The step through the engine contract alone, for an engine with a resnet18 of its own. Raises
    :class:`~backends.Unsupported` for a torch-only variant, or one needing a capability the engine lacks."""
    if torch_only := [
        f"{axis} {getattr(config, axis)}" for axis, plain in CONTRACT_VARIANTS.items() if getattr(config, axis) != plain
    ]:
        raise Unsupported(
            f"{UNSUPPORTED}: {engine.name}'s resnet18 is a {type(model).__name__}, not a torch.nn.Module; "
            f"torch-only variant: {', '.join(torch_only)}"
        )
    needs = {cap.FUNCTIONAL} if config.loss == "xent" else set()
    if config.mode == "infer-nograd":
        needs.add(cap.GRAD_MODE)
    if missing := sorted(needs - engine.capabilities):
        raise Unsupported(f"{UNSUPPORTED}: {engine.name} does not declare {', '.join(missing)}")
    classes, optimizer = trained_head(engine, model, config)
    data = engine.rand(config.batch, 3, config.image, config.image)
    if config.loss == "sum":
        labels = engine.rand(config.batch, classes)
    else:
        labels = engine.tensor(np.random.randint(0, classes, config.batch))

    def loss_of(prediction: Any) -> Any:
        if config.loss == "sum":
            return (prediction - labels).sum()
        return engine.functional.cross_entropy(prediction, labels)

    last: dict[str, Any] = {}

    def step() -> None:
        if config.mode == "train":
            optimizer.zero_grad()
            loss = loss_of(model(data))
            loss.backward()
            optimizer.step()
            last["result"] = loss.detach()
        else:
            with engine.no_grad() if config.mode == "infer-nograd" else contextlib.nullcontext():
                last["result"] = model(data).detach()
        engine.synchronize()

    return Step(
        run=step,
        images=config.batch,
        flops=reference_flops(config),
        readback=lambda: engine.to_numpy(last["result"]),
    )


def reference_flops(config: StepConfig) -> int:
    """FLOPs of ``config``'s step counted on torch's resnet18 on the meta device (shapes only, no data)."""
    return build_step(TorchBackend("meta"), config).flops


def capture(
    step: Callable[[], None], body: Callable[[], None], optimizer: Any, device: torch.device
) -> Callable[[], None]:
    """The whole step captured in one CUDA graph, following torch's "whole network capture" recipe: warm up
    on a side stream (creating the momentum buffers), then capture with gradients set to None, so that the
    captured backward allocates them in the graph's pool and every replay writes (not adds) them."""
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        body()
    return graph.replay
