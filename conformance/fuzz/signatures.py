"""A deviation's signature: the operator chain, the oracle and what disagreed
(``erf>prod-dim|reverse-vs-torch|gradient``), and when one explains another. The deviation records deduplicate by
it (:mod:`.records`) and the triaged findings name the deviations they cover by it (:mod:`.findings`); it needs
neither hypothesis nor an engine."""

from __future__ import annotations

from dataclasses import dataclass

#: the oracles (:mod:`.oracles`): reverse mode against the float64 oracle, forward mode against reverse mode, the
#: gradient against central differences, second derivatives against the oracle's
REVERSE, FORWARD, DIFFERENCES, SECOND = "reverse-vs-torch", "forward-vs-reverse", "finite-differences", "second-order"
#: the engine raised where the oracle computed
RUNS = "runs"
ORACLES = (REVERSE, FORWARD, DIFFERENCES, SECOND, RUNS)
#: the kind of a deviation whose process died in the oracle it names (:mod:`.crashes`)
CRASHED = "crashed"
#: the chain of a finding's signature that stands for any chain (``*|reverse-vs-torch|forward-shape``): the findings
#: file narrows it by the figures it was observed with (:mod:`.findings`)
ANY = "*"


@dataclass(frozen=True)
class Signature:
    operators: tuple[str, ...]
    oracle: str
    kind: str

    def __str__(self) -> str:
        return f"{'>'.join(self.operators)}|{self.oracle}|{self.kind}"

    @classmethod
    def parse(cls, text: str) -> Signature:
        """``a>b|oracle|kind``; ValueError saying what is wrong."""
        parts = text.split("|")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{text!r} is not OPERATOR>...|ORACLE|KIND")
        chain, oracle, kind = parts
        if oracle not in ORACLES:
            raise ValueError(f"{text!r}: oracle {oracle!r} is none of {', '.join(ORACLES)}")
        operators = tuple(chain.split(">"))
        if not all(operators):
            raise ValueError(f"{text!r}: an empty operator in the chain")
        return cls(operators, oracle, kind)

    def explains(self, other: Signature) -> bool:
        """Whether ``other`` is this disagreement again in a longer program: the same oracle disagreeing the same
        way on a chain that has this one's operators in order (``prod-dim`` explains ``erf>prod-dim``; :data:`ANY`
        explains every chain)."""
        if (self.oracle, self.kind) != (other.oracle, other.kind):
            return False
        if self.operators == (ANY,):
            return True
        rest = iter(other.operators)
        return all(name in rest for name in self.operators)
