"""What core/hardware.py says of this machine: the identity benchmark results are stored under."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.core import hardware
from assistant.core.hardware import machine_identity


def test_machine_identity_names_host_cpu_cores_memory_and_gpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(hardware.shutil, "which", lambda name: None)
    machine_identity.cache_clear()
    try:
        parts = machine_identity().split(" · ")
        assert len(parts) == 5 and re.fullmatch(r"\d+ cores", parts[2]) and parts[3].endswith("GiB")
        assert parts[4] == "no GPU"
        smi = tmp_path / "nvidia-smi"
        smi.write_text("#!/bin/sh\necho 'NVIDIA H200'\necho 'NVIDIA H200'\n")
        smi.chmod(0o755)
        monkeypatch.setattr(hardware.shutil, "which", lambda name: str(smi))
        machine_identity.cache_clear()
        assert machine_identity().endswith(" · 2× NVIDIA H200")
    finally:
        machine_identity.cache_clear()
