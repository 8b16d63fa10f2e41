"""pytest plugin: the conformance report, one verdict per spec and backend (see :mod:`conformance.verdicts`).

After the run the terminal shows the matrix (rows: spec IDs by area, columns: backends) and one summary
line per backend; ``--conformance-json`` and ``--conformance-md`` write the same content (the JSON schema
is ``docs/report-schema.json``). Known failures come from each backend's ``known_failures_file`` or
``--known-failures=BACKEND=PATH``; they are marked strict xfail at collection, so pytest's exit status
already ignores a known failure and fails on one that passes.

Under ``pytest -n`` the controller builds the report from the reports xdist forwards: every spec's report
carries its spec ID, kind and backend (and the capabilities its backend lacks) in ``user_properties``.

Each backend's summary counts its failures (fail and known-failure verdicts) by the kind of the spec
(:data:`conformance.catalogue.KINDS`): silent wrong results, missing refusals and surface deviations.
"""

from __future__ import annotations

import datetime
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch

from . import known_failures, render, verdicts
from .catalogue import KINDS, spec_of
from .plugin import BACKENDS, engine_of, missing_capabilities

SCHEMA_VERSION = 2
USAGE_ERROR = "conformance_usage_error"
SUITE_ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance")
    group.addoption("--conformance-json", metavar="PATH", help="write the conformance report as JSON")
    group.addoption("--conformance-md", metavar="PATH", help="write the conformance report as Markdown")
    group.addoption(
        "--known-failures",
        action="append",
        default=[],
        metavar="BACKEND=PATH",
        help="JSON file {spec ID: observed behaviour} of the specs BACKEND is known to fail (repeatable)",
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load the known failures (after the plugin has resolved the backends); a bad file is a usage error."""
    known = known_failures.for_backends(config.stash[BACKENDS], config.getoption("known_failures"))
    config.pluginmanager.register(ConformanceReport(config, known), "conformance-report")


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def suite_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=SUITE_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def environment() -> dict[str, str]:
    return {
        "torch_version": torch.__version__,
        "platform": platform.platform(),
        "python_version": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "suite_commit": suite_commit(),
    }


class ConformanceReport:
    """Collects one verdict per (spec ID, backend) from the run's reports and renders them at the end."""

    def __init__(self, config: pytest.Config, known: dict[str, known_failures.KnownFailures]) -> None:
        self.config = config
        self.known = known
        self.results: dict[tuple[str, str], verdicts.Verdict] = {}
        #: spec ID -> its kind (value, refusal, surface)
        self.kinds: dict[str, str] = {}
        self.report: dict[str, Any] | None = None
        self.usage_error: str | None = None

    def reason_of(self, spec_id: str, backend: str) -> str | None:
        entry = self.known.get(backend)
        return entry.reasons.get(spec_id) if entry else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Check the known failures against every collected spec (before -k/-m deselect any), mark them
        strict xfail, and tag each spec's reports with its spec ID and backend."""
        try:
            known_failures.check_ids_exist(self.known, {entry.id for item in items if (entry := spec_of(item))})
        except pytest.UsageError as error:
            if not is_worker(self.config):
                raise
            # An xdist worker cannot stop the run with a usage error: it runs nothing and tells the controller.
            self.config.workeroutput[USAGE_ERROR] = str(error)
            items.clear()
            return
        for item in items:
            entry, backend = spec_of(item), engine_of(item)
            if entry is None or backend is None:
                continue
            item.user_properties += [("spec", entry.id), ("kind", entry.kind), ("backend", backend.name)]
            if missing := missing_capabilities(item):
                item.user_properties.append(("missing", ", ".join(missing)))
            if (reason := self.reason_of(entry.id, backend.name)) is not None:
                item.add_marker(pytest.mark.xfail(reason=f"known failure: {reason}", strict=True))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any) -> None:
        """On the xdist controller: take a worker's usage error (see pytest_collection_modifyitems)."""
        self.usage_error = getattr(node, "workeroutput", {}).get(USAGE_ERROR, self.usage_error)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        tags = dict(report.user_properties)
        if "spec" not in tags or "backend" not in tags:
            return
        key = (tags["spec"], tags["backend"])
        self.kinds[tags["spec"]] = tags["kind"]
        folded = verdicts.fold(self.results.get(key), report, self.reason_of(*key))
        if folded is not None:
            self.results[key] = folded

    def document(self) -> dict[str, Any]:
        """The report as plain data: the JSON output, and what the terminal and Markdown renderings show."""
        names = [name for name in self.config.stash[BACKENDS] if any(b == name for _, b in self.results)]
        spec_ids = sorted({spec_id for spec_id, _ in self.results})
        shared = environment()
        backends = {}
        for name in names:
            known = self.known.get(name)
            counts = dict.fromkeys(verdicts.ALL, 0)
            failures_by_kind = dict.fromkeys(KINDS, 0)
            for (spec_id, backend), result in self.results.items():
                if backend == name:
                    counts[result.verdict] += 1
                    if result.verdict in verdicts.FAILED:
                        failures_by_kind[self.kinds[spec_id]] += 1
            backends[name] = {
                **self.config.stash[BACKENDS][name].describe(),
                **shared,
                "known_failures_file": str(known.path) if known else None,
                "summary": {
                    **counts,
                    "run": sum(counts[verdict] for verdict in verdicts.RAN),
                    "total": len(spec_ids),
                    "applicable": len(spec_ids) - counts[verdicts.NOT_APPLICABLE_VERDICT],
                },
                "failures_by_kind": failures_by_kind,
            }
        specs = [
            {
                "id": spec_id,
                "area": spec_id.split(".", 1)[0],
                "kind": self.kinds[spec_id],
                "verdicts": {
                    name: {"verdict": result.verdict, "reason": result.reason, "missing": list(result.missing)}
                    for name in names
                    if (result := self.results.get((spec_id, name))) is not None
                },
            }
            for spec_id in spec_ids
        ]
        return {"schema_version": SCHEMA_VERSION, "backends": backends, "specs": specs}

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the report files, and fail a run that is green although specs gave no verdict (errors)."""
        if self.usage_error:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        if is_worker(self.config) or not self.results:
            return  # an xdist worker: its reports go to the controller, which reports
        self.report = self.document()
        if path := self.config.getoption("conformance_json"):
            Path(path).write_text(json.dumps(self.report, indent=2) + "\n")
        if path := self.config.getoption("conformance_md"):
            Path(path).write_text(render.markdown(self.report))
        errored = any(backend["summary"][verdicts.ERROR] for backend in self.report["backends"].values())
        if errored and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.usage_error:
            terminalreporter.write_line(f"ERROR: {self.usage_error}", red=True)
        if self.report is None:
            return
        terminalreporter.write_sep("=", "conformance")
        for line in render.text(self.report):
            terminalreporter.write_line(line)
