"""How figures, tables and reports look, for the CLI and the TUI alike
(`format`: one figure; `cost`: cost summaries as tables, JSON and CSV;
`report`: the measured report and the workload plans). It computes nothing,
and imports only the core (and Rich).
The TUI's exit summary is read from the package (`render.one_screen_summary`): it
loads when the app ends, not before its first frame (see core/lazy.py).
"""

from assistant.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {"one_screen_summary": "cost"})
