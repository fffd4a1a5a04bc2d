"""Every user-facing template string is translatable and the zh-hans catalogue is complete."""

import os
import re
import shutil
import subprocess
import sys
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
_WORD = re.compile(r"[A-Za-z\u4e00-\u9fff][A-Za-z0-9\u4e00-\u9fff'\u2019\-]*")
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


# --- the catalogue's content ------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%%|%[sdif]|\{\w*\}")


def _catalogue():
    polib = pytest.importorskip("polib")
    return polib, polib.pofile(str(PO_FILE))


def test_zh_hans_translations_keep_every_placeholder():
    _polib, po = _catalogue()
    wrong = []
    for entry in po.translated_entries():
        translations = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        expected = sorted(set(_PLACEHOLDER.findall(entry.msgid_plural or entry.msgid)))
        wrong += [(entry.msgid, text) for text in translations if sorted(set(_PLACEHOLDER.findall(text))) != expected]
    assert wrong == []


def test_zh_hans_plural_forms_have_the_one_chinese_form():
    _polib, po = _catalogue()
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert not po.metadata_is_fuzzy, "a fuzzy header drops Plural-Forms from the .mo"
    plurals = [entry for entry in po if entry.msgid_plural]
    assert plurals and all(list(entry.msgstr_plural) == [0] for entry in plurals)


_HAN = "\u4e00-\u9fff"
# An ASCII comma, colon, "!" or "?" touching a Chinese character; in a Chinese text any ASCII semicolon or a
# full stop ending a sentence: Chinese sentences take the full-width marks.
_ASCII_MARK_TOUCHING_HAN = re.compile(rf"[{_HAN}] ?[,;:!?]|[,;:] ?[{_HAN}]")
_ASCII_SENTENCE_MARK = re.compile(r";|\.(\s|$)")


def _english_marks_in_chinese(text: str) -> bool:
    chinese = re.search(f"[{_HAN}]", text)
    return bool(chinese and (_ASCII_MARK_TOUCHING_HAN.search(text) or _ASCII_SENTENCE_MARK.search(text)))


def test_zh_hans_sentences_use_chinese_punctuation():
    _polib, po = _catalogue()
    wrong = [
        text
        for entry in po.translated_entries()
        for text in (entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr])
        if _english_marks_in_chinese(text)
    ]
    assert wrong == []


def test_the_punctuation_check_catches_english_marks_in_chinese():
    assert _english_marks_in_chinese("已联系上,无困难")
    assert _english_marks_in_chinese("出发点 08:00.")
    assert _english_marks_in_chinese("AUC %(n)s, 低于")
    assert _english_marks_in_chinese("格式为 YYYY-MM-DD;dpd 是")
    assert not _english_marks_in_chinese("已联系上\uff0c无困难。出发时间 08:00\uff0c运行 manage.py risk_train。")
    assert not _english_marks_in_chinese("Reached, no difficulty.")


def test_the_committed_mo_matches_the_po():
    polib, po = _catalogue()
    mo_file = PO_FILE.with_suffix(".mo")
    assert mo_file.exists(), "run `make messages` and commit the .mo"
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in polib.mofile(str(mo_file))}
    source = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in po.translated_entries()}
    assert {key: value for key, value in source.items() if compiled.get(key) != value} == {}


@pytest.mark.skipif(not shutil.which("xgettext") and not os.environ.get("CI"), reason="needs Debian's gettext")
def test_every_translatable_string_in_the_code_is_in_the_catalogue(tmp_path):
    """A string wrapped for translation after the last `make makemessages` would show in English."""
    polib, po = _catalogue()
    for name in (
        "manage.py",
        "config",
        "collections_app",
        "credentials",
        "visits",
        "repayment",
        "evidence",
        "quality",
        "voice",
        "dashboard",
        "risk",
        "templates",
        "static",
        "locale",
    ):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("vendor", "__pycache__", "*.mo"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "-v", "0"],
        cwd=tmp_path,
        check=True,
        env={**os.environ, "DEBUG": "true", "DOORSTEP_VAR_DIR": str(tmp_path / "var")},
    )
    extracted = polib.pofile(str(tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {(e.msgctxt, e.msgid) for e in po if not e.obsolete}
    new = sorted(e.msgid for e in extracted if not e.obsolete and (e.msgctxt, e.msgid) not in known)
    assert new == [], "run `make makemessages`, translate the new entries, then `make messages`"
