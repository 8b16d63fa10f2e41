"""Per-spec seeding: every spec draws the same inputs whether run alone, in any order, or under xdist."""

from __future__ import annotations

import random
import zlib

import numpy as np
import pytest
import torch


def seed_key(item: pytest.Item) -> str:
    """The node id without the backend's id, so every backend of a run sees the same inputs."""
    base = item.nodeid.split("[", 1)[0]
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return base
    other_params = callspec.id.replace(str(callspec.params.get("engine", "")), "", 1).strip("-")
    return f"{base}[{other_params}]"


def seed_everything(key: str) -> int:
    seed = zlib.crc32(key.encode())
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed
