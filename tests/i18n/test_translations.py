"""Every user-facing template string is translatable and the zh-hans catalogue is complete."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
PO_FILE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"

# Words that are the same in every language (brand, units, symbols).
ALLOWED_LITERALS = {"Doorstep", "DPD", "CSV", "XLSX", "API", "ID", "PTP", "SHA-256", "OK", "¥", "km", "%"}
USER_FACING_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "label")
_TAG = re.compile(r"<[^>]*>", re.S)
_ATTRIBUTE = re.compile(r"\b(" + "|".join(USER_FACING_ATTRIBUTES) + r')="([^"{]*)"')
_WORD = re.compile(r"[A-Za-z\u4e00-\u9fff][A-Za-z\u4e00-\u9fff'\u2019\-]*")
_SKIP_BLOCKS = re.compile(r"<(script|style)\b.*?</\1>", re.S)


def _templates():
    for directory in TEMPLATE_DIRS:
        yield from sorted(directory.rglob("*.html"))


_TRANSLATED_BLOCK = re.compile(r"{%\s*(blocktranslate|blocktrans|comment)\b.*?{%\s*end\1\s*%}|{#.*?#}", re.S)
_TEMPLATE_SYNTAX = re.compile(r"{%.*?%}|{{.*?}}", re.S)


def _untranslated(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    text = _TRANSLATED_BLOCK.sub("§", text)
    text = _TEMPLATE_SYNTAX.sub("§", text)
    text = _SKIP_BLOCKS.sub(" ", text)
    found = [f"{path.name}: {attr}={value!r}" for attr, value in _ATTRIBUTE.findall(text) if _has_words(value)]
    plain = _TAG.sub(" ", text)
    found += [f"{path.name}: {line.strip()!r}" for line in plain.splitlines() if _has_words(line)]
    return found


def _has_words(text: str) -> bool:
    return any(word not in ALLOWED_LITERALS for word in _WORD.findall(text.replace("&nbsp;", " ")))


TEMPLATES = list(_templates())


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(ROOT)) for p in TEMPLATES])
def test_template_has_no_untranslated_literal_text(path):
    assert _untranslated(path) == []


def test_checker_catches_a_literal():
    tmp = ROOT / "var" / "i18n_probe.html"
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_text('{% load i18n %}<p>Hello there</p><input placeholder="Search">{% translate "Fine" %}')
    try:
        assert len(_untranslated(tmp)) == 2
    finally:
        tmp.unlink()


def _po_entries(text: str):
    """(msgid, msgstr, flags) for every entry in a .po file."""
    entries, flags, msgid, msgstr, field = [], "", None, None, None
    for line in [*text.splitlines(), ""]:
        if line.startswith("#,"):
            flags = line
        elif line.startswith("msgid "):
            msgid, field = line[6:].strip('"'), "id"
        elif line.startswith("msgid_plural"):
            field = "plural"
        elif line.startswith("msgstr"):
            value = line.split(" ", 1)[1].strip('"')
            msgstr = value if msgstr is None else msgstr + value
            field = "str"
        elif line.startswith('"') and field:
            value = line.strip('"')
            if field == "id":
                msgid += value
            elif field == "str":
                msgstr += value
        elif not line.strip() and msgid is not None:
            entries.append((msgid, msgstr or "", flags))
            flags, msgid, msgstr, field = "", None, None, None
    return entries


def test_zh_hans_catalogue_is_complete_and_has_no_fuzzy_entries():
    assert PO_FILE.exists(), "locale/zh_Hans/LC_MESSAGES/django.po is missing"
    problems = [
        msgid
        for msgid, msgstr, flags in _po_entries(PO_FILE.read_text(encoding="utf-8"))
        if msgid and (not msgstr or "fuzzy" in flags)
    ]
    assert problems == []
