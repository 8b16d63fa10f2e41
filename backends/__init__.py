"""Backends: the engines the conformance suite runs against, behind one contract.

See :mod:`backends.contract` for the interface, :mod:`backends.registry` for how ``--backend`` values are
resolved, and the README's "Writing a backend" for a complete example.
"""

from . import capabilities
from .contract import (
    AutogradTensor,
    Backend,
    BackendError,
    BackendLoadError,
    BackendUnavailable,
    UnknownBackend,
    Unsupported,
)
from .registry import ENTRY_POINT_GROUP, known_backends, resolve

__all__ = [
    "ENTRY_POINT_GROUP",
    "AutogradTensor",
    "Backend",
    "BackendError",
    "BackendLoadError",
    "BackendUnavailable",
    "UnknownBackend",
    "Unsupported",
    "capabilities",
    "known_backends",
    "resolve",
]
