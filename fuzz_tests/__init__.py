"""The differential gradient fuzzer as a pytest entry: ``pytest fuzz_tests --backend=NAME`` (docs/fuzzing.md)."""
