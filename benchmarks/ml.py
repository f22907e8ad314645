"""slopes.ml estimators side by side with scikit-learn: fit time, ratio and test accuracy.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/ml.py            # median of 7 repeats, each >= 0.2 s
    OPENBLAS_NUM_THREADS=1 python benchmarks/ml.py --quick    # 3 repeats, each >= 0.05 s

Rows:

- logreg   ``LogisticRegression(solver="newton").fit`` on standardized breast_cancer (train split
           of ``train_test_split(test_size=0.25, seed=0, stratify=True)``) vs scikit-learn's
           ``LogisticRegression(C=1.0)`` (lbfgs, its default) on the same data. Target: ratio <= 1.

Add a row by appending a :class:`Bench` to the list :func:`rows` returns (e.g. an MLP epoch).
Timing reuses ``benchmarks/speed.py``'s interleaved timeit-style helpers. Not part of the tests.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import fmt_time, print_table, time_interleaved  # noqa: E402

import slopes.ml as ml  # noqa: E402


@dataclass
class Contender:
    """``fit()`` is the timed call; ``score()`` (after a fit) gives the accuracy printed."""

    name: str
    fit: Callable[[], object]
    score: Callable[[], float] | None = None


@dataclass
class Bench:
    key: str
    title: str
    contenders: list[Contender]
    reference: str  # the contender the ratios divide by
    target: float | None = None  # slopes' time / reference time must be <= target
    notes: list[str] = field(default_factory=list)


def breast_cancer_split():
    d = ml.datasets.load("breast_cancer")
    X_tr, X_te, y_tr, y_te = ml.train_test_split(d.X, d.y, test_size=0.25, seed=0, stratify=True)
    sc = ml.Standardizer().fit(X_tr)
    return sc.transform(X_tr), sc.transform(X_te), y_tr, y_te


def logreg_row() -> Bench:
    X_tr, X_te, y_tr, y_te = breast_cancer_split()
    ours = ml.LogisticRegression(C=1.0, solver="newton")
    contenders = [Contender("slopes newton", lambda: ours.fit(X_tr, y_tr), lambda: ours.score(X_te, y_te))]
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        return Bench("logreg", "LogisticRegression.fit, breast_cancer 426 x 30", contenders, "slopes newton",
                     notes=["scikit-learn not installed: no ratio"])  # fmt: skip
    peer = LogisticRegression(C=1.0)
    contenders.append(
        Contender("sklearn lbfgs", lambda: peer.fit(X_tr, y_tr), lambda: peer.score(X_te, y_te))
    )
    return Bench("logreg", "LogisticRegression.fit, breast_cancer 426 x 30", contenders, "sklearn lbfgs", 1.0)


def rows() -> list[Bench]:
    """The benchmark rows; append more (e.g. an MLP epoch row) here."""
    return [logreg_row()]


def run(benches: list[Bench], repeats: int, min_time: float) -> bool:
    ok = True
    table = []
    for b in benches:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a peer's convergence chatter is not the point here
            times = time_interleaved({c.name: c.fit for c in b.contenders}, repeats, min_time)
        ref = times[b.reference][0] if b.reference in times else None
        for c in b.contenders:
            sec = times[c.name][0]
            ratio = sec / ref if ref else float("nan")
            acc = f"{c.score():.4f}" if c.score else "-"
            verdict = ""
            if b.target is not None and c.name != b.reference:
                passed = ratio <= b.target
                ok &= passed
                verdict = f"{'PASS' if passed else 'MISS'} (target <= {b.target:g})"
            table.append([b.key, c.name, fmt_time(sec), f"{ratio:.2f}", acc, verdict])
        table.extend([b.key, "", "", "", "", note] for note in b.notes)
    print_table(["row", "contender", "time/fit", "ratio", "test acc", "target"], table)
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats of >= 0.05 s (default 7 of >= 0.2 s)")
    args = ap.parse_args(argv)
    min_time, repeats = (0.05, 3) if args.quick else (0.2, 7)
    print(f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, repeats={repeats}")
    return 0 if run(rows(), repeats, min_time) else 1


if __name__ == "__main__":
    sys.exit(main())
