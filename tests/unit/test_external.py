"""The published-statistics loaders, checked against values read by eye from the raw files."""

from __future__ import annotations

import dataclasses
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import external
from analysis.errors import InputError
from analysis.paths import external_dir

BARKING = "E09000002"


@pytest.fixture(scope="module")
def tidy() -> pd.DataFrame:
    return external.load_external()


def value(tidy: pd.DataFrame, code: str, measure: str, year: int, source: str = "") -> float:
    rows = tidy[
        (tidy["la_code"] == code)
        & (tidy["measure"] == measure)
        & (tidy["year"] == year)
        & tidy["source_file"].str.contains(source, regex=False)
    ]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


def source(path_part: str) -> external.Source:
    return next(s for s in external.SOURCES if path_part in s.path)


@pytest.mark.parametrize(
    ("measure", "year", "expected"),
    [
        ("cla_at_31_march", 2025, 431),
        ("cla_starts", 2025, 203),
        ("cla_ceases", 2025, 212),
        ("cla_rate_per_10k", 2025, 65),
        ("cin_at_31_march", 2025, 2578),
        ("cin_starts", 2025, 2889),
        ("referrals", 2025, 5307),
        ("cpp_at_31_march", 2025, 349),
        ("sw_fte_in_post", 2025, 229),
        ("agency_rate_pct", 2025, 15.5),
        ("vacancy_rate_pct", 2025, 18.8),
        ("turnover_rate_pct", 2025, 14.8),
        ("caseload_per_fte", 2025, 15),
        ("cases_held", 2025, 1801),
        ("case_holders_fte", 2025, 120),
        ("population_0_17", 2024, 66465),
        ("csc_budget_gbp_k", 2022, 60540),
        ("csc_budget_gbp_k", 2024, 70172),
        ("csc_net_outturn_gbp_k", 2022, 70340),
        ("csc_net_outturn_gbp_k", 2024, 85661),
        ("csc_employee_costs_gbp_k", 2022, 26586),
        ("csc_employee_costs_gbp_k", 2024, 37462),
    ],
)
def test_barking_and_dagenham_values_match_the_files(tidy, measure, year, expected):
    assert value(tidy, BARKING, measure, year) == pytest.approx(expected)


def test_tidy_table_has_the_documented_columns_and_types(tidy):
    assert tuple(tidy.columns) == external.TIDY_COLUMNS
    assert set(tidy["geographic_level"].unique()) == {"National", "Regional", "Local authority"}
    assert tidy["old_la_code"].dtype == "Int64"
    assert tidy["la_code"].notna().all()
    assert tidy["source_file"].str.startswith("external/").all()
    barking = tidy[tidy["la_code"] == BARKING]
    assert set(barking["old_la_code"]) == {301}
    assert set(barking["la_name"]) == {"Barking and Dagenham"}
    workforce = barking[barking["measure"] == "agency_rate_pct"]
    assert set(workforce["period_end"].dt.strftime("%m-%d")) == {"09-30"}
    cla = barking[barking["measure"] == "cla_at_31_march"]
    assert set(cla["period_end"].dt.strftime("%m-%d")) == {"03-31"}


def test_one_row_per_geography_year_measure_and_file(tidy):
    key = ["geographic_level", "la_code", "year", "measure", "source_file"]
    assert not tidy.duplicated(key).any()
    assert (tidy["la_code"].str.len() > 0).all()
    budget = tidy[tidy["source_file"].str.contains("RA_2021-22")]
    assert budget["la_code"].str.fullmatch(r"E\d{8}").all()  # no class-summary rows


def test_the_population_denominator_is_the_mid_year_before(tidy):
    # The DfE's 2025 rate (65 per 10,000) divides 431 by the mid-2024 population.
    population = value(tidy, BARKING, "population_0_17", 2024)
    assert 431 / population * 10_000 == pytest.approx(65, abs=0.5)


def test_suppressed_cells_are_missing_with_their_symbol(tidy):
    city = tidy[
        (tidy["la_code"] == "E09000001")
        & (tidy["measure"] == "cla_at_31_march")
        & (tidy["year"] == 2025)
    ]
    assert math.isnan(city["value"].iloc[0])
    assert city["suppression"].iloc[0] == "c"
    sunderland = tidy[
        (tidy["la_code"] == "E08000024")
        & (tidy["measure"] == "agency_rate_pct")
        & (tidy["year"] == 2025)
    ]
    assert math.isnan(sunderland["value"].iloc[0])
    assert sunderland["suppression"].iloc[0] == "low"
    assert set(tidy["suppression"].dropna()) <= set(external.SUPPRESSION_SYMBOLS)
    assert tidy.loc[tidy["suppression"].notna(), "value"].isna().all()


def test_sfr_files_give_2010_to_2017_with_codes_filled(tidy):
    assert value(tidy, BARKING, "cla_at_31_march", 2010) == 378  # 2010 has no ONS codes
    assert value(tidy, BARKING, "cla_ceases", 2010) == 236
    assert value(tidy, BARKING, "cla_at_31_march", 2017) == 409
    assert value(tidy, BARKING, "cla_starts", 2015) == 268  # columns labelled 2014 in the file
    assert value(tidy, BARKING, "cla_placement_foster", 2017) == 313


def test_national_placement_characteristics(tidy):
    foster = value(tidy, external.ENGLAND_CODE, "cla_placement_1_total_foster_placements", 2024)
    assert foster == 56390


def test_series_follows_the_la_number_across_an_ons_recode(tidy):
    north_yorkshire = external.series(tidy, "E06000065", "cla_at_31_march")
    assert pd.Timestamp("2021-03-31") in north_yorkshire.index  # then E10000023
    assert pd.Timestamp("2025-03-31") in north_yorkshire.index
    barking = external.series(tidy, BARKING, "cla_at_31_march")
    assert barking.index.is_monotonic_increasing
    assert barking[pd.Timestamp("2025-03-31")] == 431


def test_series_uses_the_latest_edition_where_files_overlap(tidy):
    england = external.series(tidy, external.ENGLAND_CODE, "cla_at_31_march")
    assert england.index.is_unique
    assert england[pd.Timestamp("2024-03-31")] == 83530  # 2025 edition (time series: 83630)
    assert england[pd.Timestamp("1994-03-31")] == value(
        tidy, external.ENGLAND_CODE, "cla_at_31_march", 1994
    )


def test_series_rejects_an_unknown_measure_with_close_matches(tidy):
    with pytest.raises(InputError, match="cla_at_31_march"):
        external.series(tidy, BARKING, "cla_at_31_mar")


def test_series_of_several_measures_is_each_measures_series(tidy):
    measures = ["referrals", "cla_at_31_march", "no_such_measure", "cpp_at_31_march"]
    found = external.series_of_measures(tidy, "E06000065", measures)  # recoded in 2023
    assert list(found) == ["referrals", "cla_at_31_march", "cpp_at_31_march"]
    for measure, values in found.items():
        pd.testing.assert_series_equal(values, external.series(tidy, "E06000065", measure))
    with pytest.raises(InputError, match="E09999999"):
        external.series_of_measures(tidy, "E09999999", measures)


def test_the_row_index_finds_a_councils_rows_by_code_number_and_joint_return(tidy):
    index = external.row_index(tidy)
    assert index is external.row_index(tidy)  # built once for the table
    barking = tidy.iloc[index.of_code(BARKING)]
    assert len(barking) == (tidy["la_code"] == BARKING).sum() > 0
    assert set(barking["la_code"]) == {BARKING}
    gateshead = tidy.iloc[index.of_la_number(390)]  # E08000020 until 2013, E08000037 now
    assert set(gateshead["la_code"]) == {"E08000020", "E08000037"}
    assert set(gateshead["geographic_level"]) == {external.LOCAL_AUTHORITY}
    joint = tidy.iloc[index.of_joint_member("E06000062")]
    assert set(joint["la_code"]) == {"E06000061 / E06000062"}
    assert len(joint) == (tidy["la_code"] == "E06000061 / E06000062").sum()
    assert len(index.of_code("E09999999")) == len(index.of_joint_member(BARKING)) == 0
    both = index.of_codes([BARKING, external.ENGLAND_CODE, "E09999999"])
    expected = np.flatnonzero(tidy["la_code"].isin([BARKING, external.ENGLAND_CODE]).to_numpy())
    assert np.array_equal(both, expected)
    assert len(index.of_codes([])) == 0
    pd.testing.assert_frame_equal(external.rows_of(tidy, BARKING), tidy[tidy["la_code"] == BARKING])
    assert len(index.not_la) == (tidy["geographic_level"] != external.LOCAL_AUTHORITY).sum()


def test_once_per_table_computes_once_for_each_table_and_name():
    calls: list[int] = []

    def total(table: pd.DataFrame) -> int:
        calls.append(len(table))
        return int(table["value"].sum())

    first, second = pd.DataFrame({"value": [1, 2]}), pd.DataFrame({"value": [1, 2]})
    assert external.once_per_table(first, "test total", total) == 3
    assert external.once_per_table(first, "test total", total) == 3
    assert external.once_per_table(second, "test total", total) == 3  # an equal, other table
    assert calls == [2, 2]
    for number in range(external.PER_TABLE_LIMIT):  # pushes the oldest entries out
        external.once_per_table(first, f"test {number}", len)
    assert external.once_per_table(first, "test total", total) == 3
    assert calls == [2, 2, 2]


def test_published_as_of_is_the_same_table_for_the_same_month(tidy):
    assert external.published_as_of(tidy, "2025-03") is external.published_as_of(
        tidy, "2024-25 P12"
    )


def test_published_as_of_keeps_only_editions_out_by_that_month(tidy):
    march = external.published_as_of(tidy, "2025-03")
    cla = march[(march["la_code"] == BARKING) & (march["measure"] == "cla_at_31_march")]
    assert cla["year"].max() == 2024
    december = external.published_as_of(tidy, "2025-12")
    cla = december[(december["la_code"] == BARKING) & (december["measure"] == "cla_at_31_march")]
    assert cla["year"].max() == 2025
    workforce = december[
        (december["la_code"] == BARKING) & (december["measure"] == "agency_rate_pct")
    ]
    assert workforce["year"].max() == 2024  # the 2025 census is published in March 2026
    with pytest.raises(InputError, match="YYYY-MM"):
        external.published_as_of(tidy, "March 2025")


def test_lookup_finds_an_la_by_code_number_or_name(tidy):
    lookup = external.la_lookup(tidy)
    assert lookup["la_code"].is_unique
    barking = lookup.set_index("la_code").loc[BARKING]
    years = (barking["first_year"], barking["last_year"])
    assert (barking["old_la_code"], *years) == (301, 2009, 2025)
    for query in ("E09000002", "e09000002", "301", "barking & dagenham", "Barking and Dagenham"):
        row = external.resolve_la(query, lookup)
        assert row["la_code"] == BARKING
        assert row["region_name"] == "Outer London"
    with pytest.raises(InputError, match="Barking and Dagenham"):
        external.resolve_la("Barkin and Dagenam", lookup)


def test_boundary_changes_are_reported(tidy):
    changes = external.boundary_changes(tidy)

    def has(year, change, code):
        return (
            (changes["year"] == year) & (changes["change"] == change) & (changes["la_code"] == code)
        ).any()

    assert has(2021, "disappears", "E10000021")  # Northamptonshire
    assert has(2021, "appears", "E06000061")  # North Northamptonshire
    assert has(2023, "disappears", "E10000006")  # Cumbria
    assert has(2023, "appears", "E06000063")  # Cumberland
    assert has(2023, "code changed", "E06000065")  # North Yorkshire
    north_yorkshire = changes[
        (changes["la_code"] == "E06000065") & (changes["change"] == "code changed")
    ]
    assert north_yorkshire["previous_code"].iloc[0] == "E10000023"


# --- layouts and encodings, on small files written by the tests ------------------------------


def _copy(tmp_path: Path, relative: str) -> Path:
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(external_dir() / relative, target)
    return target


CLA_FILE = "dfe_children_looked_after/cla_number_and_rate_per_10k_children.csv"


def test_the_2023_2024_cla_column_names_are_mapped(tmp_path):
    path = _copy(tmp_path, CLA_FILE)
    text = path.read_text(encoding="utf-8-sig")
    header, rest = text.split("\n", 1)
    header = header.replace("population_type", "population_count").replace(
        "children_count", "number"
    )
    path.write_text(header + "\n" + rest, encoding="utf-8")
    old = external.load_source(source("cla_number_and_rate"), tmp_path)
    new = external.load_source(source("cla_number_and_rate"))
    pd.testing.assert_series_equal(old["value"], new["value"])


def test_an_unknown_layout_names_file_and_columns(tmp_path):
    path = _copy(tmp_path, CLA_FILE)
    text = path.read_text(encoding="utf-8-sig").replace("children_count", "kids", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        external.load_source(source("cla_number_and_rate"), tmp_path)
    message = caught.value.report()
    assert "cla_number_and_rate_per_10k_children.csv" in message
    assert "'kids'" in message  # found
    assert "population_type, children_count" in message  # expected
    assert "population_count, number" in message


def test_an_unknown_symbol_names_row_column_and_value(tmp_path):
    path = _copy(tmp_path, CLA_FILE)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[4] = lines[4].rsplit(",", 2)[0] + ",n/a,1"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        external.load_source(source("cla_number_and_rate"), tmp_path)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (5, "children_count", "n/a")


def test_windows_1252_files_are_read(tmp_path):
    relative = "population/ons_mid-year_population_estimates_2012_to_2024.csv"
    path = _copy(tmp_path, relative)
    text = path.read_text(encoding="utf-8").replace("Barking and Dagenham", "Barking – Dagenham’s")
    path.write_bytes(text.encode("cp1252"))
    rows = external.load_source(source("ons_mid-year"), tmp_path)
    barking = rows[(rows["la_code"] == BARKING) & (rows["year"] == 2024)]
    assert barking["la_name"].iloc[0] == "Barking – Dagenham’s"
    assert barking["value"].iloc[0] == 66465


def test_mac_roman_finance_file_is_read():
    # RA 2023-24 is not UTF-8: its curly quotes and dashes are Mac Roman bytes.
    raw = (external_dir() / "mhclg_la_finance/RA_2023-24_data_Part_1.csv").read_bytes()
    assert "young people’s services" in external.decode_text(raw)


def test_finance_header_is_found_by_searching_for_e_code(tmp_path):
    relative = "mhclg_la_finance/RSX_2021-22_data_by_LA_Live.csv"
    path = _copy(tmp_path, relative)
    path.write_text(
        "An extra title line\n" + path.read_text(encoding="utf-8-sig"), encoding="utf-8"
    )
    rows = external.load_source(source("RSX_2021-22"), tmp_path)
    net = rows[(rows["la_code"] == BARKING) & (rows["measure"] == "csc_net_outturn_gbp_k")]
    assert net["value"].iloc[0] == 70340
    broken = path.read_text(encoding="utf-8").replace("E-code", "Code")
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(InputError, match="E-code"):
        external.load_source(source("RSX_2021-22"), tmp_path)


def test_a_missing_file_is_named(tmp_path):
    missing = dataclasses.replace(source("cla_number_and_rate"))
    with pytest.raises(InputError, match="no such file"):
        external.load_source(missing, tmp_path)


def test_the_cache_key_changes_when_a_file_changes(tmp_path):
    path = _copy(tmp_path, CLA_FILE)
    before = external._fingerprint(tmp_path)
    path.write_bytes(path.read_bytes() + b"\n")
    assert external._fingerprint(tmp_path) != before


def test_loading_twice_reuses_the_parsed_table():
    assert external.load_external() is external.load_external()


def test_each_figure_points_at_the_cell_it_was_read_from(tidy):
    rows = tidy[
        (tidy["la_code"] == BARKING)
        & (tidy["measure"] == "cla_at_31_march")
        & (tidy["year"] == 2025)
    ]
    assert rows["source_row"].iloc[0] == 447  # line 447 of the file, header = line 1
    assert rows["source_column"].iloc[0] == "children_count"
    budget = tidy[(tidy["la_code"] == BARKING) & (tidy["measure"] == "csc_budget_gbp_k")]
    assert set(budget["source_column"]) == {"TOTAL CHILDREN'S SOCIAL CARE"}


def test_a_reporting_month_may_be_a_financial_period(tidy):
    by_month = external.published_as_of(tidy, "2025-03")
    by_period = external.published_as_of(tidy, "2024-25 P12")
    assert len(by_month) == len(by_period)
    with pytest.raises(InputError, match="YYYY-MM"):
        external.published_as_of(tidy, "March 2025")


def test_the_publication_schedule_is_a_readable_table():
    table = external.publication_schedule()
    rows = table.set_index("collection")["figures for year Y first published"]
    assert rows["cla"] == "November of Y"
    assert rows["workforce"] == "March of Y+1"
    assert rows["ra"] == "June of Y-1"


def test_a_renamed_category_is_an_unknown_layout(tmp_path):
    path = _copy(tmp_path, CLA_FILE)
    text = path.read_text(encoding="utf-8-sig").replace(
        "Children starting to be looked after each year", "Children who started care"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        external.load_source(source("cla_number_and_rate"), tmp_path)
    message = caught.value.report()
    assert "'Children starting to be looked after each year'" in message  # expected
    assert "'Children who started care'" in message  # found
