"""Timing shared by the benchmark scripts (imported from the script's own folder, bench/)."""

from __future__ import annotations

import time


def timed(fn, runs: int) -> tuple[float, list[float]]:
    """The first (cold) call, then ``runs`` warm calls, in milliseconds."""
    started = time.perf_counter()
    fn()  # cold: connections, template compilation, caches filled on first use
    cold = (time.perf_counter() - started) * 1000
    result = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        result.append((time.perf_counter() - started) * 1000)
    return cold, result
