"""pytest plugin: the conformance report, one verdict per spec and backend (see :mod:`conformance.verdicts`).

After the run the terminal shows the matrix (rows: spec IDs by area, columns: backends) and one summary
line per backend; ``--conformance-json`` and ``--conformance-md`` write the same content (the JSON schema
is ``docs/report-schema.json``). Known failures come from each backend's ``known_failures_file`` or
``--known-failures=BACKEND=PATH``; they are marked strict xfail at collection, so pytest's exit status
already ignores a known failure and fails on one that passes. A spec may share another's entry (a fuzz item,
``fuzz.exp``, its operator's ``opgrad.exp``: :attr:`conformance.catalogue.Spec.known_failures_of`), which is not
strict for it: the item passes where its programs do not meet that failure (the spec itself says when it is stale).

Under ``pytest -n`` the controller builds the report from the reports xdist forwards: every spec's report
carries its spec ID, kind and backend (and the capabilities its backend lacks) in ``user_properties``, and each
worker sends the specs it selected when it finishes, so that the report lists those never reported.

Each backend's summary counts its failures (fail and known-failure verdicts) by the kind of the spec
(:data:`conformance.catalogue.KINDS`): silent wrong results, missing refusals and surface deviations; a value
spec that the engine stopped with an exception (not a failed assertion) is a loud failure instead, as the
engine said so. Each failure's verdict names that exception (``raised``).

A report never claims more than the run did: at startup the report files are replaced by an "incomplete"
placeholder (so a run that dies leaves no earlier report looking current, and an unusable path is a usage
error before any spec runs); at the end the document says whether the run was complete and why not
(interrupted, stopped early, specs never reported), and lists every selected spec that never ran as
``not-run``. A command line pytest refuses after the harness has loaded marks the reports it names as "did not
start"; one run at a time writes a report path (:mod:`conformance.report_lock`).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch

from . import checks, known_failures, render, untrusted, verdicts
from .catalogue import KINDS, VALUE, spec_of
from .fuzz import findings
from .plugin import (
    BACKENDS,
    DESCRIPTIONS,
    USAGE_ERROR,
    engine_of,
    float64_lacked,
    missing_capabilities,
    refuse_collection,
)
from .report_lock import ReportBusy, ReportLocks

SCHEMA_VERSION = 4
#: workeroutput key: [node id, spec ID, backend] of every spec an xdist worker selected
SELECTED = "conformance_selected"
#: the report property of a spec whose known failures are listed under another spec's ID
KNOWN_FAILURES_OF = "known_failures_of"
SUITE_ROOT = Path(__file__).resolve().parent.parent
#: the suite's distribution name (pyproject.toml)
DISTRIBUTION = "autograd-conformance"
#: the entries of ``Backend.describe()`` that the schema requires to be strings
DESCRIBED_TEXT = ("backend", "engine", "engine_version", "device")
#: why the placeholder written at startup is incomplete
IN_PROGRESS = "the run has not finished: it is in progress, or it died before writing the report"
#: why the report of a run whose command line pytest refused is incomplete
NOT_STARTED = "the run did not start: its command line is a usage error (pytest printed why)"
#: report option -> its ``config.option`` name
REPORT_OPTIONS = {"--conformance-json": "conformance_json", "--conformance-md": "conformance_md"}
#: the run reached ``pytest_cmdline_main``: pytest accepted its command line
STARTED = pytest.StashKey[bool]()
#: the locks this run holds on its report paths (:mod:`conformance.report_lock`)
LOCKS = pytest.StashKey[ReportLocks]()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """The report options; and, for a run that pytest refuses before it starts (an unknown option, a bad value:
    no hook of the run is called then, but the config's cleanups are), a cleanup that marks the reports it
    names as not started, so that no earlier report looks current."""
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
    if (config := pluginmanager.get_plugin("pytestconfig")) is not None:
        config.stash[LOCKS] = locks = ReportLocks()
        config.add_cleanup(locks.release)
        config.add_cleanup(lambda: mark_refused_command_line(config))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Replace the report files before anything else can fail (a bad backend, a crash at startup)."""
    config.stash[STARTED] = True
    if not is_worker(config) and not config.option.collectonly:
        write_placeholders(config)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Load the known failures and the fuzz items' triaged findings (:mod:`conformance.fuzz.findings`) after the
    plugin has resolved the backends; a bad file is a usage error. A run that only lists the specs
    (``--collect-only``) runs none, so it has no verdicts to report."""
    known = known_failures.for_backends(config.stash[BACKENDS], config.getoption("known_failures"))
    config.stash[findings.STASH] = findings.for_backends(config.stash[BACKENDS], config.getoption("fuzz_findings"))
    if config.option.collectonly:
        return
    config.pluginmanager.register(ConformanceReport(config, known), "conformance-report")


def output_paths(config: pytest.Config) -> dict[str, Path]:
    """The report files asked for: option name -> path."""
    return {option: Path(value) for option, dest in REPORT_OPTIONS.items() if (value := config.getoption(dest))}


def placeholder(*incomplete_because: str, exit_status: int | None = None) -> dict[str, Any]:
    """A report of no verdicts, of a run that is not complete."""
    run = run_status(False, list(incomplete_because), exit_status)
    return {"schema_version": SCHEMA_VERSION, "run": run, "backends": {}, "specs": []}


def write_placeholders(config: pytest.Config) -> None:
    """Lock each report file for this run and replace it by an "incomplete" placeholder, creating missing
    directories (as ``--junitxml`` does); a path that cannot be written, or that another run is writing, is a
    usage error, before any spec runs."""
    paths = output_paths(config)
    if len({os.path.realpath(path) for path in paths.values()}) < len(paths):
        raise pytest.UsageError(f"--conformance-json and --conformance-md name one file: {paths['--conformance-md']}")
    for option, path in paths.items():
        if path.exists() and not path.is_file():
            raise pytest.UsageError(f"{option}={path}: not a regular file (a directory, FIFO or device)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            config.stash[LOCKS].acquire(path)
            write(option, path, placeholder(IN_PROGRESS))
        except ReportBusy as error:
            raise pytest.UsageError(f"{option}={path}: {error}; wait for it to end, or write elsewhere") from error
        except OSError as error:
            raise pytest.UsageError(f"{option}={path}: cannot write the report there: {error}") from error


def mark_refused_command_line(config: pytest.Config) -> None:
    """Replace the reports that a command line pytest refused names (when they exist and no other run is
    writing them) by a "did not start" placeholder. A cleanup: it never raises."""
    if STARTED in config.stash or is_worker(config):
        return
    for option, path in command_line_report_paths(config).items():
        try:
            if path.is_file():
                config.stash[LOCKS].acquire(path)
                write(option, path, placeholder(NOT_STARTED, exit_status=int(pytest.ExitCode.USAGE_ERROR)))
        except (ReportBusy, OSError):
            continue


def command_line_report_paths(config: pytest.Config) -> dict[str, Path]:
    """The report paths of a command line pytest refused, read as pytest reads it (the ini file's addopts, then
    ``PYTEST_ADDOPTS``, then the arguments), but for the report options only: the rest may be what it refused."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    for option in REPORT_OPTIONS:
        parser.add_argument(option)
    try:
        ini_addopts = list(config.getini("addopts"))
    except Exception:  # the ini file itself may be what pytest refused
        ini_addopts = []
    args = [*ini_addopts, *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *config.invocation_params.args]
    try:
        namespace, _ = parser.parse_known_args(args)
    except argparse.ArgumentError:  # an option without its value
        return {}
    return {option: Path(value) for option, dest in REPORT_OPTIONS.items() if (value := getattr(namespace, dest))}


def write(option: str, path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` as the option asks, JSON or Markdown, in UTF-8: into a new file beside ``path``, then
    renamed over it, so that ``path`` holds a whole report or the one before, never a truncated one (a full disk,
    a kill while writing)."""
    text = (
        json.dumps(document, indent=2, allow_nan=False) + "\n"
        if option == "--conformance-json"
        else render.markdown(document)
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("x", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def run_status(complete: bool, incomplete_because: list[str], exit_status: int | None = None) -> dict[str, Any]:
    return {"complete": complete, "incomplete_because": incomplete_because, "exit_status": exit_status}


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def git(*args: str) -> str | None:
    """``git args`` run in the suite's root: its output, or None where git is missing or fails."""
    try:
        done = subprocess.run(["git", *args], cwd=SUITE_ROOT, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def own_commit() -> str | None:
    """The commit of the git work tree whose top is the suite's root, ``-dirty`` when tracked files differ from
    it; None where the suite is no work tree of its own: an unpacked copy inside another repository (whose
    commit would name that repository's files, not the suite's), an installed wheel, a tree without git."""
    top = git("rev-parse", "--show-toplevel")
    if not top or Path(top).resolve() != SUITE_ROOT:
        return None
    commit = git("rev-parse", "--verify", "HEAD")
    if not commit or not git("ls-tree", "--name-only", commit, "--", "conformance/report.py"):
        return None  # no commit yet, or one that does not hold the suite
    status = git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}-dirty" if status is None or status else commit  # dirty where git cannot tell


def own_version() -> str | None:
    """The version of this copy of the suite: the installed distribution's where it is the one running (a
    wheel), else the ``pyproject.toml`` version beside the package (a source tree), else None."""
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
        if Path(distribution.locate_file("conformance/report.py")).resolve() == Path(__file__).resolve():
            return distribution.version
    except (importlib.metadata.PackageNotFoundError, OSError):
        pass
    try:
        text = (SUITE_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    if f'name = "{DISTRIBUTION}"' not in text:
        return None
    found = re.search(r'^version = "([^"]+)"$', text, flags=re.MULTILINE)
    return found.group(1) if found else None


def suite_commit() -> str:
    """The suite's own commit (see :func:`own_commit`), else its version, else "unknown": never the commit of a
    repository that merely contains the suite."""
    return own_commit() or own_version() or "unknown"


def environment() -> dict[str, str]:
    return {
        "torch_version": torch.__version__,
        "platform": platform.platform(),
        "python_version": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "suite_commit": suite_commit(),
    }


def failure_kind(kind: str, result: verdicts.Verdict) -> str:
    """How a failure is counted: by its spec's kind, except that a value spec the engine stopped with an
    exception is a loud failure, not a silent wrong result (it said so, in its own words). A refusal or
    surface spec keeps its kind: its exception is the refusal or the wording under test."""
    return verdicts.LOUD if kind == VALUE and result.raised else kind


def exception_tags(error: BaseException) -> list[tuple[str, str]]:
    """The report properties of what escaped a spec's call: the exception, when it was no failed assertion, and
    the named check it failed in (:mod:`conformance.checks`); those that apply."""
    tags = [(verdicts.RAISED_PROPERTY, verdicts.raised(error)), (verdicts.FAILED_IN_PROPERTY, checks.failed_in(error))]
    return [(key, value) for key, value in tags if value]


def visible(report: pytest.TestReport) -> None:
    """Replace a failure's text and captured output, when an engine put control characters in them (ANSI
    escapes that would repaint the terminal, NUL), by the same text with those characters visible."""
    text = str(report.longrepr)
    if (shown := untrusted.lines(text)) != text:
        report.longrepr = shown
    report.sections = [(title, untrusted.lines(content)) for title, content in report.sections]


class ConformanceReport:
    """Collects one verdict per (spec ID, backend) from the run's reports and renders them at the end."""

    def __init__(self, config: pytest.Config, known: dict[str, known_failures.KnownFailures]) -> None:
        self.config = config
        self.known = known
        self.results: dict[tuple[str, str], verdicts.Verdict] = {}
        #: (spec ID, backend) -> node id -> its verdict: a spec run on several draws (``--draws``) has several nodes,
        #: the worst its verdict
        self.by_node: dict[tuple[str, str], dict[str, verdicts.Verdict]] = {}
        #: spec ID -> its kind (value, refusal, surface)
        self.kinds: dict[str, str] = {}
        #: node id -> (spec ID, backend), of every spec selected or reported: to name crashed and unrun specs
        self.keys: dict[str, tuple[str, str]] = {}
        #: node ids of the specs selected in this run (under xdist: by the workers that finished)
        self.selected: set[str] = set()
        #: node id -> xdist's message, for each spec a worker crashed in
        self.crashed: dict[str, str] = {}
        self.report: dict[str, Any] | None = None
        self.usage_error: str | None = None
        #: the message of the KeyboardInterrupt that stopped the run (``terminated by SIGTERM``; Ctrl-C has none)
        self.interruption = ""
        self.session: pytest.Session | None = None

    def entry_of(self, spec_id: str, backend: str) -> known_failures.Entry | None:
        """The known-failures entry of the spec on the backend that applies to this run, if any."""
        known = self.known.get(backend)
        return known.entry(spec_id) if known else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Check the known failures against every collected spec (before -k/-m deselect any), mark them
        strict xfail, and tag each spec's reports with its spec ID and backend."""
        try:
            listable = {entry.known_failures_id for item in items if (entry := spec_of(item))}
            known_failures.check_ids_exist(self.known, listable)
        except pytest.UsageError as error:
            refuse_collection(self.config, items, error)
            return
        for item in items:
            entry, backend = spec_of(item), engine_of(item)
            if entry is None or backend is None:
                continue
            item.user_properties += [("spec", entry.id), ("kind", entry.kind), ("backend", backend.name)]
            if missing := missing_capabilities(item) or float64_lacked(item):
                item.user_properties.append(("missing", ", ".join(missing)))
            if entry.known_failures_of:
                item.user_properties.append((KNOWN_FAILURES_OF, entry.known_failures_of))
            if (known := self.entry_of(entry.known_failures_id, backend.name)) is not None:
                # an entry restricted to one check covers only a failure raised in it (see conformance.checks)
                raises = checks.raised_in(known.fails_in) if known.fails_in else None
                # a spec's own entry is strict (one that passes is stale); a shared one is an allowance: a fuzz
                # item's programs are drawn, and need not meet its operator's spec's failure to say it is stale
                strict = not entry.known_failures_of
                item.add_marker(
                    pytest.mark.xfail(reason=f"known failure: {known.reason}", strict=strict, raises=raises)
                )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Remember the specs selected (after every deselection); an xdist worker sends them to the controller."""
        for item in session.items:
            if (entry := spec_of(item)) and (backend := engine_of(item)):
                self.keys[item.nodeid] = (entry.id, backend.name)
                self.kinds[entry.id] = entry.kind
                self.selected.add(item.nodeid)
        if is_worker(self.config):
            self.config.workeroutput[SELECTED] = [
                [nodeid, *self.keys[nodeid], self.kinds[self.keys[nodeid][0]]] for nodeid in sorted(self.selected)
            ]

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any) -> None:
        """On the xdist controller: take a worker's usage error (see pytest_collection_modifyitems) and the
        specs it selected (a crashed worker sends none; the others selected the same)."""
        output = getattr(node, "workeroutput", {})
        self.usage_error = output.get(USAGE_ERROR, self.usage_error)
        for nodeid, spec_id, backend, kind in output.get(SELECTED, ()):
            self.keys[nodeid] = (spec_id, backend)
            self.kinds[spec_id] = kind
            self.selected.add(nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport) -> None:
        """On the xdist controller: the spec a worker died in (its verdict is settled in :meth:`document`,
        once the workers that finished have named every selected spec)."""
        self.crashed[crashitem] = str(report.longrepr)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        """Mark the report of a spec that pytest-timeout stopped, that an exception other than a failed
        assertion escaped, or in which the engine called ``pytest.skip`` or ``pytest.xfail`` (a new list: the
        item's is shared); and make the control characters of a failure's text visible."""
        report = yield
        excinfo, backend = call.excinfo, engine_of(item)
        if excinfo is not None and verdicts.is_timeout(excinfo.value):
            report.user_properties = [*report.user_properties, (verdicts.TIMED_OUT_PROPERTY, str(excinfo.value))]
        elif call.when == "call" and excinfo is not None and (tags := exception_tags(excinfo.value)):
            report.user_properties = [*report.user_properties, *tags]
        elif excinfo is not None and backend and (error := verdicts.engine_outcome(item, excinfo, backend.name)):
            report.user_properties = [*report.user_properties, (verdicts.ENGINE_OUTCOME_PROPERTY, error)]
        if report.failed:
            visible(report)
        return report

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def abandon(self, nodeid: str, why: str) -> None:
        """Write the reports of a run that cannot go on (:mod:`conformance.watchdog`: a spec that nothing stops):
        the spec running timed out, every verdict so far kept, the rest not run, the run interrupted."""
        if (key := self.keys.get(nodeid)) is not None:
            self.results[key] = verdicts.Verdict(verdicts.TIMED_OUT, why)
        self.interruption = why
        self.session.exitstatus = pytest.ExitCode.INTERRUPTED
        document = self.document(self.session)
        for option, path in output_paths(self.config).items():
            write(option, path, document)
        self.config.stash[LOCKS].release()  # the process ends without its cleanups

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.interruption = untrusted.text(excinfo.value)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        tags = dict(report.user_properties)
        if "spec" not in tags or "backend" not in tags or report.nodeid in self.crashed:
            return
        key = self.keys[report.nodeid] = (tags["spec"], tags["backend"])
        self.kinds[tags["spec"]] = tags["kind"]
        nodes = self.by_node.setdefault(key, {})
        known = self.entry_of(tags.get(KNOWN_FAILURES_OF, tags["spec"]), tags["backend"])
        folded = verdicts.fold(nodes.get(report.nodeid), report, known)
        if folded is not None:
            nodes[report.nodeid] = folded
            self.results[key] = verdicts.worst(nodes.values())

    def settle(self) -> dict[tuple[str, str], verdicts.Verdict]:
        """The verdicts with crashed specs and those selected but never reported."""
        results = dict(self.results)
        for nodeid, message in self.crashed.items():
            if nodeid in self.keys:
                results[self.keys[nodeid]] = verdicts.Verdict(verdicts.CRASHED, message)
        for nodeid in self.selected:
            results.setdefault(self.keys[nodeid], verdicts.Verdict(verdicts.NOT_RUN, "selected but never reported"))
        return results

    def incomplete_because(
        self, session: pytest.Session, results: dict[tuple[str, str], verdicts.Verdict]
    ) -> list[str]:
        """Why the run did not give every selected spec a verdict (empty when it did)."""
        if self.usage_error:
            return [f"usage error: {self.usage_error}"]
        reasons = [] if self.selected or results else ["no spec was selected"]
        if session.shouldfail:
            reasons.append(f"stopped early (-x/--maxfail): {session.shouldfail}")
        if session.exitstatus == pytest.ExitCode.INTERRUPTED:
            why = self.interruption or (session.shouldstop if isinstance(session.shouldstop, str) else "")
            reasons.append(f"interrupted{f': {why}' if why else ''}")
        if unrun := sum(result.verdict == verdicts.NOT_RUN for result in results.values()):
            reasons.append(f"{unrun} selected specs never reported")
        if unnamed := sorted(set(self.crashed) - set(self.keys)):
            reasons.append(f"a worker crashed in tests not named as specs: {', '.join(unnamed)}")
        return reasons

    def description(self, name: str) -> dict[str, Any]:
        """The backend's ``describe()`` as JSON data (see :func:`conformance.untrusted.data`); the one checked
        at startup, with the error, if it raises now."""
        backend = self.config.stash[BACKENDS][name]
        try:
            described = dict(backend.describe())
        except Exception as error:  # an engine's failure at the end must not cost the report
            described = {**self.config.stash[DESCRIPTIONS][name], "describe_error": untrusted.exception(error)}
        described = {untrusted.text(key): untrusted.data(value) for key, value in described.items()}
        return described | {key: untrusted.text(described.get(key)) for key in DESCRIBED_TEXT}

    def document(self, session: pytest.Session) -> dict[str, Any]:
        """The report as plain data: the JSON output, and what the terminal and Markdown renderings show. Every
        string an engine or a file supplied is :func:`conformance.untrusted.text`: valid, capped."""
        results = self.settle()
        reasons = [untrusted.text(reason) for reason in self.incomplete_because(session, results)]
        run = run_status(not reasons, reasons, int(session.exitstatus))
        names = [name for name in self.config.stash[BACKENDS] if any(b == name for _, b in results)]
        spec_ids = sorted({spec_id for spec_id, _ in results})
        shared = environment()
        backends = {}
        for name in names:
            known = self.known.get(name)
            counts = dict.fromkeys(verdicts.ALL, 0)
            failures_by_kind = dict.fromkeys([*KINDS, verdicts.LOUD], 0)
            for (spec_id, backend), result in results.items():
                if backend == name:
                    counts[result.verdict] += 1
                    if result.verdict in verdicts.FAILED:
                        failures_by_kind[failure_kind(self.kinds[spec_id], result)] += 1
            backends[untrusted.text(name)] = {
                **self.description(name),
                **shared,
                "known_failures_file": known_failures.shown_path(known.path) if known else None,
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
                    untrusted.text(name): {
                        "verdict": result.verdict,
                        "reason": untrusted.text(result.reason),
                        "missing": [untrusted.text(missing) for missing in result.missing],
                        "raised": untrusted.text(result.raised),
                        "failed_in": result.failed_in,
                    }
                    for name in names
                    if (result := results.get((spec_id, name))) is not None
                },
            }
            for spec_id in spec_ids
        ]
        return {"schema_version": SCHEMA_VERSION, "run": run, "backends": backends, "specs": specs}

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the report files (always: they replace the placeholder), and fail a run that is green although
        specs gave no verdict (errors, timeouts, crashes, specs never run)."""
        if self.usage_error:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        if is_worker(self.config):
            return  # an xdist worker: its reports go to the controller, which reports
        no_verdict = any(result.verdict in verdicts.NO_VERDICT for result in self.settle().values())
        if no_verdict and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        document = self.document(session)
        for option, path in output_paths(self.config).items():
            write(option, path, document)
        if document["specs"] or self.crashed:
            self.report = document

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.usage_error:
            terminalreporter.write_line(f"ERROR: {self.usage_error}", red=True)
        if self.report is None:
            return
        terminalreporter.write_sep("=", "conformance")
        for line in render.text(self.report):
            terminalreporter.write_line(line)
