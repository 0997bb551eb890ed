"""The processes a launcher starts together (`accelerate launch`: the harness and the trainers on several devices), and
a command's stderr kept to what it says itself."""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The native libraries' own log lines, written straight to the process's stderr whatever Python's logging is set to:
# mediapipe's absl and TensorFlow Lite ("W0000 00:00:1796401599.866007    3594 inference_feedback_manager.cc:114] ...",
# "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", "INFO: Created TensorFlow
# Lite XNNPACK delegate for CPU."): six or so on every run of a command, mixed in with its own one-line messages
NATIVE_LOG_LINE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w./-]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|INFO: Created TensorFlow Lite )"
)


def end_process_group() -> None:
    """Ends the process group this process belongs to, where it has one (nothing otherwise, torch unloaded included).

    The commands a launcher runs call it once their work is done: left to the interpreter's exit, gloo's threads can
    outlive it and abort the process (SIGABRT, "terminate called without an active exception"), which fails the whole
    launch; torch asks for `destroy_process_group` before exit. Not on a failure: while the others wait in a collective
    operation, ending a NCCL group can hang instead of letting the failure reach the launcher."""
    torch = sys.modules.get("torch")  # a process that never loaded torch has no group
    if torch is not None and torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


@contextmanager
def native_logs_left_out() -> Iterator[None]:
    """Within it, the process's stderr (file descriptor 2, which native libraries write to) passes through a pipe whose
    reader drops NATIVE_LOG_LINE lines and passes every other line on as it comes, in order; after it, stderr is as
    before."""
    sys.stderr.flush()
    kept = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def forward() -> None:
        with os.fdopen(read, "rb") as lines:
            for line in lines:
                if not NATIVE_LOG_LINE.match(line):
                    os.write(kept, line)

    reader = threading.Thread(target=forward, name="stderr-filter", daemon=True)
    reader.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(kept, 2)  # closes the pipe's last write end: the reader reads to its end and stops
        reader.join(timeout=10)
        os.close(kept)
