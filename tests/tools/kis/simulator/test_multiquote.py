"""The simulator's multi-ticker quote (FHKST11300006) against the official sample's wire format."""

from __future__ import annotations

# The output fields of the official sample, in its order (OTA examples_llm/domestic_stock/
# intstock_multprice/chk_intstock_multprice.py, COLUMN_MAPPING).
OFFICIAL_FIELDS = [
    "kospi_kosdaq_cls_name",
    "mrkt_trtm_cls_name",
    "hour_cls_code",
    "inter_shrn_iscd",
    "inter_kor_isnm",
    "inter2_prpr",
    "inter2_prdy_vrss",
    "prdy_vrss_sign",
    "prdy_ctrt",
    "acml_vol",
    "inter2_oprc",
    "inter2_hgpr",
    "inter2_lwpr",
    "inter2_llam",
    "inter2_mxpr",
    "inter2_askp",
    "inter2_bidp",
    "seln_rsqn",
    "shnu_rsqn",
    "total_askp_rsqn",
    "total_bidp_rsqn",
    "acml_tr_pbmn",
    "inter2_prdy_clpr",
    "oprc_vrss_hgpr_rate",
    "intr_antc_cntg_vrss",
    "intr_antc_cntg_vrss_sign",
    "intr_antc_cntg_prdy_ctrt",
    "intr_antc_vol",
    "inter2_sdpr",
]
PATH = "/quotations/intstock-multprice"
TR = "FHKST11300006"


def _slots(*tickers: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for slot, ticker in enumerate(tickers, start=1):
        params[f"FID_COND_MRKT_DIV_CODE_{slot}"] = "J"
        params[f"FID_INPUT_ISCD_{slot}"] = ticker
    return params


def test_rows_follow_the_slots_with_the_official_fields_and_the_day_limits(start_sim) -> None:
    _, caller = start_sim()
    response = caller.get(PATH, TR, _slots("005930", "999999", "000660"))
    assert response.status_code == 200
    body = response.json()
    assert (body["rt_cd"], body["msg_cd"]) == ("0", "MCA00000")
    assert response.headers["tr_id"] == TR
    rows = body["output"]
    assert [r["inter_shrn_iscd"] for r in rows] == ["005930", "", "000660"]
    assert all(list(r) == OFFICIAL_FIELDS for r in rows)
    assert all(isinstance(v, str) for r in rows for v in r.values())
    # The unknown code's slot is blank and priced at zero; its neighbours are not disturbed.
    assert (rows[1]["inter_kor_isnm"], rows[1]["inter2_prpr"]) == ("", "0")
    for row in (rows[0], rows[2]):
        single = caller.price(row["inter_shrn_iscd"]).json()["output"]
        assert row["inter2_prpr"] == single["stck_prpr"]
        assert (row["inter2_mxpr"], row["inter2_llam"]) == (
            single["stck_mxpr"],
            single["stck_llam"],
        )
        assert row["inter2_sdpr"] == single["stck_sdpr"]
        assert int(row["inter2_llam"]) < int(row["inter2_prpr"]) < int(row["inter2_mxpr"])


def test_thirty_slots_are_answered_and_slot_one_is_required(start_sim) -> None:
    sim, caller = start_sim(synthetic_instruments=25)
    tickers = [i for i in sorted(sim.state.market.instruments)][:30]
    assert len(tickers) == 30
    rows = caller.get(PATH, TR, _slots(*tickers)).json()["output"]
    assert [r["inter_shrn_iscd"] for r in rows] == tickers
    missing = caller.get(PATH, TR, {"FID_COND_MRKT_DIV_CODE_1": "J"}).json()
    assert (missing["rt_cd"], missing["msg_cd"]) == ("2", "OPSQ2001")


def test_the_virtual_server_refuses_it_and_a_server_without_it_has_no_path(start_sim) -> None:
    _, virtual = start_sim(mode="virtual")
    refused = virtual.get(PATH, TR, _slots("005930"))
    assert (refused.status_code, refused.json()["msg_cd"]) == (500, "EGW02006")
    _, without = start_sim(multi_quote=False)
    assert without.get(PATH, TR, _slots("005930")).status_code == 404
    assert without.price("005930").status_code == 200
