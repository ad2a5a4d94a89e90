"""What the model is asked when it edits a file. Compact on purpose: a
135M-parameter local model reads these too, and every line costs it attention.

The format taught here is the one `parse` reads; the rules are restated by
`plan.retry_message` when an answer does not apply, so they live here once.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from assistant.core.conversation import Message

SEARCH_REPLACE_RULES = """\
- Copy the SEARCH lines exactly from the file: whole lines, same indentation.
- Each SEARCH must match exactly one place; add a nearby line to make it unique.
- Keep blocks small: the lines that change and a line or two around them.
- An empty REPLACE deletes the lines. An empty SEARCH creates a new file.
- Keep the file's style. No explanation is needed."""

WHOLE_FILE_RULES = """\
- Write the complete file, every line, not only the changed part; never "..." for unchanged code.
- Keep the file's style. No explanation is needed."""

EDIT_SYSTEM_PROMPT = f"""\
You edit files. Answer with SEARCH/REPLACE blocks, each written like this:

path/of/the/file
<<<<<<< SEARCH
lines copied exactly from the file
=======
the lines to put in their place
>>>>>>> REPLACE

Example, renaming `name` to `who` in greet.py:

greet.py
<<<<<<< SEARCH
    name = "world"
    print("hello", name)
=======
    who = "world"
    print("hello", who)
>>>>>>> REPLACE

Rules:
{SEARCH_REPLACE_RULES}
"""

WHOLE_FILE_SYSTEM_PROMPT = f"""\
You edit files. Answer with the file's path on its own line, then its whole new content in a fenced block:

greet.py
```python
def greet(who):
    print("hello", who)
```

Rules:
{WHOLE_FILE_RULES}
"""

# A language tag helps a small model read the fenced file; unknown kinds get none.
_LANGUAGES = {
    ".py": "python", ".js": "javascript", ".ts": "typescript", ".rs": "rust", ".go": "go",
    ".c": "c", ".h": "c", ".cpp": "cpp", ".java": "java", ".rb": "ruby", ".sh": "bash",
    ".md": "markdown", ".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml",
    ".html": "html", ".css": "css", ".sql": "sql",
}


_PLAIN_NAME = re.compile(r"[\w.\-/]+")


def edit_system_prompt(*, whole_file: bool) -> str:
    return WHOLE_FILE_SYSTEM_PROMPT if whole_file else EDIT_SYSTEM_PROMPT


def refactor_prompt(path: str, content: str, instruction: str, *, whole_file: bool) -> list[Message]:
    """The messages asking the model to change one file as the user instructed."""
    fence = fence_for(content)
    language = _LANGUAGES.get(PurePosixPath(path.replace("\\", "/")).suffix.lower(), "")
    body = content if content.endswith("\n") or not content else content + "\n"
    answer = "the whole new file" if whole_file else "SEARCH/REPLACE blocks"
    user = (
        f"{path}\n{fence}{language}\n{body}{fence}\n\n"
        f"{instruction.strip()}\n\nAnswer with {answer} for {path}.{_name_hint(path)}"
    )
    return [Message("system", edit_system_prompt(whole_file=whole_file)), Message("user", user)]


def _name_hint(path: str) -> str:
    """For a name with spaces or brackets, which a model tends to "fix": the parser
    knows this name, so it only has to be repeated as it is."""
    if _PLAIN_NAME.fullmatch(path):
        return ""
    return f"\nWrite the file's path exactly as given, on its own line: {path}"


def fence_for(content: str) -> str:
    """A backtick fence longer than any backtick run starting a line of `content`,
    so a Markdown file's own fences cannot close it early."""
    longest = 0
    for line in content.splitlines():
        stripped = line.lstrip()
        run = len(stripped) - len(stripped.lstrip("`"))
        longest = max(longest, run)
    return "`" * max(3, longest + 1)
