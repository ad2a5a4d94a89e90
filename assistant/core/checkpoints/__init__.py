"""Checkpoints: the project's files before (and after) each turn that may change
them, kept outside the user's history, and putting them back.

- `snapshots`: the private object store and index per project (`Snapshots.take`,
  what differs between two checkpoints, pruning);
- `restore`: what a restore would do (the user's own changes kept), doing it
  journalled so that a killed process loses nothing, and finishing it after.
"""

from assistant.core.checkpoints.restore import Kept, Plan, Restored, Step, finish_interrupted, interrupted, plan, restore
from assistant.core.checkpoints.snapshots import CheckpointError, Difference, Entry, Snapshots

__all__ = ["CheckpointError", "Difference", "Entry", "Kept", "Plan", "Restored", "Snapshots", "Step",
           "finish_interrupted", "interrupted", "plan", "restore"]  # fmt: skip
