"""Message catalogs: both languages for every key, and every key a template uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from govchain.console._web import TEMPLATES
from govchain.console.i18n import LANGUAGES, MISSING_MARK, Catalogs, pick_language
from govchain.errors import ConfigError

#: `t("key")` calls whose key is a literal; keys built from values are left out.
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_][a-z0-9_.-]*)["']\s*[,)]""")


def test_catalogs_load_every_language() -> None:
    catalogs = Catalogs.load()
    assert catalogs.messages
    for key, texts in catalogs.messages.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key


def test_templates_use_known_keys() -> None:
    catalogs = Catalogs.load()
    missing = []
    used = set()
    for path in sorted(TEMPLATES.rglob("*.html")):
        for key in LITERAL_KEY.findall(path.read_text("utf-8")):
            used.add(key)
            if not catalogs.has(key):
                missing.append(f"{path.relative_to(TEMPLATES)}: {key}")
    assert missing == []
    assert len(used) > 100, "the pattern no longer finds the templates' keys"


def test_translate_fills_values() -> None:
    catalogs = Catalogs.load()
    assert catalogs.translate("en", "login.throttled", minutes=3) == (
        "Too many failed logins; try again in 3 minute(s)."
    )
    assert "3" in catalogs.translate("zh-CN", "login.throttled", minutes=3)


def test_translate_marks_missing_key() -> None:
    catalogs = Catalogs.load()
    assert catalogs.translate("en", "no.such.key") == MISSING_MARK.format("no.such.key")


def test_catalog_without_language_rejected(tmp_path: Path) -> None:
    (tmp_path / "area.toml").write_text('[area]\ntitle = { en = "Title" }\n', "utf-8")
    with pytest.raises(ConfigError, match="has no text for"):
        Catalogs.load(tmp_path)


def test_catalog_key_twice_rejected(tmp_path: Path) -> None:
    line = 'x = { zh-CN = "甲", en = "A" }\n'
    (tmp_path / "a.toml").write_text("[area]\n" + line, "utf-8")
    (tmp_path / "b.toml").write_text("[area]\n" + line, "utf-8")
    with pytest.raises(ConfigError, match="defined twice"):
        Catalogs.load(tmp_path)


def test_pick_language_defaults_to_chinese() -> None:
    assert pick_language(None) == "zh-CN"
    assert pick_language("fr") == "zh-CN"
    assert pick_language("en") == "en"
