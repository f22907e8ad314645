"""Work per recorded equation while tracing, counted in Python function entries (not time): a
training step records about 100 equations each time a program is traced (every sl.ml.fit
call traces two), and each entry costs about 0.1 us."""

import numpy as np
import pytest

import slopes.numpy as snp
from calls import calls_during
from slopes.core.staging import trace_program


def chain(x):
    for _ in range(50):
        x = snp.sin(x) * 2.0
    return [x]


@pytest.mark.parametrize("n, most", [(3, 10), (10000, 16)])  # computed while tracing; recorded unevaluated
def test_python_calls_per_recorded_equation(n, most):
    x = np.ones(n)
    trace_program(chain, [x], values=False)  # first-call work (dtype probes) out of the count
    base, _ = calls_during(lambda: trace_program(lambda v: [v], [x], values=False), events=("call",))
    calls, (prog, _) = calls_during(lambda: trace_program(chain, [x], values=False), events=("call",))
    assert len(prog.equations) == 100
    # 12.5 and 19 before: NamedTuple._replace (two calls) and an Equation built twice per record
    assert (calls - base) / len(prog.equations) <= most
