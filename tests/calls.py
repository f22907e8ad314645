"""Function entries during one call, counted with ``sys.setprofile`` (shared by the overhead tests)."""

import sys


def calls_during(fn, *args, events=("call", "c_call"), code=None):
    """``(functions entered while fn(*args) runs, its result)``: work, not time.

    ``events``: ``"call"`` counts Python functions, ``"c_call"`` builtin ones (both by default).
    ``code``: count only the entries of the Python function with this code object.
    """
    count = [0]

    def profile(frame, event, arg):
        if event in events and (code is None or frame.f_code is code):
            count[0] += 1

    sys.setprofile(profile)
    try:
        out = fn(*args)
    finally:
        sys.setprofile(None)
    return count[0], out
