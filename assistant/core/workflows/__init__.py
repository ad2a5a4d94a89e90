"""What drives a session to do a task: refactor-this-file today (a routed model turn,
its edit parsed, checked, reviewed and applied). The top layer of core: a workflow
uses the session, the edits and the store; nothing below uses a workflow.

Other packages read these names from the package (`workflows.Refactorer`): the
modules load when first used (see core/lazy.py).
"""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {"Refactorer": "refactor"})
