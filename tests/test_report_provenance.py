"""What a report says about where it came from: the suite's own commit or version, never that of a repository
that merely holds a copy of the suite, and no absolute path of the machine."""

import json
import shutil
import subprocess

import pytest

from conformance import known_failures, report
from tests.conftest import ROOT

SPEC = """
from conformance.catalogue import spec

@spec("alpha.holds", sources=["000"], kind="value")
def test_holds(engine):
    '''Holds.'''
    assert engine.to_numpy(engine.tensor([1.0])).tolist() == [1.0]
"""

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def git(cwd, *args):
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def repository(root, *paths):
    """``root`` made a git repository with one commit of ``paths`` (every file when none is named)."""
    git(root, "init", "-q")
    git(root, "add", *(paths or (".",)))
    git(root, "commit", "-q", "-m", "the commit")
    return root


def head(cwd):
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def suite_copy(root):
    """A copy of what suite_commit reads: the package marker it checks the commit for, and pyproject.toml."""
    (root / "conformance").mkdir(parents=True)
    (root / "conformance" / "report.py").write_text("# the suite\n")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@needs_git
def test_a_suite_inside_another_repository_names_its_version_not_that_repositorys_commit(tmp_path, monkeypatch):
    """As on the H200: the suite unpacked from ``git archive`` into a directory of another checkout."""
    outer = tmp_path / "outer"
    suite = suite_copy(outer / "vendor" / "suite")
    repository(outer)
    monkeypatch.setattr(report, "SUITE_ROOT", suite.resolve())
    assert report.own_commit() is None
    assert report.suite_commit() == "0.1.0" != head(outer)


@needs_git
def test_a_suite_at_the_top_of_its_own_work_tree_names_its_commit_and_whether_it_is_dirty(tmp_path, monkeypatch):
    suite = repository(suite_copy(tmp_path / "suite"))
    monkeypatch.setattr(report, "SUITE_ROOT", suite.resolve())
    assert report.suite_commit() == head(suite)
    (suite / "conformance" / "report.py").write_text("# changed\n")
    assert report.suite_commit() == f"{head(suite)}-dirty"


@needs_git
def test_a_work_tree_whose_commit_does_not_hold_the_suite_is_not_the_suites(tmp_path, monkeypatch):
    suite = repository(suite_copy(tmp_path / "suite"), "pyproject.toml")
    monkeypatch.setattr(report, "SUITE_ROOT", suite.resolve())
    assert report.suite_commit() == "0.1.0"


def test_without_git_or_version_the_suite_is_unknown(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "SUITE_ROOT", tmp_path.resolve())
    monkeypatch.setattr(report, "DISTRIBUTION", "no-such-distribution-xyz")  # not installed, no pyproject.toml
    monkeypatch.setenv("PATH", "")  # no git
    assert report.suite_commit() == "unknown"


def test_known_failures_files_are_named_without_the_machines_directories(tmp_path, monkeypatch):
    shipped = ROOT / "backends" / "known_failures" / "jax.json"
    assert known_failures.shown_path(shipped) == "backends/known_failures/jax.json"
    assert known_failures.shown_path(tmp_path / "mine" / "cpu.json") == "cpu.json"
    monkeypatch.chdir(tmp_path)
    assert known_failures.shown_path(known_failures.Path("mine/cpu.json")) == "mine/cpu.json"


def test_the_report_carries_no_absolute_path(harness):
    """A run with the shipped torch file and a user's file given by absolute and by relative path."""
    harness.makepyfile(SPEC)
    (harness.path / "sub").mkdir()
    (harness.path / "sub" / "mine.json").write_text(json.dumps({"alpha.holds": "x"}))
    for option, shown in [
        ([], "backends/known_failures/torch.json"),
        ([f"--known-failures=cpu={harness.path / 'sub' / 'mine.json'}"], "mine.json"),
        (["--known-failures=cpu=sub/mine.json"], "sub/mine.json"),
    ]:
        harness.runpytest(*option, "--conformance-json=report.json", "--conformance-md=report.md")
        text = (harness.path / "report.json").read_text()
        assert json.loads(text)["backends"]["cpu"]["known_failures_file"] == shown
        for document in (text, (harness.path / "report.md").read_text()):
            assert str(harness.path) not in document and str(ROOT) not in document
