"""`assistant bench`: how fast each backend answers on this machine. It drives
backends directly (no session, no router), so it sits above them, beside the
workflows, and apart from the accounting that reads its stored results.

- `cases`: the fixed prompts (short or long × short or long answer); the long
  prompt's code is a data file, `assistant/data/benchmark_code.txt`;
- `measure`: runs the cases on each backend and makes a `BenchResult` of each.

The machine's identity the results are stored under is `core/hardware.py`'s.
"""
