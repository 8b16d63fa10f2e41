"""The conformance specs, a package so that an installed suite runs them: ``pytest --pyargs spec_tests``."""
