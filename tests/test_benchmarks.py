"""The benchmark harness: refusals, skips, peak table, FLOP counting, extra_info, history and the GPU sweep's
logic. Nothing here times anything or asserts on a duration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from backends import Backend, BackendUnavailable, Unsupported, resolve
from backends.torch_backend import TorchBackend
from benchmarks import compare, gpu_sweep, history
from benchmarks.clocks import clock_for, time_each
from benchmarks.flops import count_flops
from benchmarks.peaks import peak_tflops
from benchmarks.sweep import SEED
from benchmarks.training_step import StepConfig, build_step, device_reason, math_mode, unsupported_reason
from benchmarks.verdict import INCONCLUSIVE, REGRESSION, VERDICTS

from .conftest import ROOT

SEED_STEP = SEED.id
NO_CAPABILITIES_ENGINE = """
from backends import Backend

class NoCapabilities(Backend):
    engine = "bare"
"""
TIMING_KEYS = {"timer", "device", "device_name", "step_ms_median", "step_ms_iqr", "noise_pct"}
STEP_KEYS = TIMING_KEYS | {"backend", "batch", "image", "precision", "images_per_s", "flops_per_step", "tflops"}


def run_benchmarks(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``pytest benchmarks ...`` in a fresh interpreter, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(cwd)])}
    env.pop("PYTEST_XDIST_WORKER", None)  # this suite itself may run under xdist
    command = [sys.executable, "-m", "pytest", str(ROOT / "benchmarks"), "-p", "no:cacheprovider", "-rs", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict]:
    """One small smoke run on three backends (torch on the CPU, torch slowed by half in backward, an engine
    without capabilities), with a JSON report and a saved run: the seed's step, the CUDA-only variants and the
    smallest autograd-overhead benchmark."""
    cwd = tmp_path_factory.mktemp("smoke")
    (cwd / "bare_engine.py").write_text(NO_CAPABILITIES_ENGINE)
    report = cwd / "report.json"
    result = run_benchmarks(
        cwd,
        "-m",
        "smoke",
        "-k",
        f"{SEED_STEP} or tf32 or cudagraph or backward_per_node",
        "--backend=cpu,slowed:backward:200,bare_engine:NoCapabilities",
        "--step-rounds=5",
        "--step-warmup=1",
        f"--benchmark-json={report}",
        "--benchmark-autosave",
        f"--benchmark-storage=file://{cwd / 'storage'}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result, json.loads(report.read_text())


@pytest.fixture(scope="module")
def smoke_storage(smoke_run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pytest-benchmark storage of the smoke run (its one autosaved run)."""
    result, _ = smoke_run
    return Path(next(arg for arg in result.args if arg.startswith("--benchmark-storage=")).split("file://", 1)[1])


def benchmark_named(report: dict, name: str) -> dict:
    return next(bench for bench in report["benchmarks"] if bench["name"] == name)


def test_smoke_json_has_the_extra_info_keys(smoke_run):
    _, report = smoke_run
    step = benchmark_named(report, f"test_training_step[cpu-{SEED_STEP}]")
    assert step["extra_info"].keys() >= STEP_KEYS
    assert step["extra_info"]["timer"] == "perf_counter"
    assert step["extra_info"]["flops_per_step"] > 0
    assert "peak_pct" not in step["extra_info"]  # a CPU is not in the peak table: no percentage is guessed
    overhead = benchmark_named(report, "test_backward_per_node[cpu-100]")
    assert {"us_per_node", "nodes", *TIMING_KEYS} <= overhead["extra_info"].keys()


def test_smoke_json_records_versions_in_machine_info(smoke_run):
    _, report = smoke_run
    assert report["machine_info"]["torch"] == torch.__version__
    assert {"torchvision", "cuda", "cudnn", "gpus"} <= report["machine_info"].keys()
    assert "commit_info" in report


def test_engine_without_the_capabilities_is_unsupported(smoke_run):
    result, report = smoke_run
    assert "unsupported: bare_engine:NoCapabilities does not declare autograd, models.resnet18, optim.sgd" in (
        result.stdout
    )
    assert "unsupported: bare_engine:NoCapabilities does not declare autograd" in result.stdout
    assert not [bench for bench in report["benchmarks"] if "NoCapabilities" in bench["name"]]


def test_cuda_only_variants_skip_with_a_reason_on_cpu(smoke_run):
    result, _ = smoke_run
    assert "needs CUDA: TF32 is a tensor-core math mode (device cpu)" in result.stdout
    assert "needs CUDA: the step is captured in a CUDA graph (device cpu)" in result.stdout


def test_benchmarks_refuse_to_run_under_xdist(tmp_path):
    result = run_benchmarks(tmp_path, "-n", "2", "-m", "smoke")
    assert result.returncode == 4
    assert "the benchmarks cannot run under pytest-xdist (-n/--dist)" in result.stderr


def test_torch_only_variants_are_unsupported_for_a_model_that_is_not_a_torch_module():
    engine = Backend(name="numpy-engine")
    engine.models = types.SimpleNamespace(resnet18=lambda: object())
    with pytest.raises(Unsupported, match=r"numpy-engine's resnet18 is a object, not a torch.nn.Module; torch-only"):
        build_step(engine, StepConfig(batch=1, image=64, precision="bf16", memory_format="channels_last"))


def test_an_engine_with_its_own_resnet18_runs_the_plain_step_through_the_contract():
    pytest.importorskip("paddle")
    engine = resolve("paddle")
    config = StepConfig(batch=1, image=64, scope="finetune")
    step = build_step(engine, config)
    step.run()  # zero_grad, forward, loss, backward and the SGD step, all paddle's
    assert step.images == 1
    assert step.flops == build_step(TorchBackend("meta"), config).flops > 0


def test_unsupported_reason_names_the_missing_capabilities():
    assert unsupported_reason(TorchBackend("cpu")) is None
    assert unsupported_reason(Backend(name="bare")) == (
        "unsupported: bare does not declare autograd, models.resnet18, optim.sgd"
    )


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (StepConfig(precision="tf32"), "needs CUDA: TF32"),
        (StepConfig(execution="cudagraph"), "needs CUDA: the step is captured in a CUDA graph"),
        (StepConfig(precision="bf16"), None),  # CPU autocast has bf16
        (StepConfig(execution="compile"), None),
    ],
)
def test_device_reason_on_cpu(config, reason):
    got = device_reason(config, torch.device("cpu"))
    assert got == reason if reason is None else got.startswith(reason)
    assert device_reason(config, torch.device("cuda")) is None


def test_math_mode_sets_tf32_and_autotuning_for_cuda_and_restores_them():
    before = (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.fp32_precision)
    with math_mode(StepConfig(precision="tf32"), torch.device("cuda")):
        assert torch.backends.cudnn.benchmark
        assert torch.backends.cuda.matmul.fp32_precision == "tf32"
        assert torch.backends.cudnn.conv.fp32_precision == "tf32"
    with math_mode(StepConfig(precision="fp32"), torch.device("cuda")):
        assert torch.backends.cudnn.conv.fp32_precision == "ieee"  # cuDNN's TF32 default would blur "fp32"
    assert (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.fp32_precision) == before


@pytest.mark.parametrize(
    ("name", "precision", "peak"),
    [
        ("NVIDIA H100 80GB HBM3", "bf16", 989.4),
        ("NVIDIA H100 PCIe", "tf32", 378.0),
        ("NVIDIA H200", "fp32", 67.0),
        ("NVIDIA A100-SXM4-80GB", "bf16", 312.0),
        ("NVIDIA H200 NVL", "bf16", None),  # another part with another peak: not guessed from "H200"
        ("NVIDIA GeForce RTX 4090", "fp32", None),
        ("x86_64", "fp32", None),
        ("NVIDIA H100 80GB HBM3", "fp8", None),
    ],
)
def test_peak_table_lookup(name, precision, peak):
    assert peak_tflops(name, precision) == peak


def test_flop_counter_counts_a_matmul_as_two_flops_per_multiply_add():
    a, b = torch.ones(8, 16), torch.ones(16, 4)
    assert count_flops(lambda: a @ b) == 2 * 8 * 16 * 4


def test_flops_of_resnet18_steps_are_plausible():
    """resnet18's forward is 1.82 GMAC at 224 px; backward costs about twice the forward, and freezing the
    backbone removes nearly all of it (seed 001: "performance benefits by reducing autograd computations")."""
    engine = TorchBackend("cpu")
    forward = build_step(engine, StepConfig(batch=1, image=224, mode="infer-nograd")).flops
    assert 3.5e9 < forward < 3.8e9
    step = build_step(engine, StepConfig(batch=1, image=224)).flops
    assert 2.5 < step / forward < 3.0
    finetune = build_step(engine, StepConfig(batch=1, image=224, scope="finetune")).flops
    assert finetune < 1.01 * forward


def test_time_each_times_every_round_on_cpu():
    calls = []
    times = time_each(lambda: calls.append(1), torch.device("cpu"), 4)
    assert len(times) == len(calls) == 4
    assert all(t >= 0 for t in times)
    assert clock_for(torch.device("cpu")) is not None


def saved_run(report: dict, scale: float, when: str) -> dict:
    run = json.loads(json.dumps(report))
    run["datetime"] = when
    for bench in run["benchmarks"]:
        bench["stats"]["median"] *= scale
    return run


def test_history_flags_an_injected_step_in_png_and_markdown(smoke_run, tmp_path):
    """Eight saved runs of the smoke benchmarks, the last four 12% slower (1% run-to-run jitter): one step, at
    the fifth run, for every benchmark; none elsewhere."""
    _, report = smoke_run
    machine = tmp_path / "storage" / "Linux-CPython-3.11-64bit"
    machine.mkdir(parents=True)
    jitter = [1.0, 1.01, 0.99, 1.005, 0.995, 1.01, 0.99, 1.0]
    for index, wobble in enumerate(jitter):
        scale = wobble * (1.12 if index >= 4 else 1.0)
        name = f"{index + 1:04d}_run_2026010{index + 1}_000000.json"
        (machine / name).write_text(json.dumps(saved_run(report, scale, f"2026-01-0{index + 1}")))
    png, md = tmp_path / "history.png", tmp_path / "history.md"

    assert history.main(["--storage", f"file://{tmp_path / 'storage'}", "--png", str(png), "--md", str(md)]) == 0

    assert png.read_bytes().startswith(b"\x89PNG")
    rows = md.read_text().splitlines()[2:]
    assert len(rows) == len(report["benchmarks"])
    assert f"`training_step[cpu-{SEED_STEP}]`" in md.read_text()
    for row in rows:
        steps = row.rsplit("|", 2)[1].strip()
        assert steps.startswith("⚠ +1") and " at 0005 " in steps, row
        assert "," not in steps, row


def test_history_sees_no_step_in_a_flat_noisy_series():
    medians = [0.100, 0.104, 0.097, 0.102, 0.099, 0.103, 0.098, 0.101, 0.100, 0.104]
    assert history.find_steps(medians) == []


def test_history_without_saved_runs_is_an_error(tmp_path):
    with pytest.raises(SystemExit):
        history.main(["--storage", str(tmp_path), "--png", str(tmp_path / "h.png"), "--md", str(tmp_path / "h.md")])


def test_gpu_sweep_names_results_by_device_and_interleaves_the_overhead_check(monkeypatch):
    """The harness's rounds and the bare loop's alternate in batches and are compared by the verdict (a
    trivial step here: the logic, not a speed)."""
    assert gpu_sweep.slug("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3"
    log: list[str] = []
    monkeypatch.setattr(gpu_sweep.HarnessLoop, "measure", lambda self, n: log.append(f"H{n}") or [1.01e-3] * n)
    monkeypatch.setattr(gpu_sweep.BareLoop, "measure", lambda self, n: log.append(f"B{n}") or [1e-3] * n)
    check = gpu_sweep.overhead_check(resolve("cpu"), StepConfig(batch=2, image=32), rounds=10, batch=5)
    assert log == ["B10", "H10", "B5", "H5", "H5", "B5"]  # warm-up, then alternating batches
    assert check["ratio"] == pytest.approx(1.01) and check["ratio_ci95"] == pytest.approx([1.01, 1.01])
    assert check["within_expected"] and check["verdict"] == "no change"
    assert len(check["harness_seconds"]) == len(check["bare_loop_seconds"]) == 10


def test_compare_fail_without_a_saved_run_is_a_usage_error_before_any_benchmark(tmp_path):
    result = run_benchmarks(tmp_path, "-m", "smoke", "--benchmark-compare-fail=median:5%")
    assert result.returncode == 4
    assert "--benchmark-compare-fail needs a saved run to compare with: none found in" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_history_names_the_corrupt_file(tmp_path, capsys):
    (tmp_path / "Linux").mkdir()
    (tmp_path / "Linux" / "0001_run.json").write_text("{not json")
    with pytest.raises(SystemExit) as exit_info:
        history.main(["--storage", str(tmp_path), "--png", str(tmp_path / "h.png"), "--md", str(tmp_path / "h.md")])
    assert exit_info.value.code == 2
    assert (
        f"{tmp_path / 'Linux' / '0001_run.json'}: not a pytest-benchmark run (JSONDecodeError"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("backend", "message"),
    [("cpu", "--backend=cpu runs on the CPU: the sweep is for a GPU"), ("cuda:x", "'cuda:x' is not a torch device")],
)
def test_gpu_sweep_refuses_the_cpu_and_a_bad_device_before_starting(backend, message, capsys, monkeypatch):
    monkeypatch.setattr(subprocess, "call", lambda *args, **kwargs: pytest.fail("the sweep started"))
    with pytest.raises(SystemExit) as exit_info:
        gpu_sweep.main(["--backend", backend])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_gpu_sweep_without_a_gpu_says_so_without_a_traceback(capsys, monkeypatch):
    def no_gpu(name):
        raise BackendUnavailable(f"{name}: no CUDA device here")

    monkeypatch.setattr(gpu_sweep, "resolve", no_gpu)
    with pytest.raises(SystemExit) as exit_info:
        gpu_sweep.main([])
    assert exit_info.value.code == 2
    assert "cuda: no CUDA device here" in capsys.readouterr().err


def test_saved_runs_keep_every_rounds_time_and_a_noise_figure(smoke_storage):
    (saved,) = smoke_storage.rglob("*.json")
    step = benchmark_named(json.loads(saved.read_text()), f"test_training_step[cpu-{SEED_STEP}]")
    assert len(step["stats"]["data"]) == 5
    assert step["extra_info"]["noise_pct"] >= 0


def test_compare_judges_two_backends_of_one_saved_run(smoke_storage, capsys):
    status = compare.main(["--storage", str(smoke_storage), "--backends", "cpu", "slowed:backward:200"])
    table = capsys.readouterr().out
    assert f"| `training_step[{SEED_STEP}]` |" in table
    assert "| `backward_per_node[100]` |" in table
    verdicts = [row.split("|")[5].strip() for row in table.splitlines() if row.startswith("| `")]
    assert len(verdicts) == 2 and set(verdicts) <= set(VERDICTS)  # 5 rounds apart, on a busy machine: any verdict
    assert status == (1 if REGRESSION in verdicts else 3 if INCONCLUSIVE in verdicts else 0)


def test_a_slowed_backend_records_the_fraction_it_injected(smoke_run):
    _, report = smoke_run
    slowed = benchmark_named(report, f"test_training_step[slowed:backward:200-{SEED_STEP}]")
    assert 1.0 < slowed["extra_info"]["injected_fraction"] < 4.0
    assert "injected_fraction" not in benchmark_named(report, f"test_training_step[cpu-{SEED_STEP}]")["extra_info"]
