"""A HiGHS model that prints nothing.

HiGHS writes its banner ("Running HiGHS ...") on the process's stdout when the first
model is built, before any option can turn output off; after that `output_flag`
False keeps it quiet. So the first model of the process is built with stdout pointed
at /dev/null (and C's buffer flushed there), and every model gets `output_flag` False.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

import highspy

_banner_lock = threading.Lock()
_banner_swallowed = False


def swallow_banner() -> None:
    """Build one throwaway model with file descriptor 1 on /dev/null (once per process).

    Call it before other threads write to stdout (the demo does, before its live table).
    """
    global _banner_swallowed
    with _banner_lock:
        if _banner_swallowed:
            return
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                highspy.Highs()  # type: ignore[no-untyped-call]
                ctypes.CDLL(None).fflush(None)  # the banner sits in C's stdout buffer
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_swallowed = True


def silent_highs() -> highspy.Highs:
    """A new HiGHS model with its console output off (banner included)."""
    swallow_banner()
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("log_to_console", False)
    return highs
