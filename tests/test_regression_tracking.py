"""The regression tracker: the verdict's statistics, the slowed backends, the synchronisation check, the
interleaved A/B command (two interpreters, end to end), saved-run comparison and history steps."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import sysconfig
import threading
import time
import venv
from pathlib import Path

import numpy as np
import pytest
import torch

from backends import UnknownBackend, resolve
from backends.perf_mutants import SlowedBackend
from benchmarks import ab, compare, history, tracker_power
from benchmarks.measure import UnsynchronizedEngine, check_synchronize
from benchmarks.verdict import IMPROVEMENT, INCONCLUSIVE, NO_CHANGE, REGRESSION
from benchmarks.verdict import compare as verdict
from benchmarks.workloads import Workload

from .conftest import ROOT


def lognormal(seed: int, ratio: float, spread: float, rounds: int = 30) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(np.log(ratio), spread, rounds)


# --- the verdict ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("b_ratio", "spread", "expected"),
    [(1.10, 0.02, REGRESSION), (1 / 1.10, 0.02, IMPROVEMENT), (1.0, 0.01, NO_CHANGE), (1.0, 0.30, INCONCLUSIVE)],
)
def test_verdict_at_the_default_effect(b_ratio, spread, expected):
    result = verdict(lognormal(1, 1.0, spread), lognormal(2, b_ratio, spread))
    assert result.verdict == expected, result.describe()
    assert result.low <= result.ratio <= result.high


def test_alternated_rounds_cancel_a_machine_that_changes_speed():
    """A shared machine runs at two speeds, switching every few rounds; B is 10% slower. Paired, the per-pair
    ratios see the 10% through the switches, with a narrower interval than the medians of the two sides."""
    rng = np.random.default_rng(3)
    speed = np.repeat(rng.choice([1.0, 1.8], size=20), 3)[:50]  # the machine's speed, held for 3 rounds at a time
    a = speed * rng.lognormal(0, 0.02, 50)
    b = speed * 1.10 * rng.lognormal(0, 0.02, 50)
    paired, unpaired = verdict(a, b, paired=True), verdict(a, b)
    assert paired.verdict == REGRESSION
    assert paired.ratio == pytest.approx(1.10, abs=0.02)
    assert paired.high - paired.low < (unpaired.high - unpaired.low) / 1.5


def test_an_inconclusive_verdict_says_why():
    result = verdict(lognormal(1, 1.0, 0.3), lognormal(2, 1.0, 0.3))
    assert "too noisy" in result.describe() and "alternate A and B" in result.describe()


def test_verdict_error_rates_on_independent_noisy_rounds():
    """The rule's own operating characteristics, 200 seeded comparisons each, 30 rounds a side with 5%
    spread: at most 5% false alarms on unchanged code, at least 90% of 10% slowdowns caught."""
    false_alarms = sum(
        verdict(lognormal(s, 1, 0.05), lognormal(s + 1000, 1, 0.05)).verdict == REGRESSION for s in range(200)
    )
    caught = sum(
        verdict(lognormal(s, 1, 0.05), lognormal(s + 1000, 1.1, 0.05)).verdict == REGRESSION for s in range(200)
    )
    assert false_alarms <= 10
    assert caught >= 180


def test_verdict_is_reproducible_and_refuses_too_few_or_unpaired_rounds():
    a, b = lognormal(1, 1.0, 0.05), lognormal(2, 1.05, 0.05)
    assert verdict(a, b) == verdict(a, b)
    with pytest.raises(ValueError, match="at least 5 rounds"):
        verdict(a[:4], b)
    with pytest.raises(ValueError, match="as many rounds"):
        verdict(a[:10], b, paired=True)


# --- slowed backends ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spelling", "message"),
    [
        ("slowed:sideways:10", "unknown phase 'sideways'"),
        ("slowed:backward:ten", "'ten' is not a percentage"),
        ("slowed:backward:0", "above 0%"),
    ],
)
def test_a_badly_spelled_slowed_backend_says_how_to_spell_it(spelling, message):
    with pytest.raises(UnknownBackend, match=message) as error:
        resolve(spelling)
    assert "slowed:<phase>:<percent>[:<device>]" in str(error.value)


def test_a_slowed_backend_computes_what_torch_computes():
    slowed, plain = resolve("slowed:backward:10%"), resolve("cpu")
    gradients = []
    for engine in (slowed, plain):
        leaf = engine.tensor([1.0, 2.0], requires_grad=True)
        (leaf * leaf).sum().backward()
        gradients.append(engine.to_numpy(leaf.grad))
    np.testing.assert_array_equal(*gradients)
    assert slowed.describe()["slowed_phase"] == "backward"


def test_each_round_is_slowed_by_the_fraction_of_the_one_before():
    """The extra work of a round is sized to half of the previous round's time without it, and the injected
    fraction is the work's seconds over the rest's (accounting checked, not a speed)."""
    engine = SlowedBackend("backward", 0.5)

    def run() -> None:
        leaf = engine.tensor([1.0], requires_grad=True)
        time.sleep(0.005)
        (leaf * 2).sum().backward()

    slowed = engine.slow(Workload(run=run, readback=lambda: None), lambda: pytest.fail("timed beside the round"))
    plain_total, spent_at_start = 0.0, engine.work.spent
    for index in range(5):
        units, spent_before = engine.work.units, engine.work.spent
        start = time.perf_counter()
        slowed.run()
        elapsed = time.perf_counter() - start
        spent = engine.work.spent - spent_before
        assert (units == 0) == (index == 0)  # nothing to size the first round's work by
        plain_total += elapsed - spent
        unit = statistics.median(engine.work._unit_seconds)
        assert (
            engine.work.units == round(0.5 * (elapsed - spent) / unit)
            or abs(engine.work.units * unit - 0.5 * (elapsed - spent)) < 5e-4
        )
    assert engine.injected_fraction == pytest.approx((engine.work.spent - spent_at_start) / plain_total, rel=0.05)


@pytest.mark.parametrize("phase", ["forward", "backward", "step"])
def test_the_extra_work_runs_in_its_phase_only(phase, monkeypatch):
    engine = SlowedBackend(phase, 0.1)
    seen: list[str] = []
    current = {"phase": "setup"}
    monkeypatch.setattr(engine, "work", lambda: seen.append(current["phase"]))
    model = engine.models.resnet18()
    optimizer = engine.optim.SGD(model.parameters(), lr=0.01)
    data = torch.rand(2, 3, 32, 32)
    current["phase"] = "forward"
    loss = model(data).sum()
    current["phase"] = "backward"
    loss.backward()
    current["phase"] = "step"
    optimizer.step()
    assert seen == [phase]


# --- the synchronisation check ------------------------------------------------------------------------------


class Named:
    name = "lazy-engine"


def thread_workload(wait_in_run: bool) -> Workload:
    """A round whose 20 ms of work runs on another thread: waited for in the round (a correct
    ``synchronize()``), or only when its result is read back (one that returns early)."""
    pending: list[threading.Thread] = []

    def run() -> None:
        worker = threading.Thread(target=time.sleep, args=(0.02,))
        worker.start()
        pending.append(worker)
        if wait_in_run:
            worker.join()

    def readback() -> None:
        pending[-1].join()

    return Workload(run=run, readback=readback)


def test_an_engine_whose_synchronize_does_not_wait_is_refused():
    with pytest.raises(UnsynchronizedEngine, match=r"lazy-engine: a round measured \d+ µs.*synchronize\(\) must wait"):
        check_synchronize(Named(), thread_workload(wait_in_run=False), time.perf_counter)


def test_an_engine_whose_synchronize_waits_passes_the_check():
    check_synchronize(Named(), thread_workload(wait_in_run=True), time.perf_counter)


def test_a_real_lazy_engine_is_refused():
    """tinygrad computes lazily, and its adapter's synchronize() does not realise the gradients a backward
    left pending: reading them back after the round is where the work happens, and the check sees it."""
    pytest.importorskip("tinygrad")
    engine = resolve("tinygrad")
    last = {}

    def chain():
        leaf = engine.tensor([1.0], requires_grad=True)  # one element: tinygrad gives a 0-d leaf no gradient
        root = leaf
        for _ in range(20):
            root = root * 1.0
        last["leaf"] = leaf
        return (root.sum(),), {}

    def backward(root):
        root.backward()
        engine.synchronize()

    workload = Workload(run=backward, setup=chain, readback=lambda: engine.to_numpy(last["leaf"].grad))
    with pytest.raises(UnsynchronizedEngine, match=r"TinygradBackend\.synchronize\(\) must wait"):
        check_synchronize(engine, workload, time.perf_counter)


# --- interleaved A/B -----------------------------------------------------------------------------------------


class RecordingSide:
    def __init__(self, label: str, log: list[str]) -> None:
        self.label, self.log = label, log

    def measure(self, rounds: int) -> list[float]:
        self.log += [self.label] * rounds
        return [1.0] * rounds


def test_interleave_alternates_batches_and_their_order():
    log: list[str] = []
    times_a, times_b = ab.interleave(RecordingSide("A", log), RecordingSide("B", log), rounds=5, batch=2)
    assert "".join(log) == "AABBBBAAAB"
    assert len(times_a) == len(times_b) == 5


def second_interpreter(path: Path) -> str:
    """Another environment: a virtual environment of its own that sees this one's packages through a .pth."""
    venv.create(path, with_pip=False)
    python = path / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "parent-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return str(python)


def test_ab_compares_two_interpreters_end_to_end(tmp_path):
    other = second_interpreter(tmp_path / "env-b")
    record = tmp_path / "ab.json"
    command = [sys.executable, "-m", "benchmarks.ab", "--python-a", sys.executable, "--python-b", other]
    command += ["--a", "cpu", "--b", "slowed:backward:300", "--rounds", "12", "--batch", "3", "--warmup", "2"]
    command += ["--json", str(record)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "regression at 5%" in done.stdout
    result = json.loads(record.read_text())
    assert result["a"]["executable"] == sys.executable and result["b"]["executable"] == other
    assert result["b"]["injected_fraction"] > 1.5
    assert len(result["seconds_a"]) == len(result["seconds_b"]) == 12
    assert result["comparison"]["paired"] is True and result["comparison"]["ratio"] > 2


def test_ab_names_an_interpreter_that_cannot_start(tmp_path, capsys):
    assert ab.main(["--python-a", str(tmp_path / "missing-python"), "--rounds", "5"]) == 2
    assert "cannot start the interpreter" in capsys.readouterr().err


# --- saved runs --------------------------------------------------------------------------------------------


def saved(path: Path, when: str, rounds: list[float] | None) -> None:
    stats = {"median": float(np.median(rounds or [0.01])), **({"data": rounds} if rounds else {})}
    run = {
        "datetime": when,
        "commit_info": {"id": "abcdef0"},
        "benchmarks": [
            {"fullname": "benchmarks/test_x.py::test_x[cpu-1]", "stats": stats, "extra_info": {"backend": "cpu"}}
        ],
    }
    path.write_text(json.dumps(run))


def test_compare_finds_a_regression_between_two_saved_runs(tmp_path, capsys):
    saved(tmp_path / "0001_a.json", "2026-01-01", list(lognormal(1, 0.01, 0.02)))
    saved(tmp_path / "0002_b.json", "2026-01-02", list(lognormal(2, 0.012, 0.02)))
    assert compare.main(["--storage", str(tmp_path)]) == 1
    assert "| `x[cpu-1]` | 1.2" in capsys.readouterr().out


def test_compare_refuses_a_run_saved_without_its_rounds(tmp_path, capsys):
    saved(tmp_path / "0001_a.json", "2026-01-01", None)
    saved(tmp_path / "0002_b.json", "2026-01-02", list(lognormal(2, 0.012, 0.02)))
    with pytest.raises(SystemExit):
        compare.main(["--storage", str(tmp_path)])
    assert "--benchmark-save-data" in capsys.readouterr().err


# --- history steps --------------------------------------------------------------------------------------------


def test_history_step_detection_error_rates():
    """The step finder's operating characteristics, 300 seeded 12-run histories each: a flat series with 5%
    run-to-run noise shows a step at most 5% of the time; a 10% step after 6 runs with 2% noise is found at its
    run at least 90% of the time (the figures quoted in benchmarks/history.py)."""
    false_steps = sum(bool(history.find_steps(list(lognormal(s, 1, 0.05, 12)))) for s in range(300))
    found = sum(
        any(
            step.index == 6
            for step in history.find_steps([*lognormal(s, 1, 0.02, 6), *lognormal(s + 1000, 1.1, 0.02, 6)])
        )
        for s in range(300)
    )
    assert false_steps <= 15
    assert found >= 270


# --- the tracker's own measurement ----------------------------------------------------------------------------


def test_tracker_power_counts_verdicts_per_condition(tmp_path, capsys):
    """One comparison of each condition, tiny: the command runs end to end and records each condition's rate,
    its interval, each comparison and the machine."""
    record = tmp_path / "power.json"
    arguments = ["--workloads", "overhead", "--modes", "interleaved", "--slowdowns", "300", "--comparisons", "1"]
    assert tracker_power.main([*arguments, "--rounds", "6", "--warmup", "1", "--json", str(record)]) == 0
    result = json.loads(record.read_text())
    unchanged, slowed = result["conditions"]
    assert (unchanged["slowdown_pct"], slowed["slowdown_pct"], slowed["phase"]) == (0, 300, "backward")
    assert slowed["injected_pct_median"] > 150 and slowed["median_ratio"] > 2
    assert len(slowed["each"]) == slowed["comparisons"] == 1 and 0 <= slowed["rate_ci95"][0] <= slowed["rate"]
    assert {"date", "cores", "torch", "load_average_before", "load_average_after"} <= result["machine"].keys()
    assert "| overhead | interleaved | 300% slower in backward |" in capsys.readouterr().out
