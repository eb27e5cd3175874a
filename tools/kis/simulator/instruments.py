"""The simulator's default universe: real KRX tickers with plausible static facts.

Prices and fundamentals are approximate (late-2020s levels); they give the generator an anchor
and the fundamentals endpoints a scale, not investment data.
"""

from __future__ import annotations

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
