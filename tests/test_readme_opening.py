"""The README as a newcomer reads it: what the app is comes first, then the two
commands, then what compiling them takes; and it sends no one to a file outside
this repository (the analysis the app was planned from is not shipped)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_says_what_the_app_is_before_how_to_install_it() -> None:
    text = README.read_text()
    opening = text[: text.index("\n## ")]
    said_what, commands, compiling = (opening.find(s) for s in ("terminal coding assistant", "```sh", "compile"))
    assert -1 < said_what < commands < compiling, "what it is, then the commands, then the compile note"


def test_the_readme_points_at_no_file_outside_the_repository() -> None:
    assert re.findall(r"\.\./[\w./-]+", README.read_text()) == []
