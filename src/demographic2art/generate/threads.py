"""The number of torch intra-op threads a generation process uses.

torch starts one intra-op thread per core it sees, which can be more than the CPUs this
process may run on (an affinity mask from ``taskset`` or a container's cpuset). Threads
beyond those CPUs wait for each other at every operator's barrier, so generation slows
far more than the CPU share explains when other processes load the machine. The default
here is the size of the affinity mask (``os.sched_getaffinity``), capped by the cgroup
CPU quota where one is set. ``D2A_TORCH_THREADS`` or an explicit value overrides it.

The larger cost on a loaded machine is OpenMP's default wait policy: idle intra-op
threads spin at each barrier and take CPU time from the thread that still has work.
Measured on a 2-core machine at load average 8 to 10, a 4-step tiny-model job took
5.5 to 9.9 s with 2 threads and 0.26 s with 1 thread; with ``OMP_WAIT_POLICY=PASSIVE``
it took 0.26 s with 2 threads and 0.19 s with 1. :func:`prefer_passive_openmp` sets
that policy, which libgomp reads once when torch is first imported, so ``d2a serve``
and ``d2a generate`` call it before importing torch. Notebooks set
``OMP_WAIT_POLICY=PASSIVE`` in the environment before ``import torch``.
"""

from __future__ import annotations

import logging
import math
import os

from ..errors import InvalidValueError

logger = logging.getLogger(__name__)

THREADS_ENV = "D2A_TORCH_THREADS"
WAIT_POLICY_ENV = "OMP_WAIT_POLICY"
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def prefer_passive_openmp() -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets a policy.

    Return whether the policy now applies: False when torch was imported before this
    call, because the OpenMP runtime read its settings at that import.
    """
    import sys

    os.environ.setdefault(WAIT_POLICY_ENV, "PASSIVE")
    if "torch" in sys.modules:
        logger.debug("torch is already imported, so %s=%s may not apply", WAIT_POLICY_ENV, os.environ[WAIT_POLICY_ENV])
        return False
    return True


def available_cpus() -> int:
    """Return the CPUs this process may use: its affinity mask, capped by a cgroup v2 quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # sched_getaffinity exists on Linux only
        cpus = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


def _cgroup_cpu_quota() -> float | None:
    """Return the cgroup v2 CPU quota in CPUs (``cpu.max``), or None when unlimited or unknown."""
    try:
        with open(CGROUP_CPU_MAX, encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max":
        return None
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None


def torch_threads(threads: int | None = None) -> int:
    """Return the intra-op thread count to use: ``threads``, else ``D2A_TORCH_THREADS``, else the available CPUs.

    Raise :class:`InvalidValueError` for a count below 1 or an environment value that
    is not a whole number.
    """
    if threads is None:
        raw = os.environ.get(THREADS_ENV, "").strip()
        if raw:
            try:
                threads = int(raw)
            except ValueError:
                raise InvalidValueError(f"{THREADS_ENV}={raw!r} is not a whole number; set it to 1 or more, or unset it") from None
            if threads < 1:
                raise InvalidValueError(f"{THREADS_ENV}={raw!r} is invalid; set it to 1 or more, or unset it")
    if threads is None:
        return available_cpus()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InvalidValueError(f"torch thread count {threads!r} is invalid; use a whole number of 1 or more")
    return threads


def set_torch_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads for the calling thread's work (see :func:`torch_threads`) and return the count.

    Call it in the thread that runs the pipeline: OpenMP keeps the thread count per
    calling thread, so a count set in another thread may not apply.
    """
    import torch

    count = torch_threads(threads)
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    logger.info("torch uses %d intra-op thread(s)", count)
    return count
