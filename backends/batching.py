"""torch's pooling (and padding in its non-constant modes) takes an unbatched input, channels and the spatial
dimensions only; engines whose operators require the batch dimension (paddle, TensorFlow) get a batch of one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def unbatched(
    function: Callable,
    spatial: int | Callable[..., int],
    *,
    add: Callable[[Any], Any] = lambda x: x.unsqueeze(0),
    drop: Callable[[Any], Any] = lambda x: x.squeeze(0),
) -> Callable:
    """``function`` on a batch of one (``add``, then ``drop`` on each output) where its input is unbatched: channels
    and ``spatial`` spatial dimensions, or ``spatial(input, *args, **kwargs)`` of them."""

    def call(input, *args, **kwargs):
        dims = spatial(input, *args, **kwargs) if callable(spatial) else spatial
        if len(input.shape) != dims + 1:
            return function(input, *args, **kwargs)
        output = function(add(input), *args, **kwargs)
        return tuple(drop(part) for part in output) if isinstance(output, tuple) else drop(output)

    return call
