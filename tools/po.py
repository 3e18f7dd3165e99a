"""Keep `content/locales/<lang>/LC_MESSAGES/messages.po` in step with the code and templates.

python tools/po.py                      # extract, then merge into every catalog
python tools/po.py --fill ru new.json   # then set translations from {"msgid": "msgstr"}; a
                                        # plural message: its singular id and a list of forms
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "content" / "locales" / "messages.pot"


def fill(locale: str, source: Path) -> None:
    from babel.messages.pofile import read_po, write_po

    po = ROOT / "content" / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    for msgid, msgstr in json.loads(source.read_text(encoding="utf-8")).items():
        if msgid not in catalog:
            print(f"not in the catalog (run without --fill first): {msgid[:60]!r}")
            continue
        # a plural message: a list of the locale's forms (ru: one, few, many)
        catalog[msgid].string = tuple(msgstr) if isinstance(msgstr, list) else msgstr
        catalog[msgid].flags.discard("fuzzy")
    with po.open("wb") as fh:
        write_po(fh, catalog, width=100)


def main() -> int:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "tr._",
            "-k",
            "n_:1,2",  # tr.n_(singular, plural, n) and csvio's n_(singular, plural)
            "--no-location",
            "--omit-header",
            "--sort-output",
            "-o",
            str(POT),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    for po in sorted((ROOT / "content" / "locales").glob("*/LC_MESSAGES/messages.po")):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "update",
                "-i",
                str(POT),
                "-o",
                str(po),
                "-l",
                po.parent.parent.name,
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            ],
            cwd=ROOT,
            check=True,
        )
    if len(sys.argv) == 4 and sys.argv[1] == "--fill":
        fill(sys.argv[2], Path(sys.argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
