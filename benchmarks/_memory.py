"""Peak resident memory of a piece of work, for the benchmark scripts in this folder.

The metric: the growth of the process's resident-set high-water mark (VmHWM in
/proc/self/status) while ``work`` runs, after VmHWM has been reset to the current resident set
(write 5 to /proc/self/clear_refs, Linux >= 4.0). Run it in a fresh process per measurement, so
that what earlier measurements allocated and freed cannot hide or inflate it.

Limits: it sees only memory the process touched, at page granularity (4 KiB), and only the
peak; it cannot tell a temporary from a tensor that stays. Where /proc is missing the mark is
``ru_maxrss``, which cannot be reset, so the growth reads 0 unless the work sets a new peak for
the whole process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import resource
import subprocess
import sys
from collections.abc import Callable
from typing import Any


def peak_rss_kib() -> int:
    """The resident-set high-water mark (VmHWM) in KiB; ru_maxrss where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def fix_mmap_threshold(threshold: int = 128 * 1024) -> bool:
    """Serve every allocation >= ``threshold`` bytes by its own mmap (glibc ``mallopt``).

    glibc raises this threshold on its own after a large block is freed; from then on large
    tensors come from the heap, where freed blocks stay resident and fragment, so the resident
    peak depends on the order of earlier allocations. Fixed, a tensor is resident exactly while
    it lives, and the peak is the most bytes alive at once. Returns False where it is not glibc.
    """
    libc = _libc()
    m_mmap_threshold = -3  # from glibc's malloc.h
    try:
        return libc is not None and bool(libc.mallopt(m_mmap_threshold, threshold))
    except AttributeError:
        return False


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system (glibc ``malloc_trim(0)``).

    Without it, memory that earlier work freed stays resident, and ``work`` reuses it without
    raising the high-water mark: a 4 MB tensor allocated into it would count as 0 bytes.
    """
    libc = _libc()
    try:
        return libc is not None and bool(libc.malloc_trim(0))
    except AttributeError:
        return False


def peak_growth_bytes(work: Callable[[], Any], *, trim: bool = False) -> int:
    """Bytes by which the resident-set high-water mark grows while ``work()`` runs.

    The mark is reset first, so the peak of what ran before (importing torch, compiling,
    building the inputs) does not hide the peak of ``work``. With ``trim``, the heap's free
    pages are released first (:func:`release_free_memory`), so that everything ``work``
    allocates counts, not only what exceeds the memory freed before it.
    """
    if trim:
        release_free_memory()
    reset_peak_rss()
    before = peak_rss_kib()
    work()
    return (peak_rss_kib() - before) * 1024


def run_child(script: str, spec: dict[str, Any]) -> int:
    """Run ``python script --child JSON(spec)`` in a fresh interpreter; its last line, an int."""
    out = subprocess.run(
        [sys.executable, script, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1])
