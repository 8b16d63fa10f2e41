"""No downloads at run time: torch.hub's download function is replaced for the whole run.

Pretrained weights must come from the local hub cache. A spec or engine that would fetch a file fails at
once with a message saying where the file belongs, instead of reaching for the network.
"""

from __future__ import annotations

import os

import pytest
import torch.hub

REFUSAL = "conformance runs never download"


class DownloadRefused(RuntimeError):
    """Raised in place of a download; the message names the local path the file is expected at."""


def refuse_download(url: str, dst: str, *args: object, **kwargs: object) -> None:
    """Stands in for ``torch.hub.download_url_to_file``."""
    raise DownloadRefused(
        f"{REFUSAL}: {url} is not in the local cache. Put the file at {os.path.abspath(dst)} "
        f"(torch hub dir: {torch.hub.get_dir()}; set TORCH_HOME to use another cache)."
    )


def pytest_configure(config: pytest.Config) -> None:
    patch = pytest.MonkeyPatch()
    patch.setattr(torch.hub, "download_url_to_file", refuse_download)
    config.add_cleanup(patch.undo)
