"""``sweep``: one training run per configuration, serially or on any executor, as a table.

Hyperparameter searches are embarrassingly parallel: the runs share nothing but the
training function. Each run gets its own seed, spawned from one root before anything is
dispatched, so the table is the same whichever executor ran it (see :mod:`slopes.executors`).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping

import numpy as np

from ..executors import run_tasks, spawn_seeds

__all__ = ["sweep", "Sweep"]


class Sweep:
    """What :func:`sweep` returns: one record per configuration, in the order given.

    Each record is a dict ``{"config": dict, "seed": int, "result": ...}``. The sweep
    reads as a sequence of records; ``configs``, ``seeds`` and ``results`` are the
    columns; :meth:`best` picks a record, :meth:`to_pandas` makes a DataFrame.

    Examples
    --------
    >>> s = Sweep([{"config": {"lr": 0.1}, "seed": 1, "result": 0.5},
    ...            {"config": {"lr": 0.01}, "seed": 2, "result": 0.25}])
    >>> len(s), s.best()["config"], s.results
    (2, {'lr': 0.01}, [0.5, 0.25])
    """

    def __init__(self, records):
        self.records = list(records)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, i):
        return self.records[i]

    @property
    def configs(self) -> list:
        return [r["config"] for r in self.records]

    @property
    def seeds(self) -> list:
        return [r["seed"] for r in self.records]

    @property
    def results(self) -> list:
        return [r["result"] for r in self.records]

    def best(self, key=None, mode: str = "min") -> dict:
        """The record whose result scores best (NaN counts as worst; ties go to the earlier one).

        Parameters
        ----------
        key : None, str or callable
            How to score a result: None uses the result itself (a number); a string reads
            ``result[key]`` from a mapping or ``result.key`` from an object (a
            :class:`~slopes.ml.TrainResult`, a :class:`~slopes.optim.Result`); a callable
            is called with the result.
        mode : {'min', 'max'}
            Lowest or highest score wins.

        Examples
        --------
        >>> s = Sweep([{"config": {"c": 1}, "seed": 0, "result": {"acc": 0.8}},
        ...            {"config": {"c": 2}, "seed": 0, "result": {"acc": 0.9}}])
        >>> s.best("acc", mode="max")["config"]
        {'c': 2}
        """
        if mode not in ("min", "max"):
            raise ValueError(f"Sweep.best(): mode must be 'min' or 'max' (got {mode!r})")
        if not self.records:
            raise ValueError("Sweep.best(): the sweep has no records")
        sign = 1.0 if mode == "min" else -1.0
        scores = [_score(r["result"], key) for r in self.records]
        i = min(range(len(scores)), key=lambda i: (math.isnan(scores[i]), sign * scores[i], i))
        return self.records[i]

    def to_pandas(self):
        """A ``pandas.DataFrame``: one row per run; the config's keys, ``seed``, and the result.

        A mapping result spreads its scalar entries over columns of their own; any other
        result is one ``result`` column.

        Examples
        --------
        >>> s = Sweep([{"config": {"lr": 0.1}, "seed": 7, "result": {"loss": 0.5}}])
        >>> s.to_pandas().columns.tolist()
        ['lr', 'seed', 'loss']
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Sweep.to_pandas() needs pandas (pip install pandas); "
                              "the same rows are in Sweep.records") from None
        rows = []
        for r in self.records:
            row = {**r["config"], "seed": r["seed"]}
            res = r["result"]
            if isinstance(res, Mapping):
                row.update({k: v for k, v in res.items() if np.ndim(v) == 0})
            else:
                row["result"] = res
            rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return f"Sweep(runs={len(self)}, configs={self.configs[:3]}{'...' if len(self) > 3 else ''})"


def _score(result, key) -> float:
    if key is None:
        value = result
    elif callable(key):
        value = key(result)
    elif isinstance(result, Mapping):
        if key not in result:
            raise KeyError(f"Sweep.best(): a result has no entry {key!r}; it has {sorted(result)}")
        value = result[key]
    elif hasattr(result, key):
        value = getattr(result, key)
    else:
        raise AttributeError(f"Sweep.best(): a result ({type(result).__name__}) has no attribute {key!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"Sweep.best(): the score must be a number, got {type(value).__name__}; "
                        "pass key= naming a number in the result, or a function of the result") from None


def sweep(train_fn, configs, *, executor=None, seed=None) -> Sweep:
    """Call ``train_fn(**config, seed=s)`` for every config, serially or on an executor.

    Parameters
    ----------
    train_fn : callable
        ``train_fn(**config, seed=s) -> result``: it must take every key of the configs as
        a keyword, and ``seed``, and draw all its randomness from ``seed`` (pass it on as
        ``sl.ml.fit(..., seed=seed)``, ``np.random.default_rng(seed)``, ``random_state=seed``).
        Then the same call gives the same result wherever it runs. With a
        ``ProcessPoolExecutor`` it is pickled: a module-level function always works, a
        lambda or closure when ``cloudpickle`` is installed.
    configs : list of dict, or dict of lists
        The runs' keyword arguments; a dict of lists is the grid of every combination
        (``{"lr": [0.1, 0.01], "wd": [0, 1e-4]}`` gives 4 configs, the last key varying fastest).
    executor : concurrent.futures.Executor or None
        Where the runs go (see :mod:`slopes.executors`); None runs them one after another.
    seed : None, int or np.random.SeedSequence
        Root of the runs' seeds: run ``i`` gets the int
        ``SeedSequence(seed).spawn(n)[i].generate_state(1)[0]`` (in ``[0, 2**32)``, which
        every library accepts); fixed before any run is dispatched, so every executor gives
        the same results.

    Returns
    -------
    Sweep
        Records ``{"config", "seed", "result"}`` in config order; ``best(key=...)``,
        ``to_pandas()``.

    Raises
    ------
    ValueError
        No configs, a config that is not a dict, or a config with a ``seed`` key.
    TypeError
        An executor without ``submit``.

    Examples
    --------
    >>> import slopes as sl
    >>> def train(lr, steps, seed):
    ...     rng = np.random.default_rng(seed)
    ...     w = rng.normal()
    ...     for _ in range(steps):
    ...         w -= lr * 2 * (w - 3.0)
    ...     return {"loss": (w - 3.0) ** 2}
    >>> s = sl.ml.sweep(train, {"lr": [0.01, 0.1, 0.4], "steps": [20]}, seed=0)
    >>> len(s), s.best("loss")["config"]
    (3, {'lr': 0.4, 'steps': 20})
    """
    who = "sweep()"
    configs = _expand(configs, who)
    seeds = [int(s.generate_state(1)[0]) for s in spawn_seeds(seed, len(configs), who)]
    results = run_tasks(functools.partial(_one_run, train_fn), zip(configs, seeds), executor, who)
    return Sweep({"config": c, "seed": s, "result": r} for c, s, r in zip(configs, seeds, results))


def _expand(configs, who) -> list[dict]:
    if isinstance(configs, Mapping):
        keys = list(configs)
        grid = [v if isinstance(v, list | tuple | np.ndarray) else [v] for v in configs.values()]
        configs = [dict(zip(keys, combo)) for combo in itertools.product(*grid)]
    else:
        configs = list(configs)
    if not configs:
        raise ValueError(f"{who}: no configs to run; give a list of dicts or a dict of lists")
    for i, c in enumerate(configs):
        if not isinstance(c, Mapping):
            raise ValueError(f"{who}: config {i} is {type(c).__name__}, not a dict of keyword "
                             "arguments for train_fn")
        if "seed" in c:
            raise ValueError(f"{who}: config {i} has a 'seed' key; the seed of each run is spawned "
                             "from sweep(seed=...) and passed as train_fn(..., seed=)")
    return [dict(c) for c in configs]


def _one_run(train_fn, config, seed):
    return train_fn(**config, seed=seed)
