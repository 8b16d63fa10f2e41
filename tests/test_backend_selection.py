"""--backend: known names, bad names, unavailable devices, several backends in one run."""

import torch

SPEC = """
def test_tensor_lives_on_the_backend_device(engine):
    assert str(engine.tensor([1.0]).device) == engine.device
"""


def test_default_backend_is_cpu(harness):
    harness.makepyfile(SPEC)
    result = harness.runpytest("-v")
    result.stdout.fnmatch_lines(["*test_tensor_lives_on_the_backend_device[[]cpu[]] PASSED*"])
    assert result.ret == 0


def test_unknown_backend_is_a_usage_error_listing_the_known_ones(harness):
    harness.makepyfile(SPEC)
    result = harness.runpytest("--backend=nosuch")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*unknown backend 'nosuch'; known backends: cpu, cuda, mps, xpu, cuda:N, torch:<device>, *module:attribute"]
    )


def test_cuda_without_cuda_fails_with_the_reason(harness, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    harness.makepyfile(SPEC)
    result = harness.runpytest("--backend=cuda")
    assert result.ret != 0
    result.stderr.fnmatch_lines([f"*CUDA was requested but torch {torch.__version__} (built *) finds no CUDA device*"])
    assert "passed" not in result.stdout.str()


def test_cuda_on_a_cpu_only_build_says_so(harness, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)
    harness.makepyfile(SPEC)
    result = harness.runpytest("--backend=cuda:0")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*(built without CUDA) finds no CUDA device*"])


def test_two_backends_parametrize_every_spec(harness):
    harness.makepyfile(SPEC)
    result = harness.runpytest("-v", "--backend=cpu", "--backend=torch:cpu")
    result.stdout.fnmatch_lines(
        [
            "*test_tensor_lives_on_the_backend_device[[]cpu[]] PASSED*",
            "*test_tensor_lives_on_the_backend_device[[]torch:cpu[]] PASSED*",
        ]
    )
    assert result.ret == 0


def test_comma_separated_backends_are_deduplicated(harness):
    harness.makepyfile(SPEC)
    result = harness.runpytest("--backend=cpu,torch:cpu", "--backend=cpu")
    result.assert_outcomes(passed=2)


def test_plugin_that_fails_to_import_is_named_with_its_exception(harness):
    harness.makepyfile(SPEC)
    result = harness.runpytest("--backend=no_such_engine.module:backend")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*backend plug-in 'no_such_engine.module:backend'*failed to load: ModuleNotFoundError*no_such_engine*"]
    )


def test_plugin_that_is_not_a_backend_is_rejected(harness):
    harness.makepyfile(SPEC, fake_engine="backend = 42")
    harness.syspathinsert()
    result = harness.runpytest("--backend=fake_engine:backend")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*fake_engine:backend*gave int, not a backends.Backend*"])


def test_report_header_names_each_backend(harness):
    harness.makepyfile(SPEC)
    result = harness.runpytest("--backend=cpu")
    result.stdout.fnmatch_lines([f"backend cpu: torch {torch.__version__} on cpu"])
