"""Loading pretrained resnet18: the weights API and the deprecated pretrained=True (seeds 000, 001, 004).

Runs never download (the harness refuses it). Each spec saves a state dict of its own into a temporary
torch hub cache, at checkpoints/<file name of the weights URL> where torch.hub looks before downloading,
and checks that the model it gets back holds exactly those values. The cache is torch's mechanism, so the
setup speaks torch; what is checked goes through the engine.
"""

import warnings
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from backends import capabilities as cap
from conformance.catalogue import SURFACE, VALUE, spec


@pytest.fixture
def cached_weights(engine, tmp_path, monkeypatch):
    """The state dict placed in a temporary hub cache as ResNet18_Weights.DEFAULT's file, as NumPy arrays.

    Only TORCH_HOME changes, through monkeypatch, so the real cache is neither read nor written."""
    import torch
    from torchvision.models import ResNet18_Weights

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    checkpoint = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(ResNet18_Weights.DEFAULT.url).path).name
    assert tmp_path in checkpoint.parents, "torch.hub.set_dir() was called before: the hub cache ignores TORCH_HOME"
    checkpoint.parent.mkdir(parents=True)
    state = {name: value.cpu() for name, value in engine.models.resnet18().state_dict().items()}
    torch.save(state, checkpoint)
    return {name: value.numpy() for name, value in state.items()}


def assert_holds(engine, model, saved):
    loaded = {name: engine.to_numpy(value) for name, value in model.state_dict().items()}
    assert loaded.keys() == saved.keys()
    for name, value in saved.items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)
    assert model.fc.out_features == 1000


@spec("weights.default", sources=["001"], needs=[cap.RESNET18, cap.PRETRAINED], kind=VALUE)
def test_weights_default_loads_the_state_dict(engine, cached_weights):
    """model = resnet18(weights=ResNet18_Weights.DEFAULT) loads the pretrained weights: the model holds the
    values of the weights file, and its classifier predicts 1000 labels ("Label in pretrained models has
    shape (1,1000)")."""
    model = engine.models.resnet18(weights="DEFAULT")
    assert_holds(engine, model, cached_weights)


def resnet18_pretrained(engine):
    """models.resnet18(pretrained=True) and the messages of the warnings it issued; the model is None where the
    release has removed the argument and refuses it with a TypeError naming it (that refusal is checked here)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = engine.models.resnet18(pretrained=True)
        except TypeError as removed:
            assert "pretrained" in str(removed)
            model = None
    return model, [str(warning.message) for warning in caught]


@spec("weights.pretrained-deprecated", sources=["000", "004"], needs=[cap.RESNET18, cap.PRETRAINED], kind=VALUE)
def test_pretrained_true_loads_the_same_weights(engine, cached_weights):
    """torchvision.models.resnet18(pretrained=True) loads the pretrained resnet18 (the file of
    ResNet18_Weights.DEFAULT for resnet18); pretrained is deprecated in favour of weights.

    pretrained=True was replaced by weights= in torchvision 0.13 and warns "may be removed in the future".
    A release that has removed it refuses the argument with a TypeError naming it; the spec accepts that
    refusal and nothing else (loading other weights or ignoring the argument fails). The warning's words are
    weights.pretrained-deprecation-warning."""
    model, _ = resnet18_pretrained(engine)
    if model is not None:
        assert_holds(engine, model, cached_weights)


@spec(
    "weights.pretrained-deprecation-warning",
    sources=["000", "004"],
    needs=[cap.RESNET18, cap.PRETRAINED, cap.TORCH_ERRORS],
    kind=SURFACE,
)
def test_pretrained_true_warns_in_torchvisions_words(engine, cached_weights):
    """resnet18(pretrained=True) warns in torchvision's words: "The parameter 'pretrained' is deprecated".

    A release that has removed the argument cannot warn: the spec does not apply there."""
    model, messages = resnet18_pretrained(engine)
    if model is None:
        pytest.skip("not applicable: this torchvision release has removed pretrained=")
    assert any("'pretrained' is deprecated" in message for message in messages), messages
