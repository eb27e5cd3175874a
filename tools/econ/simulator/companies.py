"""The deterministic company dataset served by the simulated OpenDART.

Three listed companies (Samsung Electronics, SK hynix, NAVER) with their real corp codes, and two
unlisted ones from the CORPCODE.xml sample. Annual consolidated figures for 2022-2024 are rounded
public figures (to 0.1 trillion KRW for SK hynix and NAVER), close enough for the simulator and
tests, not a reference. Balance sheets balance (assets = liabilities + equity). Each annual
report is filed in March of the following year; the filing date is in `rcept_no`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

T = 1_000_000_000_000
"""One trillion KRW."""
B = 1_000_000_000
"""One billion KRW."""


@dataclass(frozen=True)
class Annual:
    """Consolidated annual key accounts of one fiscal year, whole KRW."""

    revenue: int
    operating_income: int
    net_income: int
    assets: int
    liabilities: int
    filed_on: date

    @property
    def equity(self) -> int:
        """Assets minus liabilities."""
        return self.assets - self.liabilities


@dataclass(frozen=True)
class Company:
    """What company.json and CORPCODE.xml say about one company, and its annual figures."""

    corp_code: str
    corp_name: str
    corp_name_eng: str
    stock_code: str | None
    corp_cls: str
    modify_date: str
    ceo_nm: str = ""
    jurir_no: str = ""
    bizr_no: str = ""
    adres: str = ""
    hm_url: str = ""
    ir_url: str = ""
    phn_no: str = ""
    fax_no: str = ""
    induty_code: str = ""
    est_dt: str = ""
    acc_mt: str = "12"
    annuals: dict[int, Annual] = field(default_factory=dict)

    def overview(self) -> dict[str, str]:
        """The company.json fields (without status/message), as OpenDART writes them."""
        return {
            "corp_code": self.corp_code,
            "corp_name": self.corp_name,
            "corp_name_eng": self.corp_name_eng,
            "stock_name": self.corp_name if self.stock_code else "",
            "stock_code": self.stock_code or " ",
            "ceo_nm": self.ceo_nm,
            "corp_cls": self.corp_cls,
            "jurir_no": self.jurir_no,
            "bizr_no": self.bizr_no,
            "adres": self.adres,
            "hm_url": self.hm_url,
            "ir_url": self.ir_url,
            "phn_no": self.phn_no,
            "fax_no": self.fax_no,
            "induty_code": self.induty_code,
            "est_dt": self.est_dt,
            "acc_mt": self.acc_mt,
        }

    def term_number(self, year: int) -> int:
        """The fiscal term (기수) of `year`, counted from the founding year."""
        founded = int(self.est_dt[:4]) if self.est_dt else year
        return year - founded + 1


def _annual(
    revenue: float, op: float, net: float, assets: float, liab: float, filed: str
) -> Annual:
    def krw(trillions: float) -> int:
        return round(trillions * 1000) * B

    return Annual(
        krw(revenue), krw(op), krw(net), krw(assets), krw(liab), date.fromisoformat(filed)
    )


SAMSUNG = Company(
    corp_code="00126380",
    corp_name="삼성전자",
    corp_name_eng="SAMSUNG ELECTRONICS CO., LTD.",
    stock_code="005930",
    corp_cls="Y",
    modify_date="20250101",
    ceo_nm="한종희, 경계현",
    jurir_no="1301110006246",
    bizr_no="1248100998",
    adres="경기도 수원시 영통구 삼성로 129 (매탄동)",
    hm_url="http://www.samsung.com/sec",
    ir_url="http://www.samsung.com/sec/ir",
    phn_no="031-200-1114",
    fax_no="031-200-7538",
    induty_code="264",
    est_dt="19690113",
    annuals={
        2022: _annual(302.231, 43.377, 55.654, 448.425, 93.675, "2023-03-07"),
        2023: _annual(258.935, 6.567, 15.487, 455.906, 92.228, "2024-03-12"),
        2024: _annual(300.871, 32.726, 34.451, 514.532, 112.340, "2025-03-11"),
    },
)
SK_HYNIX = Company(
    corp_code="00164779",
    corp_name="SK하이닉스",
    corp_name_eng="SK hynix Inc.",
    stock_code="000660",
    corp_cls="Y",
    modify_date="20250101",
    adres="경기도 이천시 부발읍 경충대로 2091",
    hm_url="www.skhynix.com",
    induty_code="261",
    est_dt="19830201",
    annuals={
        2022: _annual(44.6, 7.0, 2.2, 103.9, 41.7, "2023-03-21"),
        2023: _annual(32.8, -7.7, -9.1, 100.3, 46.5, "2024-03-19"),
        2024: _annual(66.2, 23.5, 19.8, 119.9, 42.1, "2025-03-19"),
    },
)
NAVER = Company(
    corp_code="00266961",
    corp_name="NAVER",
    corp_name_eng="NAVER Corp.",
    stock_code="035420",
    corp_cls="Y",
    modify_date="20250101",
    adres="경기도 성남시 분당구 불정로 6 (정자동, NAVER그린팩토리)",
    hm_url="www.navercorp.com",
    induty_code="63120",
    est_dt="19990602",
    annuals={
        2022: _annual(8.2, 1.3, 0.8, 36.0, 12.8, "2023-03-14"),
        2023: _annual(9.7, 1.5, 1.0, 36.7, 12.2, "2024-03-13"),
        2024: _annual(10.7, 2.0, 1.9, 38.9, 12.4, "2025-03-12"),
    },
)
UNLISTED = (
    Company("00434003", "다코", "", None, "E", "20170630"),
    Company("00434456", "일산약품", "", None, "E", "20170630"),
)

COMPANIES: dict[str, Company] = {c.corp_code: c for c in (*UNLISTED, SAMSUNG, SK_HYNIX, NAVER)}
"""corp_code -> company, in CORPCODE.xml order."""


@dataclass(frozen=True)
class AccountSpec:
    """How one key account appears in fnlttSinglAcnt and fnlttSinglAcntAll."""

    sj_div: str
    sj_nm: str
    account_nm: str
    account_id: str
    ord: int
    attribute: str


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("BS", "재무상태표", "자산총계", "ifrs-full_Assets", 5, "assets"),
    AccountSpec("BS", "재무상태표", "부채총계", "ifrs-full_Liabilities", 11, "liabilities"),
    AccountSpec("BS", "재무상태표", "자본총계", "ifrs-full_Equity", 19, "equity"),
    AccountSpec("IS", "손익계산서", "매출액", "ifrs-full_Revenue", 21, "revenue"),
    AccountSpec("IS", "손익계산서", "영업이익", "dart_OperatingIncomeLoss", 23, "operating_income"),
    AccountSpec("IS", "손익계산서", "당기순이익", "ifrs-full_ProfitLoss", 27, "net_income"),
)
