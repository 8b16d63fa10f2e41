"""Loads the conformance plugin for every run started in this checkout (spec_tests, benchmarks, tests)."""

pytest_plugins = ["conformance.plugin", "conformance.report"]
