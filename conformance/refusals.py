"""What counts as a refusal, for the specs of kind refusal, and torch's wording of it, for their surface twins.

A refusal spec asks whether the engine refuses, not how it words the refusal: any exception counts, except the
ones that say the API itself is missing (:data:`MISSING_API`: ``AttributeError``, ``NotImplementedError``,
which ``backends.Unsupported`` is, and a ``TypeError`` about an unexpected argument). An engine that declares a
capability has its API, so such an exception is no refusal but a failure. Whether the exception is torch's own
class and words is a separate question, asked by a surface spec (capability ``errors.torch``) through
:meth:`refuses.with_torch_error`::

    with refuses("item() of a 2x2 tensor") as refusal:
        x.item()
    refusal.with_torch_error(RuntimeError, "element")   # only in the surface spec
"""

from __future__ import annotations

import re
from types import TracebackType

import pytest

#: exceptions that mean the API is missing, not that the engine refuses
MISSING_API = (AttributeError, NotImplementedError)
#: how Python words a TypeError raised by a call that does not fit the signature (the API is not there)
UNEXPECTED_ARGUMENT = re.compile(
    r"unexpected keyword argument|positional arguments? but \d+ (were|was) given|missing \d+ required"
)


def means_missing_api(error: BaseException) -> bool:
    """Whether ``error`` says the API is missing rather than that the engine refuses the operation."""
    if isinstance(error, MISSING_API):
        return True
    return isinstance(error, TypeError) and UNEXPECTED_ARGUMENT.search(str(error)) is not None


class refuses:
    """Context manager: the block must raise an exception that is a refusal (see the module docstring); the
    exception is kept as :attr:`error`. No refusal, or one that means the API is missing, fails the spec."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.error: Exception | None = None

    def __enter__(self) -> refuses:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> bool:
        if error is None:
            pytest.fail(f"{self.what}: did not refuse (no exception)", pytrace=False)
        if not isinstance(error, Exception):
            return False  # KeyboardInterrupt, SystemExit, pytest's own outcomes: not the engine's refusal
        if means_missing_api(error):
            pytest.fail(
                f"{self.what}: raised {type(error).__name__}({error}), which says the API is missing, not that the "
                "engine refuses",
                pytrace=False,
            )
        self.error = error
        return True

    def with_torch_error(self, torch_class: type[Exception], words: str) -> None:
        """Assert that the refusal is torch's: an instance of ``torch_class`` whose message matches the regular
        expression ``words``."""
        assert isinstance(self.error, torch_class), (
            f"{self.what}: refused with {type(self.error).__name__}({self.error}), not torch's {torch_class.__name__}"
        )
        assert re.search(words, str(self.error)), f"{self.what}: the message {str(self.error)!r} lacks {words!r}"
