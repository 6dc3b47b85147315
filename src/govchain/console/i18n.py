"""Message catalogs of the console: Simplified Chinese (default) and English.

Each area keeps its messages in `messages/<area>.toml` beside this module. A
message is a table with one string per language, so both translations of a
key sit on one line:

```toml
[catalog]
title = { zh-CN = "数据目录", en = "Catalog" }
```

Nested tables give dotted keys (`catalog.title`). Values are `str.format`
templates: `{count}` is filled from the keyword arguments of `translate`.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from govchain.errors import ConfigError

logger = logging.getLogger(__name__)

#: Languages the console is translated into, the default first.
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = LANGUAGES[0]
#: Wraps a key that no catalog defines, so a missing translation shows on the page.
MISSING_MARK = "\u27e6{}\u27e7"


@dataclass
class Catalogs:
    """Every message of every area, by dotted key and then by language."""

    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, folder: Path | None = None) -> Catalogs:
        """Read every `*.toml` catalog in `folder` (the packaged one by default).

        Raises `ConfigError` naming the file and key when a message lacks a
        language or a key is defined twice.
        """
        root = folder or Path(str(files("govchain.console").joinpath("messages")))
        catalogs = cls()
        for path in sorted(root.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text("utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(
                    f"message catalog {path} is unreadable: {exc}", path=str(path)
                ) from exc
            catalogs._add(path, "", data)
        return catalogs

    def _add(self, path: Path, prefix: str, table: dict[str, Any]) -> None:
        for name, value in table.items():
            key = f"{prefix}{name}"
            if not isinstance(value, dict):
                raise ConfigError(
                    f"message catalog {path}: key {key!r} must be a table of "
                    f"languages {list(LANGUAGES)}",
                    path=str(path),
                )
            if any(lang in value for lang in LANGUAGES):
                self._add_message(path, key, value)
            else:
                self._add(path, f"{key}.", value)

    def _add_message(self, path: Path, key: str, value: dict[str, Any]) -> None:
        missing = [lang for lang in LANGUAGES if not isinstance(value.get(lang), str)]
        if missing:
            raise ConfigError(
                f"message catalog {path}: key {key!r} has no text for {missing}",
                path=str(path),
            )
        if key in self.messages:
            raise ConfigError(
                f"message catalog {path}: key {key!r} is defined twice; keys of an "
                "area start with the area's name",
                path=str(path),
            )
        self.messages[key] = {lang: str(value[lang]) for lang in LANGUAGES}

    def translate(self, lang: str, key: str, /, **values: Any) -> str:
        """Return message `key` in `lang`, filled with `values`.

        A key no catalog defines comes back marked (see `MISSING_MARK`) and is
        logged once, so the page still renders and the gap is visible.
        """
        entry = self.messages.get(key)
        if entry is None:
            if key not in self._reported:
                self._reported.add(key)
                logger.warning("console message %s is in no catalog", key)
            return MISSING_MARK.format(key)
        text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            logger.warning("console message %s does not fit its values", key)
            return text

    def has(self, key: str) -> bool:
        return key in self.messages


def pick_language(value: str | None) -> str:
    """Return `value` when it is a console language, else the default."""
    return value if value in LANGUAGES else DEFAULT_LANGUAGE
