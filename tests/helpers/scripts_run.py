"""The service as the README starts it: `scripts/run` in a process of its own, on free ports,
with a data directory of its own, and that directory opened in-process afterwards. The process
handling is benchmarks.service's, which the benchmarks start their services with: one way to run
the service in a process, used by both."""

from __future__ import annotations

from pathlib import Path

from benchmarks.service import ProcessService
from ledger.config import REPO_ROOT, Settings
from ledger.service import Ledger

RUN_SCRIPT = REPO_ROOT / "scripts" / "run"


class Service(ProcessService):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, [str(RUN_SCRIPT)])

    def ledger(self) -> Ledger:
        """The same data directory opened in-process, as the next run of the service would."""
        return Ledger(Settings(data_dir=self.data_dir, anvil_port=self.anvil_port)).start()
