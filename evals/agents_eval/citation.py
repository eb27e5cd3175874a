"""Does a rationale cite only numbers it was given? Every number must appear in the evidence.

A number in the rationale is *supported* when some number of the evidence the model read (the
JSON of indicators or ratios and the rules' reading, and the tool results) rounds to it at the
precision it is written with: "RSI 28.5" is supported by 28.541382, "-7.3%" by -0.073206
(a fraction written as a percentage) or by -7.3, "63,300" by 63300.0. Signs are ignored
("down 7.3%"). Small bare integers (<= `SMALL_INT`) are counts and windows ("14-day", "3 of
4") and are not checked; numbers glued to letters ("SMA20", "gpt-4o") are names, not figures.
An invented number — one no evidence rounds to — makes the rationale score 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

SMALL_INT = 31
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?%?(?![\w])")
_EVIDENCE_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class CitationCheck:
    """The numbers of one rationale, and those no evidence supports."""

    cited: tuple[str, ...]
    invented: tuple[str, ...]

    @property
    def score(self) -> float:
        """1 when every cited number is supported, 0 when any is invented."""
        return 0.0 if self.invented else 1.0


def numbers_in(text: str) -> list[str]:
    """The figures written in `text`, as written (names like SMA20 and small counts excluded)."""
    found = []
    for match in _NUMBER.finditer(text):
        raw = match.group(0)
        plain = raw.rstrip("%").replace(",", "").lstrip("+-")
        if "." not in plain and not raw.endswith("%") and int(plain) <= SMALL_INT:
            continue
        found.append(raw)
    return found


def evidence_numbers(texts: Iterable[str]) -> list[Decimal]:
    """Every number in the evidence texts (JSON or prose), thousands separators removed."""
    values: list[Decimal] = []
    for text in texts:
        for raw in _EVIDENCE_NUMBER.findall(re.sub(r"(?<=\d),(?=\d{3})", "", text)):
            try:
                values.append(Decimal(raw))
            except InvalidOperation:
                continue
    return values


def _places(raw: str) -> int:
    plain = raw.rstrip("%")
    return len(plain.split(".", 1)[1]) if "." in plain else 0


def _supported(raw: str, evidence: list[Decimal]) -> bool:
    places = _places(raw)
    cited = abs(Decimal(raw.rstrip("%").replace(",", "")))
    quantum = Decimal(1).scaleb(-places)
    candidates = [abs(v) for v in evidence]
    if raw.endswith("%"):
        candidates += [abs(v) * 100 for v in evidence]
    return any(c.quantize(quantum) == cited for c in candidates if c.adjusted() < 28)


def check_citations(rationale: str, given: Iterable[str]) -> CitationCheck:
    """Check every figure of `rationale` against the evidence texts the model read."""
    evidence = evidence_numbers(given)
    cited = numbers_in(rationale)
    invented = tuple(raw for raw in cited if not _supported(raw, evidence))
    return CitationCheck(cited=tuple(cited), invented=invented)
