"""The processes a launcher starts together (`accelerate launch`: the harness and the trainers on several devices)."""

from __future__ import annotations

import sys


def end_process_group() -> None:
    """Ends the process group this process belongs to, where it has one (nothing otherwise, torch unloaded included).

    The commands a launcher runs call it once their work is done: left to the interpreter's exit, gloo's threads can
    outlive it and abort the process (SIGABRT, "terminate called without an active exception"), which fails the whole
    launch; torch asks for `destroy_process_group` before exit. Not on a failure: while the others wait in a collective
    operation, ending a NCCL group can hang instead of letting the failure reach the launcher."""
    torch = sys.modules.get("torch")  # a process that never loaded torch has no group
    if torch is not None and torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
