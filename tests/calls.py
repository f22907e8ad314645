"""Function entries during one call, counted with ``sys.setprofile`` (shared by the overhead tests)."""

import sys


def calls_during(fn, *args):
    """``(Python and builtin functions entered while fn(*args) runs, its result)``: work, not time."""
    count = [0]

    def profile(frame, event, arg):
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(profile)
    try:
        out = fn(*args)
    finally:
        sys.setprofile(None)
    return count[0], out
