"""Edits a model proposes to files: parsed from its text, planned in memory,
reviewed as a diff, applied atomically with byte fidelity, committed with git.

- `types`: the typed edits and errors every part shares;
- `parse`: model text → edits (pure);
- `plan`: edits + current file texts → new file texts, all or nothing (pure);
- `files`: safe paths, faithful reading and atomic writing;
- `vcs`: git snapshot / commit with provenance / undo (GitPython), or backups outside git;
- `checks`: the project's lint and test commands, run on a scratch copy with the edit applied.

The workflow that asks a model for an edit and applies it is above this package,
in core/workflows/refactor.py: editing files needs no session, a session pins files.

Other packages read these names from the package (`edits.Workspace`): the
modules load when first used (see core/lazy.py).
"""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {
    "cleanup_pending": "files", "cleanup_scratch": "checks", "read_file": "files",
    "Workspace": "vcs",
})  # fmt: skip
