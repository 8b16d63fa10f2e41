"""The backend contract: what a spec may ask of an autograd engine.

Specs never import torch. They receive a :class:`Backend` (the ``engine`` fixture) and write the tutorial's
code against it::

    a = engine.tensor([2., 3.], requires_grad=True)
    Q = 3 * a**3 - b**2
    Q.backward(gradient=engine.tensor([1., 1.]))
    with engine.no_grad(): ...
    model = engine.models.resnet18(); model.fc = engine.nn.Linear(512, 10)
    optimizer = engine.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

The tensors a backend returns follow the subset of ``torch.Tensor``'s public API that the PyTorch autograd
documentation uses (see :class:`AutogradTensor`); an engine whose tensors look different wraps them. What a
backend supports is declared in :attr:`Backend.capabilities` (see :mod:`backends.capabilities`): a spec that
needs an undeclared capability is reported "unsupported" for that backend, never failed or silently passed.

A new engine is one file: subclass :class:`Backend`, implement :meth:`Backend.tensor` and
:meth:`Backend.to_numpy`, and whatever your declared capabilities need. The README's "Writing a backend"
section has a complete example.
"""

from __future__ import annotations

import contextlib
import importlib
import types
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np


class AutogradTensor(Protocol):
    """The tensor surface specs use. Which member each capability grants, and what every spec may use
    without declaring anything (shape, arithmetic, indexing, ``sum``/``mean``/``exp``), is the table in
    :mod:`backends.capabilities`, the single source: ``requires_grad``, ``grad`` and ``backward`` are
    ``autograd``'s, ``is_leaf`` and ``grad_fn`` are ``graph``'s, ``_version`` is ``version_counter``'s, ...
    """

    requires_grad: bool
    grad: Any
    is_leaf: bool
    grad_fn: Any

    def backward(self, gradient: Any = None) -> None: ...

    def detach(self) -> AutogradTensor: ...

    def requires_grad_(self, requires_grad: bool = True) -> AutogradTensor: ...


class Unsupported(NotImplementedError):
    """Raised by a contract method whose capability the backend does not declare."""


class Backend:
    """Base class of every backend. Override what your capabilities need; the rest says it is missing.

    Class attributes describe the engine; :attr:`name` is set by the registry to the spelling given on the
    command line (it is the test id, ``test_x[cuda]``).
    """

    #: Engine name for reports, e.g. "torch".
    engine: ClassVar[str] = "unknown"
    #: Capabilities this backend declares (strings from :mod:`backends.capabilities`).
    capabilities: ClassVar[frozenset[str]] = frozenset()
    #: Namespaces with the nn pieces the seeds use: ``nn.Linear``, ``nn.Conv2d``, ``nn.Sequential``,
    #: ``optim.SGD`` and ``models.resnet18``. ``None`` when the engine has none.
    nn: Any = None
    optim: Any = None
    models: Any = None
    #: ``nn.functional``'s operators with torch's signatures: those the training step uses (capability
    #: ``nn.functional``: ``conv2d``, ``batch_norm``, ``relu``, ``max_pool2d``, ``adaptive_avg_pool2d``, ``linear``,
    #: ``cross_entropy``) and those of the ``nn.functional.*`` capabilities (activations, losses, ...).
    functional: Any = None
    #: torch's top-level functions of several tensors (capability ``functions``): ``ops.cat``, ``ops.where``, ...
    ops: Any = None
    #: ``torch.linalg`` (capability ``linalg``): ``linalg.solve``, ``linalg.det``, ...
    linalg: Any = None
    #: ``torch.autograd``'s surface: ``grad`` (``autograd.grad``), ``Function`` (``custom_function``),
    #: ``graph.saved_tensors_hooks`` (``saved_tensor_hooks``) and ``detect_anomaly`` (``anomaly``).
    autograd: Any = None
    #: ``torch.nn.parallel``'s data parallelism (capability ``distributed``): ``DistributedDataParallel`` with
    #: torch's signature and ``allreduce_hook``, the default communication hook, for ``register_comm_hook``.
    parallel: Any = None
    #: Members of declared capabilities that the engine does not have, by capability, spelled as the table
    #: spells them (``{"tensor.unary": frozenset({"erfinv"})}``): a spec that uses one (``Spec.uses``) is
    #: "unsupported", so that an engine with most of a family declares it without imitating the rest.
    lacks: ClassVar[dict[str, frozenset[str]]] = {}
    #: JSON file mapping spec ID -> observed behaviour, for the specs this engine is known to fail. Known
    #: failures are data: the report shows them as such, and flags one that starts passing.
    known_failures_file: ClassVar[Path | None] = None
    #: JSON file of the differential fuzzer's triaged findings on this engine (``conformance.fuzz.findings``): the
    #: deviations already looked into, with standalone reproductions; ``python -m conformance.fuzz`` reports them as
    #: known and fails on new ones only.
    findings_file: ClassVar[Path | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A tape engine has the functional path through its tape (:meth:`vjp`): declaring ``autograd``
        declares ``vjp``."""
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("capabilities")
        if isinstance(declared, frozenset) and "autograd" in declared:
            cls.capabilities = declared | {"vjp"}

    def __init__(self, name: str | None = None) -> None:
        self.name = name or self.engine

    # --- description -------------------------------------------------------------------------------
    @property
    def engine_version(self) -> str:
        """Version of the engine under test."""
        return "unknown"

    @property
    def device(self) -> str:
        """Where tensors and models live, as a torch-style device string."""
        return "cpu"

    def describe(self) -> dict[str, Any]:
        """Metadata for reports: engine, version, device and declared capabilities."""
        return {
            "backend": self.name,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "device": self.device,
            "capabilities": sorted(self.capabilities),
        }

    # --- tensor creation ---------------------------------------------------------------------------
    def tensor(self, data: Any, *, requires_grad: bool = False) -> AutogradTensor:
        """A new leaf tensor on :attr:`device`; float data is float32, as ``torch.tensor`` makes it."""
        raise NotImplementedError(f"{type(self).__name__} must implement tensor()")

    def rand(self, *shape: int, requires_grad: bool = False) -> AutogradTensor:
        """Uniform [0, 1) float32 values drawn from NumPy's seeded generator, so every backend sees the
        same inputs for the same spec."""
        return self.tensor(np.random.random_sample(shape).astype(np.float32), requires_grad=requires_grad)

    def randn(self, *shape: int, requires_grad: bool = False) -> AutogradTensor:
        """Standard normal float32 values from NumPy's seeded generator (see :meth:`rand`)."""
        return self.tensor(np.random.standard_normal(shape).astype(np.float32), requires_grad=requires_grad)

    def ones(self, *shape: int, requires_grad: bool = False) -> AutogradTensor:
        return self.tensor(np.ones(shape, dtype=np.float32), requires_grad=requires_grad)

    def zeros(self, *shape: int, requires_grad: bool = False) -> AutogradTensor:
        return self.tensor(np.zeros(shape, dtype=np.float32), requires_grad=requires_grad)

    # --- oracle view ---------------------------------------------------------------------------------
    def to_numpy(self, tensor: Any) -> np.ndarray:
        """A host copy of ``tensor``'s values, whatever its device or grad tracking: how specs read values
        to compare them. (The tensor's own ``numpy()`` is a spec subject, with its refusals.)"""
        raise NotImplementedError(f"{type(self).__name__} must implement to_numpy()")

    # --- functional gradients (capabilities ``vjp``, ``jvp``, ``vjp.second-order``) ------------------
    def vjp(self, fn: Any, primals: Any, cotangent: Any, *, create_graph: bool = False) -> tuple[Any, list]:
        """``fn(*primals)`` and, for each primal, the vector-Jacobian product ``cotangent · ∂fn/∂primal``.

        ``fn`` returns one tensor; ``cotangent`` has its shape. A functional engine overrides this with its own
        transform (``jax.vjp``). A tape engine has it here, through its tape: each primal becomes a new leaf that
        requires grad, ``fn``'s output is backpropagated with ``backward(gradient=cotangent)`` and the gradients
        are the leaves' ``.grad``. With ``create_graph=True`` (capability ``vjp.second-order``), called inside the
        ``fn`` of an enclosing vjp, the primals are that vjp's leaves and are used as they are: backward records
        the gradients' own graph, and the leaves' ``.grad`` is cleared again, so the enclosing vjp differentiates
        the gradients (second derivatives). A primal the output does not depend on gets zeros."""
        leaves = list(primals) if create_graph else [self._leaf(primal) for primal in primals]
        output = fn(*leaves)
        if output.requires_grad:  # else nothing reached the output (a gradient that is constant): zeros
            output.backward(gradient=cotangent, **({"create_graph": True} if create_graph else {}))
        gradients = [self._zeros_like(leaf) if leaf.grad is None else leaf.grad for leaf in leaves]
        if create_graph:
            for leaf in leaves:
                leaf.grad = None
        return output, gradients

    def _leaf(self, primal: Any) -> Any:
        """A new leaf requiring grad with ``primal``'s values, in its precision."""
        values = self.to_numpy(primal)
        return self._tensor_like(values)(values, requires_grad=True)

    def _zeros_like(self, primal: Any) -> Any:
        """The gradient of an input the output does not depend on (the tape leaves ``.grad`` None): zeros, as
        functional transforms give."""
        values = self.to_numpy(primal)
        return self._tensor_like(values)(np.zeros_like(values))

    def _tensor_like(self, values: np.ndarray) -> Any:
        """:meth:`tensor64` for float64 values, :meth:`tensor` for the rest."""
        return self.tensor64 if values.dtype == np.float64 else self.tensor

    def jvp(self, fn: Any, primals: Any, tangents: Any) -> tuple[Any, Any]:
        """``fn(*primals)`` and its Jacobian-vector product ``Σ ∂fn/∂primalᵢ · tangentᵢ`` (forward mode;
        capability ``jvp``). A tape records reverse mode only: an engine with forward mode overrides this."""
        raise Unsupported(f"{self.name} does not implement jvp()")

    # --- grad mode ----------------------------------------------------------------------------------
    def no_grad(self) -> contextlib.AbstractContextManager:
        """A context manager (also usable as a decorator) inside which results do not require grad."""
        raise Unsupported(f"{self.name} does not implement no_grad()")

    def is_grad_enabled(self) -> bool:
        raise Unsupported(f"{self.name} does not implement is_grad_enabled()")

    def set_grad_enabled(self, mode: bool) -> contextlib.AbstractContextManager:
        """A context manager inside which grad mode is ``mode`` (capability ``grad_mode.switches``)."""
        raise Unsupported(f"{self.name} does not implement set_grad_enabled()")

    def enable_grad(self) -> contextlib.AbstractContextManager:
        """A context manager that turns grad mode on, also inside ``no_grad()`` (``grad_mode.switches``)."""
        raise Unsupported(f"{self.name} does not implement enable_grad()")

    def inference_mode(self) -> contextlib.AbstractContextManager:
        """A context manager whose tensors cannot be recorded by autograd later (``inference_mode``)."""
        raise Unsupported(f"{self.name} does not implement inference_mode()")

    def tensor64(self, data: Any, *, requires_grad: bool = False) -> AutogradTensor:
        """Like :meth:`tensor`, in float64 (capability ``float64``): finite-difference checks need it."""
        raise Unsupported(f"{self.name} does not implement tensor64()")

    def synchronize(self) -> None:
        """Wait until the engine's work is done: an asynchronous engine (a GPU queue) finishes what it queued,
        a lazy engine (one that builds a graph and runs it on demand, as tinygrad does) realises what is still
        pending. The benchmarks call it at the end of each step they time on the host clock, so the engine is
        timed for its work, not for queueing or recording it."""

    def seed(self, seed: int) -> None:
        """Seed the engine's own random generators (layer initialisation, its random tensors). The harness
        calls it before every spec, after seeding Python's, NumPy's and torch's generators with ``seed``."""

    def reset(self) -> None:
        """Drop what the engine keeps from one spec to the next (caches, registries, pending work), so each
        spec starts as in a fresh process. The harness calls it before every spec, after :meth:`seed`; an
        engine without such state leaves it empty. (Settings a spec must not change are
        :meth:`global_state`'s: those are guarded, not reset.)"""

    def spec_scope(self) -> contextlib.AbstractContextManager:
        """A context the harness holds open around each spec's call (and each rank of a distributed spec): where
        an engine enters process-wide settings that must hold for the spec and never outlive it (a math mode, a
        dispatch mode). The oracles of ``conformance`` run outside it. None by default."""
        return contextlib.nullcontext()

    # --- distributed (capability ``distributed``) ------------------------------------------------------
    def process_group_backend(self) -> str:
        """torch.distributed's communication backend for this engine's tensors: ``"gloo"`` on the CPU,
        ``"nccl"`` on CUDA. The harness initialises each rank's process group with it."""
        raise Unsupported(f"{self.name} does not implement process_group_backend()")

    def for_rank(self, rank: int, world_size: int) -> Backend:
        """This backend built again for rank ``rank`` of a group of ``world_size`` processes, on that rank's
        device (CUDA rank ``r`` on ``cuda:r``, every CPU rank on ``cpu``). The harness calls it inside each
        spawned process, on the backend resolved there from :attr:`name`; raise :class:`BackendUnavailable`
        when this machine has no device for the rank."""
        raise Unsupported(f"{self.name} does not implement for_rank()")

    # --- global state the harness guards --------------------------------------------------------------
    def global_state(self) -> dict[str, Any]:
        """The engine's process-wide settings (grad mode and the like) that a spec must not leak.

        The harness snapshots this around every spec and hands a changed snapshot back to
        :meth:`restore_global_state`. Torch's own state is always guarded; add your engine's here.
        """
        return {}

    def restore_global_state(self, snapshot: dict[str, Any]) -> None:
        """Put back the settings of a :meth:`global_state` snapshot."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} on {self.device}>"


class BackendError(Exception):
    """A backend could not be selected; the message says what to fix."""


class UnknownBackend(BackendError):
    """No backend has this name."""


class BackendUnavailable(BackendError):
    """The backend exists but cannot run here (no such device, engine not installed)."""


def import_engine(module: str) -> types.ModuleType:
    """Import the third-party engine ``module``, installed by the project's extra of the same name, or say
    how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailable(f"{module} is not installed: pip install 'autograd-conformance[{module}]'") from exc


class BackendLoadError(BackendError):
    """A plug-in backend failed to import or did not produce a Backend."""
