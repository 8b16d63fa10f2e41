"""Is B slower than A? A verdict over per-round samples, with the uncertainty that noise leaves.

The estimate is a ratio B/A (above 1: B is slower) with a bootstrap confidence interval
(:func:`scipy.stats.bootstrap`, percentile method, seeded so that a verdict is reproducible):

- for samples taken in alternation (A, B, A, B, ...: :mod:`benchmarks.ab`), the median of the per-pair ratios
  ``B_i / A_i``. A noisy machine drifts between speeds over many rounds, and both rounds of a pair share the
  speed of their moment, so the pair's ratio cancels it; the few pairs that straddle a change of speed are
  outliers, which the median ignores;
- for samples taken apart (two saved runs), the ratio of medians ``median(B) / median(A)``.

The verdict is stated at an effect size (``effect``, default 5%: the smallest change the user cares about):

- ``regression``: B is slower, the whole interval above 1 and the estimate at least ``1 + effect``;
- ``improvement``: the same, faster (interval below 1, estimate at most ``1 / (1 + effect)``);
- ``no change``: the interval lies within ``[1 / (1 + effect), 1 + effect]``, so a change of ``effect`` or
  more is ruled out;
- ``inconclusive``: none of these; the samples are too noisy, or too few, to tell a change of ``effect``
  from none, and the verdict says so instead of guessing.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence

import numpy as np

REGRESSION, IMPROVEMENT, NO_CHANGE, INCONCLUSIVE = "regression", "improvement", "no change", "inconclusive"
VERDICTS = (REGRESSION, IMPROVEMENT, NO_CHANGE, INCONCLUSIVE)
DEFAULT_EFFECT = 0.05
DEFAULT_CONFIDENCE = 0.95
RESAMPLES = 2000
MIN_SAMPLES = 5
#: the chance of a verdict that the advice on rounds aims at
DEFAULT_POWER = 0.8
#: the standard error of a median over that of a mean, for normal samples: sqrt(pi / 2)
MEDIAN_EFFICIENCY = 1.2533


@dataclasses.dataclass(frozen=True)
class Comparison:
    """B against A: ``ratio`` (see the module docstring) within ``[low, high]`` at ``confidence``, and the verdict at
    ``effect``. ``noise_a``/``noise_b``: each side's spread over rounds (:func:`noise`)."""

    ratio: float
    low: float
    high: float
    verdict: str
    effect: float
    confidence: float
    paired: bool
    rounds_a: int
    rounds_b: int
    noise_a: float
    noise_b: float
    #: each side's median round, in the samples' unit
    median_a: float
    median_b: float
    #: the standard deviation of one log ratio: of the per-pair ratios' logs (paired), or of each side's logs
    #: combined (apart); what the rounds needed for a verdict follow from (outliers, rounds that straddled a
    #: change of speed, make it larger: the advice errs on the side of more rounds)
    log_spread: float

    def sides(self) -> str:
        """Each side's median and spread: what the ratio was made of."""
        return (
            f"A median {self.median_a:.4g} (spread {self.noise_a:.0%}), "
            f"B median {self.median_b:.4g} (spread {self.noise_b:.0%})"
        )

    def rounds_to_resolve(self, power: float = DEFAULT_POWER) -> int:
        """About how many rounds per side rule out a change of ``effect``, when there is none, with probability
        ``power`` at the observed spread: the median's standard error is 1.2533 σ/√n, and the interval (its half
        width, plus the estimate's own distance from 1, which falls either side) must fit within the effect size."""
        normal = statistics.NormalDist()
        z = normal.inv_cdf((1 + self.confidence) / 2) + normal.inv_cdf((1 + power) / 2)
        return int(np.ceil((z * MEDIAN_EFFICIENCY * self.log_spread / np.log(1 + self.effect)) ** 2))

    def describe(self) -> str:
        change = f"B/A {self.ratio:.3f} ({self.confidence:.0%} CI {self.low:.3f}-{self.high:.3f}); {self.sides()}"
        if self.verdict != INCONCLUSIVE:
            return f"{self.verdict} at {self.effect:.0%}: {change}"
        more = (
            f"at this spread, about {self.rounds_to_resolve()} rounds per side would rule out a change of "
            f"{self.effect:.0%} where there is none"
        )
        how = "the rounds already alternated" if self.paired else "alternate A and B (python -m benchmarks.ab)"
        return (
            f"{INCONCLUSIVE}: {change} neither shows nor rules out a change of {self.effect:.0%} in "
            f"{self.rounds_a} and {self.rounds_b} rounds; {more} ({how}), or quiet the machine"
        )

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def noise(samples: Sequence[float]) -> float:
    """A run's spread over rounds: interquartile range over median (0.1: the middle half of rounds spans 10%
    of the median)."""
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return float((q3 - q1) / median)


def _ratio_of_medians(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(b, axis=axis) / np.median(a, axis=axis)


def _median_ratio(log_ratios: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.exp(np.median(log_ratios, axis=axis))


def compare(
    a: Sequence[float],
    b: Sequence[float],
    *,
    effect: float = DEFAULT_EFFECT,
    confidence: float = DEFAULT_CONFIDENCE,
    paired: bool = False,
    seed: int = 0,
) -> Comparison:
    """The verdict on B against A from their per-round times (any unit, the same for both). ``paired``: the
    i-th rounds of A and B were taken together (alternated), and their ratio is the unit of evidence."""
    from scipy import stats  # the benchmarks' only use of scipy: imported when a comparison is asked for

    a_samples, b_samples = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if min(len(a_samples), len(b_samples)) < MIN_SAMPLES:
        raise ValueError(
            f"a comparison needs at least {MIN_SAMPLES} rounds per side, got {len(a_samples)} and {len(b_samples)}"
        )
    if paired and len(a_samples) != len(b_samples):
        raise ValueError(f"paired samples need as many rounds on each side, got {len(a_samples)} and {len(b_samples)}")
    if not effect > 0:
        raise ValueError(f"the effect size must be above 0, got {effect}")
    if paired:
        data, statistic = (np.log(b_samples / a_samples),), _median_ratio
    else:
        data, statistic = (a_samples, b_samples), _ratio_of_medians
    result = stats.bootstrap(
        data,
        statistic,
        vectorized=True,
        n_resamples=RESAMPLES,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    ratio = float(statistic(*data))
    return Comparison(
        ratio=ratio,
        low=low,
        high=high,
        verdict=_verdict(ratio, low, high, effect),
        effect=effect,
        confidence=confidence,
        paired=paired,
        rounds_a=len(a_samples),
        rounds_b=len(b_samples),
        noise_a=noise(a_samples),
        noise_b=noise(b_samples),
        median_a=float(np.median(a_samples)),
        median_b=float(np.median(b_samples)),
        log_spread=float(
            np.std(data[0], ddof=1)
            if paired
            else np.hypot(np.std(np.log(a_samples), ddof=1), np.std(np.log(b_samples), ddof=1))
        ),
    )


def _verdict(ratio: float, low: float, high: float, effect: float) -> str:
    if low > 1 and ratio >= 1 + effect:
        return REGRESSION
    if high < 1 and ratio <= 1 / (1 + effect):
        return IMPROVEMENT
    if 1 / (1 + effect) <= low and high <= 1 + effect:
        return NO_CHANGE
    return INCONCLUSIVE
