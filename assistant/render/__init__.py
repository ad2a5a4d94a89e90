"""How figures, tables and reports look, for the CLI and the TUI alike
(`format`: one figure; `cost`: cost summaries as tables, JSON and CSV;
`report`: the measured report and the workload plans). It computes nothing,
and imports only the core (and Rich).
"""
