"""How much memory this process may still take: the smallest of what the machine has available, what its
address space may grow to (`ulimit -v`, RLIMIT_AS), and what its cgroup allows (a container's `memory.max`).

Physical memory alone says yes to a plan that a container, a batch system's limit or a busy machine then kills.
Each figure is read from the kernel when asked; one that cannot be read (another system) is left out.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
# (limit, usage) files of cgroup v2 and of v1's memory controller
CGROUP_FILES = (("memory.max", "memory.current"), ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"))


def usable_bytes() -> int:
    """The memory this process may still allocate, in bytes (see the module's docstring)."""
    return min(limit for limit in (available(), address_space_left(), cgroup_left()) if limit is not None)


def available() -> int:
    """The machine's available memory (MemAvailable: free, and reclaimable caches), else its physical memory."""
    found = _kernel_figure(Path("/proc/meminfo"), "MemAvailable")
    return found if found is not None else os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def address_space_left() -> int | None:
    """What RLIMIT_AS leaves beyond the address space this process already maps (VmSize); None without a limit."""
    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        return None
    return max(0, limit - (_kernel_figure(Path("/proc/self/status"), "VmSize") or 0))


def _kernel_figure(path: Path, name: str) -> int | None:
    """A `NAME:  N kB` line of a /proc file, in bytes; None where it cannot be read."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cgroup_left(root: Path = CGROUP) -> int | None:
    """What this process's cgroup still allows, limit less usage; None without a limit."""
    for limit_file, usage_file in CGROUP_FILES:
        try:
            text = (root / limit_file).read_text().strip()
            usage = int((root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        # v2 writes "max" for no limit, v1 a number near 2**63
        if text == "max" or not text.isdigit() or int(text) >= 2**60:
            return None
        return max(0, int(text) - usage)
    return None
