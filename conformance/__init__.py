"""The pytest side of the conformance suite: options, backend parametrization, seeding, the state guard and
the spec catalogue. Loaded by the root ``conftest.py`` (``pytest_plugins``) or with ``-p conformance.plugin``."""
