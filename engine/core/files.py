"""Files written so that a crash never leaves half of one, into folders checked before the work that fills them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from engine.core.errors import UserError

# the process's umask, read once as the module loads (reading it means setting it: done later, another thread's files made
# in between would take the momentary 0)
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes a file only its owner can read: the file is given the mode a plain open() gives (0666 less the
        # umask), so a record written into a shared store is as readable as one written any other way
        os.chmod(handle, 0o666 & ~_UMASK)
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def writable_folder(path: str | Path, option: str = "--out") -> Path:
    """`path` (given as `option`) as the folder outputs go to, checked before any work: an existing folder that can be
    written to, or a new one whose nearest existing parent is such a folder (made when the outputs are saved);
    UserError otherwise. Absolute: a manifest that lists its files by path leads to them from anywhere."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{option} {path} is a file, not a folder: name a folder for the outputs")
    parent = folder
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"{option} {path}: {parent} is a file, not a folder: name a folder for the outputs")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"{option} {path}: {parent} cannot be written to: name a folder you can write to")
    return folder.resolve()
