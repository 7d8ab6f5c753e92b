"""The English catalogue: current with the code, fully translated, and compiled as committed."""

import gettext
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "gettext_lazy": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def catalogue():
    with PO.open("rb") as stream:
        return read_po(stream)


def test_every_msgid_of_the_code_is_in_the_catalogue():
    """What babel.cfg maps (our Python and Jinja2 templates) has an entry: `make messages` ran."""
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    in_code = {
        message[2] if isinstance(message[2], str) else tuple(message[2])
        for message in extract_from_dir(ROOT, method_map, options_map, keywords=KEYWORDS)
    }
    in_po = {m.id for m in catalogue() if m.id}

    assert sorted(map(str, in_code - in_po)) == [], "run `make messages` and translate"


def test_every_msgid_is_translated_with_the_same_placeholders():
    for message in catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        got = set().union(*(PLACEHOLDER.findall(s) for s in strings))
        # A singular form may leave the count out ("Vence amanhã" / "Expires tomorrow").
        assert got <= wanted and set(PLACEHOLDER.findall(strings[-1])) == wanted, message.id


def test_the_compiled_catalogue_is_current_with_the_po():
    with MO.open("rb") as stream:
        compiled = gettext.GNUTranslations(stream)._catalog
    expected = {}
    for message in catalogue():
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            for index, string in enumerate(message.string):
                expected[(message.id[0], index)] = string
        else:
            expected[message.id] = message.string
    compiled.pop("", None)

    assert compiled == expected, "run `make messages` (msgfmt) and commit django.mo"
