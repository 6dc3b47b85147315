"""read_catalog on the Taoyuan and Yilan catalogs and on broken catalog files."""

import dataclasses
import hashlib
import re
from pathlib import Path

import pytest

from govchain.catalog.importer import (
    PHONE,
    Agency,
    CatalogEntry,
    CatalogImport,
    RowProblem,
    read_catalog,
)
from govchain.data import demo_file
from govchain.errors import ValidationError
from govchain.tabular import read_table

FIXTURES = Path(__file__).parent.parent / "fixtures" / "catalog"
TAOYUAN = "taoyuan_opendata_supply_list_2018.xls"
YILAN = "yilan_opendata_catalog_2018-03-20.big5.csv"
CONTACT_COLUMNS = (
    "資料集提供機關聯絡人",
    "資料集提供機關電話",
    "資料集提供機關聯絡人電子郵件",
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _texts(entry: CatalogEntry) -> list[str]:
    """Return every string an entry carries."""
    return [
        entry.title,
        entry.description,
        entry.agency.code,
        entry.agency.name,
        entry.category,
        entry.update_frequency,
        *entry.fields,
        *entry.tags,
        *entry.formats,
    ]


def _covered_rows(result: CatalogImport) -> set[int]:
    return {entry.row for entry in result.entries} | {
        problem.row for problem in result.problems
    }


@pytest.fixture(scope="module")
def taoyuan() -> CatalogImport:
    return read_catalog(demo_file(TAOYUAN))


@pytest.fixture(scope="module")
def yilan() -> CatalogImport:
    return read_catalog(demo_file(YILAN))


def test_read_catalog_taoyuan_counts(taoyuan: CatalogImport) -> None:
    assert taoyuan.source == TAOYUAN
    assert len(taoyuan.entries) == 1429
    assert taoyuan.problems == []
    assert _covered_rows(taoyuan) == set(range(2, 1431))


def test_read_catalog_taoyuan_first_entry(taoyuan: CatalogImport) -> None:
    entry = taoyuan.entries[0]
    assert entry.row == 2
    assert entry.title == "桃園市臨時暨短期照顧服務之委託單位"
    assert entry.agency == Agency(code="380120000J", name="社會局")
    assert entry.category == "生活安全及品質"
    assert entry.update_frequency == "不定期"
    assert entry.fields == ("委辦單位", "電話", "地址", "服務對象", "服務內容")
    assert entry.tags == ("身心障礙者臨時及短期照顧服務",)
    assert entry.formats == ("CSV",)


def test_read_catalog_taoyuan_field_names(taoyuan: CatalogImport) -> None:
    # The published cell is 分類(境外移入或本土個案)、通報日期(通報日期)、…
    entry = taoyuan.entries[1]
    assert entry.fields[:3] == ("分類", "通報日期", "發病日期")
    assert entry.tags == ("個案", "登革熱")


def test_read_catalog_taoyuan_agencies(taoyuan: CatalogImport) -> None:
    codes = [agency.code for agency in taoyuan.agencies]
    assert len(codes) == 34
    assert codes == sorted(set(codes))
    assert Agency(code="380120000J", name="社會局") in taoyuan.agencies
    assert Agency(code="380320000A", name="消防局") in taoyuan.agencies
    # A market company outside the agency code list has a code of another form.
    assert (
        Agency(code="EB22380665", name="桃園果菜市場股份有限公司") in taoyuan.agencies
    )
    for code in codes:
        assert re.fullmatch(r"[0-9A-Z]{10}", code), code


def test_read_catalog_taoyuan_frequencies(taoyuan: CatalogImport) -> None:
    frequencies = {entry.update_frequency for entry in taoyuan.entries}
    assert frequencies == {
        "不定期",
        "每年",
        "每月",
        "每季",
        "即時",
        "每半年",
        "每日",
        "每週",
    }


def test_read_catalog_taoyuan_no_contacts(taoyuan: CatalogImport) -> None:
    table = read_table(demo_file(TAOYUAN))
    contact_values = {
        value
        for column in CONTACT_COLUMNS
        for value in table.column(column)
        if value is not None
    }
    assert len(contact_values) > 100
    for entry in taoyuan.entries:
        for text in _texts(entry):
            assert text not in contact_values
            assert not EMAIL.search(text)


def test_read_catalog_taoyuan_phone_removed(taoyuan: CatalogImport) -> None:
    # The published description gives the numbers 03-4861760 and 03-4861733.
    entries = [
        e for e in taoyuan.entries if "動物保護教育園區犬貓入園" in e.description
    ]
    assert entries
    for entry in entries:
        assert "03-4861760" not in entry.description
        assert "[contact removed]" in entry.description


def test_read_catalog_yilan_counts(yilan: CatalogImport) -> None:
    assert len(yilan.entries) == 353
    assert len(yilan.problems) == 3
    assert _covered_rows(yilan) == set(read_table(demo_file(YILAN)).row_numbers)
    assert len(_covered_rows(yilan)) == 356


def test_read_catalog_yilan_duplicates(yilan: CatalogImport) -> None:
    assert yilan.problems == [
        RowProblem(105, None, "duplicate of row 98, every catalog field is the same"),
        RowProblem(246, None, "duplicate of row 243, every catalog field is the same"),
        RowProblem(338, None, "duplicate of row 337, every catalog field is the same"),
    ]


def test_read_catalog_yilan_first_entry(yilan: CatalogImport) -> None:
    entry = yilan.entries[0]
    digest = hashlib.sha256("民政處".encode()).hexdigest()
    assert entry.row == 2
    assert entry.title == "宜蘭縣殯葬設施一覽表"
    assert entry.description == "目前宜蘭縣提供宜蘭縣殯葬設施一覽表"
    assert entry.agency == Agency(code=f"yilan-{digest[:10]}", name="民政處")
    assert entry.category == ""
    assert entry.update_frequency == ""
    assert entry.fields == ()
    assert entry.tags == ()
    assert entry.formats == ()


def test_read_catalog_yilan_agencies(yilan: CatalogImport) -> None:
    names = {agency.name for agency in yilan.agencies}
    assert len(yilan.agencies) == 21
    assert {"環保局", "地方稅務局", "社會處", "民政處"} <= names
    for agency in yilan.agencies:
        assert re.fullmatch(r"yilan-[0-9a-f]{10}", agency.code)


def test_read_catalog_yilan_no_contacts(yilan: CatalogImport) -> None:
    table = read_table(demo_file(YILAN))
    phones = {value for value in table.column("聯絡電話") if value is not None}
    for entry in yilan.entries:
        for text in _texts(entry):
            assert text not in phones
            assert "○" not in text


def test_read_catalog_broken_taoyuan_problems() -> None:
    result = read_catalog(FIXTURES / "taoyuan_broken.csv")
    assert result.problems == [
        RowProblem(3, "資料名稱", "missing dataset title"),
        RowProblem(
            4,
            "資料集提供機關",
            "providing agency has no agency code, expected the form "
            "380120000J 【社會局】",
        ),
        RowProblem(5, None, "duplicate of row 2, every catalog field is the same"),
        RowProblem(6, "資料名稱", "missing dataset title"),
        RowProblem(6, "資料集提供機關", "missing providing agency"),
    ]
    assert [entry.row for entry in result.entries] == [2, 7]
    assert result.agencies == [
        Agency(code="380110000G", name="工務局"),
        Agency(code="380190000A", name="交通局"),
    ]


def test_read_catalog_broken_taoyuan_contacts_removed() -> None:
    result = read_catalog(FIXTURES / "taoyuan_broken.csv")
    parking, parks = result.entries
    assert parking.description == "公有停車場位置與收費，洽詢電話 [contact removed]"
    assert parking.fields == ("停車場名稱", "地址", "電話")
    assert parking.formats == ("CSV", "JSON")
    assert parking.category == "交通及通訊"
    assert parks.tags == ("公園",)
    for entry in result.entries:
        text = repr(dataclasses.astuple(entry))
        assert "example.org" not in text
        assert "○" not in text
        assert "03-000000" not in text


def test_read_catalog_broken_yilan_problems() -> None:
    result = read_catalog(FIXTURES / "yilan_broken.big5.csv")
    assert result.problems == [
        RowProblem(3, "資料來源", "missing providing department"),
        RowProblem(4, "資料集名稱", "missing dataset title"),
    ]
    assert [entry.title for entry in result.entries] == [
        "宜蘭縣公有市場一覽表",
        "宜蘭縣公園一覽表",
    ]
    # Both departments are 建設處, with and without a section.
    assert len(result.agencies) == 1
    assert result.agencies[0].name == "建設處"


def test_read_catalog_unknown_layout() -> None:
    with pytest.raises(ValidationError, match="unknown catalog layout") as caught:
        read_catalog(FIXTURES / "unknown_layout.csv")
    message = str(caught.value)
    assert "unknown_layout.csv" in message
    assert "名稱, 說明, 網址" in message
    assert "資料名稱, 資料集提供機關, 資料集描述" in message
    assert "資料集名稱, 資料來源, 資料說明" in message
    assert caught.value.reason == "unknown-layout"


def test_read_catalog_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.txt"
    path.write_text("資料集名稱,資料來源,資料說明\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="unsupported file type"):
        read_catalog(path)


@pytest.mark.parametrize(
    "number",
    [
        "(03)925-1000",
        "03-3322101#6307",
        "0800-033-355",
        "010-12345678",
        "0912-345-678",
        "13812345678",
    ],
)
def test_phone_pattern_matches(number: str) -> None:
    assert PHONE.fullmatch(number)


@pytest.mark.parametrize(
    "text",
    [
        "20160101-20170202",
        "府青公字第1060231164號",
        "2017-10-03 10:09:36",
        "121.286898",
    ],
)
def test_phone_pattern_skips_dates_and_ids(text: str) -> None:
    assert not PHONE.search(text)
