"""Differential gradient fuzzing: small programs of catalogue operators, run on an engine and held against oracles.

A program (:mod:`.programs`) chains one to three operators of the operator catalogue
(:mod:`conformance.operator_catalogue`), chosen by probing them on the float64 oracle (:mod:`.operators`), on
one input of a small shape, possibly seen through a non-contiguous view; a binary step combines the running value
with an operand of its own, whose shape broadcasts with it either way. Hypothesis draws the program and its input
and shrinks a failing one (:mod:`.runner`); the checks (:mod:`.oracles`) are those of
:mod:`conformance.gradcheck`, each made where the engine declares the capability; a deviation is written as JSON
with a reproduction script (:mod:`.records`). ``python -m conformance.fuzz --backend=NAME`` runs it, and
``pytest fuzz_tests --backend=NAME`` runs it as specs, one per operator (:mod:`.items`). See ``docs/fuzzing.md``.
"""
