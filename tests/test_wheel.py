"""A non-editable install ships the whole suite: the harness, the backends with their mutants and known-failures
files, and the specs, which run from outside the checkout with ``pytest -p conformance.plugin --pyargs
spec_tests``.

The wheel is built from a copy of the checkout and installed without its dependencies into a fresh virtual
environment that reuses this one's packages (torch is never installed again)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig

from tests.conftest import ROOT

UNSHIPPED = shutil.ignore_patterns(
    ".git", ".venv*", ".tox", "fuzz-out", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)


def run(*args, cwd):
    """Run a command with no PYTHONPATH (nothing of the checkout importable); fail with its output."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_installed_wheel_runs_the_specs_from_outside_the_checkout(tmp_path):
    source = shutil.copytree(ROOT, tmp_path / "source", ignore=UNSHIPPED)
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        tmp_path / "wheel",
        ".",
        cwd=source,
    )
    (wheel,) = (tmp_path / "wheel").glob("autograd_conformance-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).stdout.strip()
    (tmp_path / site / "reuse.pth").write_text(sysconfig.get_path("purelib") + "\n")  # torch, pytest, engines
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", wheel, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    imported = run(
        python, "-c", "import backends, spec_tests; print(backends.__file__, spec_tests.__file__)", cwd=elsewhere
    )
    assert all(path.startswith(str(venv)) for path in imported.stdout.split())

    specs = "--spec=grad.external-gradient,detach.shares-storage"
    backends = "--backend=cpu,mutant:copying-detach"  # torch's known-failures file is loaded at startup
    done = run(python, "-m", "pytest", "-p", "conformance.plugin", "--pyargs", "spec_tests", specs, backends,
               "--conformance-json=report.json", cwd=elsewhere)  # fmt: skip
    report = json.loads((elsewhere / "report.json").read_text())
    assert {
        (spec["id"], name): cell["verdict"] for spec in report["specs"] for name, cell in spec["verdicts"].items()
    } == {
        ("detach.shares-storage", "cpu"): "pass",
        ("detach.shares-storage", "mutant:copying-detach"): "fail",
        ("grad.external-gradient", "cpu"): "pass",
        ("grad.external-gradient", "mutant:copying-detach"): "pass",
    }, done.stdout
    # the shipped file, named relative to the installed suite; the suite named by the installed version
    assert report["backends"]["cpu"]["known_failures_file"] == "backends/known_failures/torch.json"
    assert report["backends"]["cpu"]["suite_commit"] == wheel.name.split("-")[1]
