"""The simulator's default universe: real KRX tickers with plausible static facts.

Prices and fundamentals are approximate (late-2020s levels); they give the generator an anchor
and the fundamentals endpoints a scale, not investment data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from tools.krx.rules import Market


@dataclass(frozen=True, slots=True)
class Instrument:
    """Static facts about one listed instrument."""

    ticker: str
    name: str
    name_en: str
    market: Market
    base_price: int
    """Centre of the generated price path, KRW."""
    listed_shares: int
    avg_volume: int
    """Typical daily volume in shares."""
    sector: str
    par_value: int
    eps: int
    bps: int
    revenue_100m: int
    """Yearly sales in 억원 (100 million KRW); scales the financial statements."""

    @property
    def is_etf(self) -> bool:
        """Tell whether the instrument trades with the ETF tick and pays no sell tax."""
        return self.market is Market.ETF


DEFAULT_UNIVERSE: tuple[Instrument, ...] = (
    Instrument(
        "005930",
        "삼성전자",
        "SamsungElectronics",
        Market.KOSPI,
        70_000,
        5_969_782_550,
        15_000_000,
        "전기·전자",
        100,
        3_800,
        52_000,
        2_900_000,
    ),
    Instrument(
        "000660",
        "SK하이닉스",
        "SK hynix",
        Market.KOSPI,
        180_000,
        728_002_365,
        3_000_000,
        "전기·전자",
        5_000,
        16_000,
        95_000,
        660_000,
    ),
    Instrument(
        "035420",
        "NAVER",
        "NAVER",
        Market.KOSPI,
        200_000,
        158_437_008,
        600_000,
        "서비스업",
        100,
        9_500,
        170_000,
        100_000,
    ),
    Instrument(
        "005380",
        "현대차",
        "HyundaiMotor",
        Market.KOSPI,
        240_000,
        209_416_191,
        600_000,
        "운수장비",
        5_000,
        45_000,
        330_000,
        1_620_000,
    ),
    Instrument(
        "051910",
        "LG화학",
        "LG CHEM",
        Market.KOSPI,
        350_000,
        70_592_343,
        300_000,
        "화학",
        5_000,
        12_000,
        420_000,
        550_000,
    ),
    Instrument(
        "069500",
        "KODEX 200",
        "KODEX 200",
        Market.ETF,
        35_000,
        120_000_000,
        3_000_000,
        "ETF",
        0,
        0,
        0,
        0,
    ),
    Instrument(
        "114800",
        "KODEX 인버스",
        "KODEX Inverse",
        Market.ETF,
        4_300,
        300_000_000,
        20_000_000,
        "ETF",
        0,
        0,
        0,
        0,
    ),
    Instrument(
        "035720",
        "카카오",
        "Kakao",
        Market.KOSPI,
        45_000,
        444_000_000,
        2_000_000,
        "서비스업",
        100,
        700,
        22_000,
        80_000,
    ),
    Instrument(
        "068270",
        "셀트리온",
        "Celltrion",
        Market.KOSPI,
        180_000,
        216_000_000,
        800_000,
        "의약품",
        1_000,
        2_500,
        75_000,
        35_000,
    ),
    Instrument(
        "105560",
        "KB금융",
        "KB Financial Group",
        Market.KOSPI,
        80_000,
        393_000_000,
        1_500_000,
        "금융업",
        5_000,
        12_500,
        150_000,
        600_000,
    ),
    Instrument(
        "207940",
        "삼성바이오로직스",
        "SAMSUNG BIOLOGICS",
        Market.KOSPI,
        800_000,
        71_174_000,
        60_000,
        "의약품",
        2_500,
        12_000,
        140_000,
        45_000,
    ),
)


SYNTHETIC_PREFIX = "SY"
"""Synthetic tickers are `SY0001`, `SY0002`...: six characters like a KRX code, never a real one."""

_SECTORS = ("전기·전자", "서비스업", "화학", "운수장비", "의약품", "금융업", "철강금속", "유통업")


def synthetic_universe(count: int, seed: int = 7) -> tuple[Instrument, ...]:
    """Return `count` made-up KOSPI instruments, for load tests that need a large watchlist.

    They are not KRX listings: names say "synthetic", tickers use the `SY` prefix, and the facts
    (price anchor, shares, volume, EPS/BPS, sales) are drawn from a seeded generator in the
    ranges of the default universe, so every endpoint answers for them as for a real ticker.
    """
    if not 0 <= count <= 9_999:
        raise ValueError("synthetic_instruments must be between 0 and 9999")
    rng = random.Random(f"synthetic:{seed}")
    out: list[Instrument] = []
    for n in range(1, count + 1):
        base_price = rng.choice((5_000, 12_000, 30_000, 70_000, 150_000, 400_000))
        eps = int(base_price / rng.uniform(6.0, 40.0))
        out.append(
            Instrument(
                ticker=f"{SYNTHETIC_PREFIX}{n:04d}",
                name=f"합성종목 {n}",
                name_en=f"Synthetic {n}",
                market=Market.KOSPI,
                base_price=base_price,
                listed_shares=rng.randrange(20_000_000, 600_000_000),
                avg_volume=rng.randrange(100_000, 5_000_000),
                sector=rng.choice(_SECTORS),
                par_value=rng.choice((100, 500, 1_000, 5_000)),
                eps=eps,
                bps=int(base_price / rng.uniform(0.5, 4.0)),
                revenue_100m=rng.randrange(5_000, 500_000),
            )
        )
    return tuple(out)
