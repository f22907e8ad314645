"""Several HMC chains over an executor, and the multi-chain diagnostics (split-R-hat, bulk ESS)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.signal import lfilter

import slopes as sl
import slopes.numpy as snp
from slopes.sampling import diagnostics

MEAN = np.array([1.0, -2.0])
STARTS = np.array([[-3.0, 0.0], [3.0, -4.0], [0.0, 2.0], [4.0, -6.0]])


def gaussian_logp(x):
    return -0.5 * snp.sum(((x - MEAN) / np.array([1.0, 0.5])) ** 2)


def chains(executor, seed=21):
    return sl.sampling.hmc_chains(gaussian_logp, STARTS, n_samples=200, n_warmup=50, n_steps=5,
                                  step_size=0.3, executor=executor, seed=seed)


def ar1(phi, shape, seed):
    """AR(1) chains along axis 1, started in the stationary distribution."""
    e = np.random.default_rng(seed).standard_normal(shape)
    e[:, 0] /= np.sqrt(1 - phi**2)
    return lfilter([1.0], [1.0, -phi], e, axis=1)


def test_chains_are_shaped_and_sample_the_target():
    r = chains(None)
    assert r.samples.shape == (4, 200, 2) and r.log_prob.shape == (4, 200)
    assert r.acceptance_rate.shape == r.n_divergent.shape == (4,)
    pooled = r.samples.reshape(-1, 2)
    se = pooled.std(0) / np.sqrt(r.ess)
    assert np.all(np.abs(pooled.mean(0) - MEAN) < 5 * se)
    assert np.all(r.rhat < 1.05) and np.all(r.ess > 200)
    assert np.allclose(r.log_prob, [[float(gaussian_logp(x)) for x in c] for c in r.samples])


def test_each_chain_is_hmc_with_its_spawned_seed():
    r = chains(None)
    seeds = np.random.SeedSequence(21).spawn(4)
    one = sl.sampling.hmc(gaussian_logp, STARTS[2], n_samples=200, n_warmup=50, n_steps=5,
                          step_size=0.3, seed=seeds[2])
    assert np.array_equal(r.samples[2], one.samples) and r.step_size[2] == one.step_size
    assert not np.array_equal(r.samples[0], r.samples[1])


def test_thread_and_process_pools_match_serial_bit_for_bit(process_pool):
    serial = chains(None)
    with ThreadPoolExecutor(2) as pool:
        threaded = chains(pool)
    processes = chains(process_pool)
    for other in (threaded, processes):
        assert np.array_equal(serial.samples, other.samples)
        assert np.array_equal(serial.log_prob, other.log_prob)
        assert np.array_equal(serial.rhat, other.rhat) and np.array_equal(serial.ess, other.ess)


def test_hmc_chains_refuses_bad_input():
    with pytest.raises(ValueError, match="one start per chain"):
        sl.sampling.hmc_chains(gaussian_logp, np.zeros((0, 2)), n_samples=10)
    with pytest.raises(TypeError, match="x0s and one seed"):
        sl.sampling.hmc_chains(gaussian_logp, STARTS, n_samples=10, **{"x0": STARTS[0]})
    with pytest.raises(TypeError, match="submit"):
        sl.sampling.hmc_chains(gaussian_logp, STARTS, n_samples=10, executor=4)


# --- diagnostics: closed forms --------------------------------------------------------


def test_iid_chains_have_rhat_one_and_ess_n():
    x = np.random.default_rng(0).standard_normal((4, 2000, 3))
    assert np.all(np.abs(diagnostics.rhat(x) - 1.0) < 0.01)
    assert np.all(np.abs(diagnostics.rhat(x, method="split") - 1.0) < 0.01)
    # the ESS of n iid draws is n; the estimator's relative sd is a few percent here
    assert np.all(np.abs(diagnostics.ess(x) / 8000 - 1.0) < 0.1)
    assert np.all(np.abs(diagnostics.ess(x, method="mean") / 8000 - 1.0) < 0.1)


def test_chains_around_different_means_have_large_rhat():
    x = np.random.default_rng(1).standard_normal((4, 1000)) + np.array([0.0, 0.0, 2.0, 2.0])[:, None]
    # closed form: split in 8 half-chains with means 0 (4) and 2 (4): B/n -> their sample
    # variance 8/7, W -> 1, so R-hat -> sqrt(1 + 8/7) = 1.46
    assert diagnostics.rhat(x, method="split") == pytest.approx(np.sqrt(1 + 8 / 7), abs=0.03)
    assert diagnostics.rhat(x) > 1.4


def test_rank_rhat_sees_chains_that_differ_only_in_scale():
    x = np.random.default_rng(2).standard_normal((4, 2000)) * np.array([1.0, 1.0, 3.0, 3.0])[:, None]
    assert abs(diagnostics.rhat(x, method="split") - 1.0) < 0.01  # same mean: the classic one misses it
    assert diagnostics.rhat(x) > 1.1  # the folded (tail) part catches it


@pytest.mark.parametrize("phi", [0.5, 0.8])
def test_ess_of_ar1_chains_matches_the_closed_form(phi):
    x = ar1(phi, (4, 5000), seed=3)
    expected = x.size * (1 - phi) / (1 + phi)
    assert diagnostics.ess(x[..., None], method="mean")[0] == pytest.approx(expected, rel=0.12)
    assert diagnostics.autocorrelation_time(x[..., None])[0] == pytest.approx((1 + phi) / (1 - phi), rel=0.12)


def test_a_drifting_chain_shows_in_split_rhat():
    x = np.random.default_rng(4).standard_normal((2, 2000)) + np.linspace(0, 3, 2000)
    assert abs(x[0].mean() - x[1].mean()) < 0.1  # the two chains agree with each other...
    # ...but their halves do not: means 0.75 and 2.25 (sample variance 0.75), within-half
    # variance 1 + 1.5^2 / 12, so split-R-hat -> sqrt(1 + 0.75 / 1.1875) = 1.28
    assert diagnostics.rhat(x, method="split") == pytest.approx(np.sqrt(1 + 0.75 / 1.1875), abs=0.03)


def test_diagnostics_refuse_bad_input():
    with pytest.raises(ValueError, match="at least 2 chain"):
        diagnostics.rhat(np.zeros((1, 100)))
    with pytest.raises(ValueError, match=">= 4 draws"):
        diagnostics.ess(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        diagnostics.ess(np.array([[0.0, 1.0, np.nan, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="'rank' or 'split'"):
        diagnostics.rhat(np.zeros((2, 10)), method="bulk")


# --- diagnostics: against ArviZ ---------------------------------------------------------


@pytest.mark.parametrize("seed, n", [(0, 4), (1, 5), (2, 37), (3, 400)])
def test_diagnostics_equal_arviz(seed, n):
    az = pytest.importorskip("arviz")
    rng = np.random.default_rng(seed)
    x = ar1(0.7, (3, n), seed) + rng.normal(size=(3, 1))
    x[1] = np.exp(x[1])  # a skewed chain: rank-normalisation matters
    ours = [diagnostics.rhat(x), diagnostics.rhat(x, "split"), diagnostics.ess(x[..., None])[0],
            diagnostics.ess(x[..., None], "mean")[0]]
    ref = [az.rhat(x), az.rhat(x, method="split"), az.ess(x, method="bulk"), az.ess(x, method="mean")]
    assert np.allclose(ours, np.array(ref, dtype=float), rtol=1e-10, atol=0)


def test_single_chain_ess_equals_arviz_unsplit():
    az = pytest.importorskip("arviz")
    x = ar1(0.6, (1, 3000), 5)
    assert sl.sampling.effective_sample_size(x[0]) == pytest.approx(float(az.ess(x, method="identity")), rel=1e-10)
