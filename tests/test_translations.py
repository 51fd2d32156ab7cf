"""The console speaks Simplified Chinese by default: every message the code and the templates
mark for translation has a zh-Hans translation (found the way Django finds it, across the
project's and the apps' catalogues). Extraction is Babel's on Django's own `templatize`, so no
GNU gettext is needed."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

from babel.messages.extract import extract_python
from django.utils import translation
from django.utils.translation.template import templatize

SRC = Path(__file__).resolve().parent.parent / "src" / "siyu"
SIMPLE = {"_", "gettext", "gettext_lazy", "gettext_noop"}
PLURAL = {"ngettext", "ngettext_lazy"}
CONTEXT = {"pgettext", "pgettext_lazy"}
CONTEXT_PLURAL = {"npgettext", "npgettext_lazy"}
KEYWORDS = dict.fromkeys(SIMPLE | PLURAL | CONTEXT | CONTEXT_PLURAL)
# Names of WeCom's own fields, the same in the Chinese console.
UNTRANSLATED = {"App", "UnionID", "AgentId", "EncodingAESKey"}


def shown_in_chinese(path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, message id, what a zh-Hans reader sees) for each marked message of a file."""
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        # templatize keeps the template's layout; Babel's tokenizer wants no indentation.
        source = "\n".join(line.strip() for line in templatize(source, origin=str(path)).splitlines())
    for lineno, funcname, args, _comments in extract_python(io.BytesIO(source.encode()), KEYWORDS, [], {}):
        args = args if isinstance(args, tuple) else (args,)
        literals = 3 if funcname in CONTEXT_PLURAL else 2 if funcname in CONTEXT | PLURAL else 1
        if not all(isinstance(a, str) for a in args[:literals]):
            continue  # a variable, not a literal message
        if funcname in CONTEXT_PLURAL:
            yield lineno, args[1], translation.npgettext(args[0], args[1], args[2], 1)
        elif funcname in CONTEXT:
            yield lineno, args[1], translation.pgettext(args[0], args[1])
        elif funcname in PLURAL:
            yield lineno, args[0], translation.ngettext(args[0], args[1], 1)
        elif args[0]:
            yield lineno, args[0], translation.gettext(args[0])


def test_every_marked_message_reads_in_chinese():
    files = sorted(p for p in SRC.rglob("*") if p.suffix in {".py", ".html"} and "migrations" not in p.parts)
    missing, checked = [], 0
    with translation.override("zh-hans"):
        for path in files:
            for lineno, message, shown in shown_in_chinese(path):
                checked += 1
                if shown == message and message not in UNTRANSLATED and re.search("[A-Za-z]{2,}", message):
                    missing.append(f"{path.relative_to(SRC)}:{lineno}: {message!r}")
    assert len(files) > 100 and checked > 1000
    assert not missing, f"{len(missing)} messages without a zh-Hans translation:\n" + "\n".join(missing)


def test_no_english_word_reads_differently_in_two_catalogues():
    """Django merges every app's catalogue into one: a msgid translated two ways shows whichever
    app comes first, on every page (the transfers page's 转出 / 转入 on the analytics dates).
    A word with two meanings needs `pgettext`; one meaning needs one translation."""
    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, list[str]]] = {}
    for po in sorted(SRC.rglob("locale/zh_Hans/LC_MESSAGES/django.po")):
        with po.open("rb") as handle:
            for message in read_po(handle):
                if message.id and not message.context and isinstance(message.id, str) and message.string:
                    seen.setdefault(message.id, {}).setdefault(str(message.string), []).append(
                        str(po.relative_to(SRC).parts[0]))
    collisions = {msgid: shown for msgid, shown in seen.items() if len(shown) > 1}
    assert not collisions, "translated two ways; give each use a context:\n" + "\n".join(
        f"{msgid!r}: {shown}" for msgid, shown in sorted(collisions.items()))
