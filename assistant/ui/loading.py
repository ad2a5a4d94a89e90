"""Backends made ready off the UI thread, each step posted to the app: the backend
in charge loaded with a progress bar (or the one `/model` chose, which replaces
it only once loaded), and the others checked and their token counters readied,
after the files of an edit (or of a rewind) a killed run left behind are settled.
The welcome's plan (where each kind of turn goes, and which ready models' quality
is not measured yet, with what measuring it takes) is read here too, off the UI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from textual.message import Message

from assistant.core import edits
from assistant.core.edits.types import EditError
from assistant.core.evals.unmeasured import unmeasured
from assistant.core.paths import Paths
from assistant.core.session.plan import RoutePlan, route_plan
from assistant.core.session.turns import nothing_can_answer
from assistant.ui.messages import BackendsChecked, LoadFinished, LoadProgressed, Note

if TYPE_CHECKING:
    from assistant.core.backends.protocol import Backend
    from assistant.core.session.chat import ChatSession

log = logging.getLogger(__name__)

Post = Callable[[Message], object]  # the app's `post_message`: safe from any thread


def load(session: ChatSession, candidate: Backend | None, post: Post, quitting: threading.Event) -> None:
    """Load the session's backend, or `candidate`; a load stops when the app quits."""
    backend = candidate or session.backend  # created here, off the UI thread
    if backend.loaded:
        post(LoadFinished(backend.model_name, None, candidate=candidate, quiet=True))
        return
    reported = 0

    def progress(fraction: float) -> bool:
        nonlocal reported
        percent = int(fraction * 100)
        if percent != reported:
            reported = percent
            post(LoadProgressed(fraction))
        return not quitting.is_set()

    post(LoadProgressed(0.0))
    try:
        backend.load(progress)
    except Exception as exc:  # BackendUnavailable, or anything a plugin raises
        post(LoadFinished(backend.model_name, None, error=str(exc), candidate=candidate))
        return
    post(LoadFinished(backend.model_name, getattr(backend, "load_seconds", None), candidate=candidate))


def warm(session: ChatSession, post: Post) -> None:
    """Make the other candidates ready (a remote client costs no network), and say
    what to configure when nothing at all can answer."""
    edits.cleanup_pending(session.project_root)  # temp files of an edit a crash interrupted
    edits.cleanup_scratch(Paths.resolve())  # and the scratch copies of its checks
    _settle_interrupted_edit(session, post)
    _finish_interrupted_rewind(session, post)
    # The session's own backend is being loaded by `load` (with a progress bar);
    # checking it here waits for that load and hears how it went.
    checked = session.check_backends()
    missing = {name: why for name, _, why in checked if why}
    if missing and len(missing) == len(checked):
        post(Note(nothing_can_answer(missing), error=True))
    ready = [name for name, _, why in checked if not why]
    plan = _route_plan(session, ready) if ready else RoutePlan()
    post(BackendsChecked(checked, bool(missing) and len(missing) < len(checked), plan))
    try:
        session.warm_counters()  # or the first turn waits for the tokenizers
    except Exception:  # noqa: BLE001 - a plugin's counter: the turn will say what is wrong
        log.warning("could not ready the token counters", exc_info=True)


def _route_plan(session: ChatSession, ready: list[str]) -> RoutePlan:
    """Where each kind of turn goes now, and which of the `ready` backends' models have
    no measured quality, for the welcome; what cannot be told is left out."""
    try:
        plan = route_plan(session)
    except Exception:  # noqa: BLE001 - a plugin's router or backend: the first turn will say what is wrong
        log.warning("could not tell where turns will go", exc_info=True)
        plan = RoutePlan()
    try:
        return replace(plan, unmeasured=unmeasured(session, ready))
    except Exception:  # noqa: BLE001 - a plugin's backend or token counter: an evaluation will say what is wrong
        log.warning("could not tell which models' quality is measured", exc_info=True)
        return plan


def _settle_interrupted_edit(session: ChatSession, post: Post) -> None:
    """An edit a killed run wrote but did not commit is finished (so /undo reaches
    it) or taken back now, not filed later as the user's own work."""
    try:
        settled = edits.Workspace(session.project_root).settle_interrupted()
    except EditError as exc:  # a rebase under way, a read-only repository: the next edit says so
        log.warning("an interrupted edit is left for later: %s", exc)
        return
    if settled:  # a note, not a toast: it says what became of the user's files
        post(Note(settled))


def _finish_interrupted_rewind(session: ChatSession, post: Post) -> None:
    """A rewind a killed run left half done is finished (or said to have changed
    nothing) before anything else touches the files (core/session/rewind.py)."""
    try:
        said = session.rewinds.finish_interrupted()
    except OSError as exc:  # the checkpoints' folder cannot be read: the next rewind says so
        log.warning("an interrupted rewind is left for later: %s", exc)
        return
    if said:  # a note, as for an edit: it says what became of the user's files
        post(Note(said))
