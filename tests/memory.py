"""Peak memory of one call, measured with tracemalloc (shared by the memory tests)."""

import gc
import tracemalloc


def peak_bytes(fn):
    """``(peak bytes allocated while fn() runs, its result)``, above what was held before."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        return tracemalloc.get_traced_memory()[1] - base, out
    finally:
        tracemalloc.stop()
