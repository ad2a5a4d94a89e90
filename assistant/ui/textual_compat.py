"""The one place that names Textual's private API.

The UI needs a few things Textual offers no public way to do. Each is here, with
what it relies on, why we need it, and what breaks if Textual changes it. Most are
hooks Textual calls by name on a subclass (`OVERRIDDEN`): `_size_updated` is
overridden here (`LaidOutOnce`), while `_fatal_error`, `_on_key` and `_on_paste`
have to be overridden on the class itself (AssistantApp, PromptInput), where
Textual looks for them; those overrides stay thin. The private attributes the UI
reads or calls (`USED`) are reached only through the functions below.

pyproject.toml bounds `textual` below its next major; tests/ui/test_textual_compat.py
checks every name here (and each signature we call) against the installed release,
and that no other module of the UI touches a private part of Textual, so a new
release that renames one fails there, by name, not in a person's terminal.
(Toad does the same with its one patch, `_textual_key_patch.py`.)
"""

from __future__ import annotations

import sys

from textual.app import App
from textual.geometry import Size
from textual.message_pump import MessagePump
from textual.widget import Widget
from textual.widgets import TextArea

#: Hooks Textual calls by name, overridden on our classes: (Textual's class, name).
#: - `App._fatal_error()`: what `App._handle_exception` calls to end the app on an
#:   error nothing handled (one without `__rich__`; such a one goes to `panic`).
#:   AssistantApp says one line and logs the traceback instead of printing it with
#:   its locals. Renamed, ours is never called: a person gets Textual's traceback
#:   again (tests/ui/test_input_robustness.py checks the one line).
#: - `TextArea._on_key(event)` and `TextArea._on_paste(event)`: Textual's dispatch calls
#:   each class's `_on_<event>` (else its `on_<event>`) down the class's MRO, and
#:   `event.prevent_default()` stops it before TextArea's own, which inserts the key or
#:   the paste. Textual's TextArea guide names `_on_key` as the hook for key presses.
#:   PromptInput takes Enter, the newline keys, Tab and the history keys, and keeps a
#:   long paste aside. Renamed in TextArea, ours would run and then TextArea's too:
#:   Enter would send and insert a newline, a megabyte paste would land in full.
#: - `Widget._size_updated(...)`: see `LaidOutOnce` below.
OVERRIDDEN: tuple[tuple[type, str], ...] = (
    (App, "_fatal_error"),
    (TextArea, "_on_key"),
    (TextArea, "_on_paste"),
    (Widget, "_size_updated"),
)

#: Private attributes read or called here (not overridden): (Textual's class, name).
USED: tuple[tuple[type, str], ...] = (
    (App, "_exception"),
    (MessagePump, "_close_messages_no_wait"),
)


def unhandled_error(app: App) -> BaseException | None:
    """The error the app is ending on, for its `_fatal_error` hook.

    Textual calls the hook from its exception handler, so `sys.exc_info()` holds
    the error there; where it does not (the hook called after the `except` block),
    `App._exception`, where `_handle_exception` keeps the first unhandled error
    (and which `run_test` raises again), has it. Renamed, this returns the
    `sys.exc_info()` error only, and None outside an `except` block: the one line
    then says `None` instead of what went wrong."""
    return sys.exc_info()[1] or app._exception


def close_app_now(app: App) -> None:
    """End `app` at once, as Textual's own `_fatal_error` does after an unhandled error.

    `MessagePump._close_messages_no_wait` puts a close request on the app's message
    queue without waiting; `App.exit` would post a message behind those already
    queued, any of which may raise again in an app that is already broken. Renamed,
    the hook raises `AttributeError` where it should end the app."""
    app._close_messages_no_wait()


class LaidOutOnce(Widget):
    """A widget whose change of size costs one layout of the screen, not two.

    Textual lays the screen out, then calls each resized widget's `_size_updated`,
    which sets its `virtual_size`, a reactive that asks for a layout again: a second
    full layout and repaint of the screen, with nothing left to move. While an
    answer streams the transcript and the answer grow by a line every few frames,
    and each frame is CPU taken from the model's threads (bench/tui_local.py). So
    the size is set here with `layout=False`, which Textual's own signature offers
    (it sets the reactive without the request); the layout that measured the size
    has already placed everything, and scrollbars are updated all the same.

    Renamed or its `layout` parameter gone, the override is never called (or
    raises `TypeError`): every growth of the answer costs two layouts again
    (tests/ui/test_rendered.py counts them).
    """

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)
