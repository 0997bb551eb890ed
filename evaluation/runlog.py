"""A resumable benchmark run: its configuration and every scored row, appended as JSON lines as it is produced.

The run folder holds `run.json` (the configuration) and one `rows-{process}.jsonl` per process (a
file per writer, so processes never interleave their lines). A rerun with the same configuration
reads every rows file and skips what is there; a different configuration is refused, naming what
differs. A last line cut short by a kill is left out (its row is produced again).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import IO

from engine.core.errors import InputError
from engine.core.files import atomic_write_text

logger = logging.getLogger(__name__)

RUN_FILE = "run.json"

RowKey = tuple[str, float]  # (input name, target age)


def row_key(row: dict) -> RowKey:
    return (str(row["input"]), float(row["target"]))


class RunLog:
    def __init__(self, folder: Path, process_index: int):
        self.folder = Path(folder)
        self.path = self.folder / f"rows-{process_index}.jsonl"
        self._handle: IO[str] | None = None

    @classmethod
    def open(cls, folder: Path, config: dict, process_index: int = 0) -> RunLog:
        """The run in `folder`, created with `config` or resumed when it was made with the same one."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / RUN_FILE
        config = json.loads(json.dumps(config))  # as it reads back (tuples become lists)
        if path.is_file():
            existing = json.loads(path.read_text())
            if existing != config:
                keys = sorted(set(existing) | set(config))
                differ = [
                    f"{k}: {existing.get(k)!r} in the run, {config.get(k)!r} now"
                    for k in keys
                    if existing.get(k) != config.get(k)
                ]
                raise InputError(
                    f"{folder} holds a run with another configuration ({'; '.join(differ)}): its rows cannot be mixed "
                    "with these; rerun with its settings to resume it, or choose another --run-dir"
                )
        else:
            atomic_write_text(path, json.dumps(config, indent=1, sort_keys=True))
        return cls(folder, process_index)

    def done(self) -> dict[RowKey, dict]:
        """Every row already written by any process of this run, by (input, target)."""
        rows: dict[RowKey, dict] = {}
        for path in sorted(self.folder.glob("rows-*.jsonl")):
            lines = path.read_text().splitlines()
            for number, line in enumerate(lines, start=1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    if number == len(lines):  # cut short by a kill while it was written
                        logger.warning("%s: last line is incomplete; its row is produced again", path.name)
                        continue
                    raise InputError(f"{path}: line {number} is not a JSON row; the run folder is damaged") from None
                rows.setdefault(row_key(row), row)
        return rows

    def append(self, row: dict) -> None:
        """Write one row now (flushed), so that a kill after it loses nothing."""
        if self._handle is None:
            if self.path.is_file():  # a last line cut short by a kill is dropped (done() left it out)
                content = self.path.read_bytes()
                if content and not content.endswith(b"\n"):
                    with self.path.open("r+b") as existing:
                        existing.truncate(content.rfind(b"\n") + 1)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(row) + "\n")
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
