"""Where config, data and logs live. `ASSISTANT_HOME` moves all of them under one directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "assistant"
HOME_ENV = "ASSISTANT_HOME"
LEDGER_FILE = "ledger.sqlite3"  # turns, sessions, benchmarks: see core/store/ledger.py


@dataclass(frozen=True, slots=True)
class Paths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def ledger_file(self) -> Path:
        return self.data_dir / LEDGER_FILE

    @property
    def log_file(self) -> Path:
        return self.log_dir / "assistant.log"

    def project_folder(self, kind: str, root: Path) -> Path:
        """What the app keeps about the project at `root` (saved rules, checkpoints):
        under the data folder, named by a hash of the project's real path, never in the
        project itself, where a repository someone else wrote could plant it."""
        import hashlib  # OpenSSL's, ~10 ms: not on the way to the first frame

        real = os.path.realpath(root)
        return self.data_dir / kind / hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:20]

    @classmethod
    def resolve(cls) -> Paths:
        home = os.environ.get(HOME_ENV)
        if home:
            root = Path(home).expanduser()
            return cls(root / "config", root / "data", root / "logs")
        import platformdirs

        return cls(
            Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )
