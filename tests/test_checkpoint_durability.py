"""Checkpoints of slopes.ml.fit survive damage and kills: nothing the user saved is lost.

Every resumed run is compared, bit for bit, with an uninterrupted run of the same settings.
"""

import collections
import json
import os
import signal
import traceback
import tracemalloc
import warnings

import numpy as np
import pytest
from zipdamage import flip_bit, member_data_offset, npy_bytes, npy_declaring, rewrite_members, truncate

import slopes.numpy as snp
import slopes.optim as so
from slopes.ml import fit
from slopes.ml.checkpoint import checkpoint_path, load_checkpoint, previous_checkpoint_path

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.normal(size=40)
P0 = {"w": np.zeros(3), "b": np.zeros(1)}
NB = 5  # batches per epoch: 40 rows in batches of 8


def loss(p, batch):
    return 0.5 * snp.mean((batch[0] @ p["w"] + p["b"] - batch[1]) ** 2)


def train(data=(X, Y), params=P0, epochs=4, **kw):
    kw = {"batch_size": 8, "seed": 3, **kw}
    return fit(loss, params, data, optimizer=so.adam(so.warmup_cosine(0.05, 3, 40)), epochs=epochs, **kw)


class Stop(Exception):
    pass


def stop_at(step):
    def cb(info):
        if info.event == "step" and info.step == step:
            raise Stop

    return cb


def assert_same_run(res, ref):
    assert res.step == ref.step and res.best_epoch == ref.best_epoch
    for k in ref.params:
        assert np.array_equal(res.params[k], ref.params[k])
        assert np.array_equal(res.best_params[k], ref.best_params[k])
    for f in ("loss", "lr", "grad_norm"):
        assert np.array_equal(res.history.step[f], ref.history.step[f])
    assert np.array_equal(res.history.epoch["loss"], ref.history.epoch["loss"])


def stored_step(d):
    return load_checkpoint(d, params_like=P0, state_like=so.adam(0.1).init(P0))["meta"]["step"]


def interrupted_run(d, step=13, **kw):
    with pytest.raises(Stop):
        train(checkpoint_dir=d, callbacks=[stop_at(step)], **kw)


def test_checkpoint_dir_alone_saves_every_epoch(tmp_path):
    seen = []

    def at_epoch_start(info):  # the first step of each epoch after the first
        if info.event == "step" and info.step % NB == 1 and info.step > 1:
            seen.append(stored_step(tmp_path))

    with pytest.raises(Stop):
        train(checkpoint_dir=tmp_path, callbacks=[at_epoch_start, stop_at(18)])
    assert seen == [5, 10, 15] and stored_step(tmp_path) == 15  # a kill at step 18 loses 3 steps
    assert_same_run(train(checkpoint_dir=tmp_path, resume=True), train())


def member_flip(path):
    offset, length = member_data_offset(path, "part/params")
    flip_bit(path, offset + length // 2, 6)


DAMAGE = {
    "empty": lambda p: open(p, "wb").close(),
    "truncated": lambda p: truncate(p, 0.6),
    "flipped-bit": member_flip,
    "missing-member": lambda p: rewrite_members(p, {"meta": None}),
}


@pytest.mark.parametrize("kind", DAMAGE)
def test_damaged_latest_checkpoint_resumes_from_the_previous_one(tmp_path, kind):
    interrupted_run(tmp_path, checkpoint_every=1)
    DAMAGE[kind](checkpoint_path(tmp_path))
    pattern = r"checkpoint .*checkpoint\.npz is damaged \(.+\); "
    pattern += r"resuming from the previous checkpoint .*prev\.npz"
    with pytest.warns(RuntimeWarning, match=pattern + r", which is intact \(step 11\)"):
        res = train(checkpoint_dir=tmp_path, checkpoint_every=1, resume=True)
    assert_same_run(res, train())
    assert os.path.exists(tmp_path / "checkpoint.damaged.npz")  # kept, out of the rotation


def test_no_intact_checkpoint_names_both_files_and_how_to_start_over(tmp_path):
    interrupted_run(tmp_path, checkpoint_every=1)
    DAMAGE["truncated"](checkpoint_path(tmp_path))
    DAMAGE["flipped-bit"](previous_checkpoint_path(tmp_path))
    pattern = (
        r"checkpoint .*checkpoint\.npz is damaged \(not a complete zip archive.*\); the previous checkpoint "
        r".*checkpoint\.prev\.npz is damaged too \(.*Bad CRC-32.*\)\. .*delete the checkpoint files"
    )
    with pytest.raises(ValueError, match=pattern):
        train(checkpoint_dir=tmp_path, resume=True)


OTHER_RUNS = {
    "data": (dict(data=(X, Y + np.eye(40)[7] * 1e-3)), "other data"),
    "batch_size": (dict(batch_size=10), "batch_size 8 there, 10 here"),
    "seed": (dict(seed=4), "seed 3 there, 4 here"),
    "shuffle": (dict(shuffle=False), "shuffle True there, False here"),
    "model": (dict(params={"w": np.zeros(3), "b": np.zeros(2)}), "another model"),
}


@pytest.mark.parametrize("change", OTHER_RUNS)
def test_a_checkpoint_of_another_run_is_refused(tmp_path, change):
    interrupted_run(tmp_path)
    kw, why = OTHER_RUNS[change]
    with pytest.raises(ValueError, match=rf"checkpoint .* was written for another run \({why}"):
        train(checkpoint_dir=tmp_path, resume=True, **kw)


def forge_meta(path, **fields):
    data = np.load(path)
    meta = json.loads(str(data["meta"]))
    data.close()
    rewrite_members(path, {"meta": npy_bytes(np.array(json.dumps({**meta, **fields})))})


@pytest.mark.parametrize(
    "fields, why",
    [
        (dict(step=-1), "'step' must be an integer >= 0"),
        (dict(step=13.0), "'step' must be an integer"),
        (dict(pos=NB, step=2 * NB + NB), "disagree with 5 batches per epoch"),
        (dict(step=14), "disagree with 5 batches per epoch"),
        (dict(best_epoch=9), "best_epoch 9"),
        (dict(tracker_best="low"), "'tracker_best' must be a number"),
        (dict(rng={"bit_generator": "PCG64", "state": "x"}), "'rng' is not a valid PCG64 state"),
        (dict(history_fields=[]), "history fields"),
    ],
    ids=[
        "negative-step", "float-step", "pos-out-of-range", "inconsistent-step",
        "best-epoch", "tracker", "rng", "manifest",
    ],
)
def test_metadata_out_of_range_is_damage(tmp_path, fields, why):
    interrupted_run(tmp_path, checkpoint_every=1)
    forge_meta(checkpoint_path(tmp_path), **fields)
    with pytest.warns(RuntimeWarning, match=rf"is damaged \(meta.*{why}|is damaged \({why}"):
        res = train(checkpoint_dir=tmp_path, checkpoint_every=1, resume=True)
    assert_same_run(res, train())


def test_a_checkpoint_declaring_a_huge_array_is_refused_before_allocating(tmp_path):
    interrupted_run(tmp_path, checkpoint_every=1)
    path = checkpoint_path(tmp_path)
    rewrite_members(path, {"history/step/loss": npy_declaring((150_000_000,), np.float64, bytes(12 * 8))})
    assert os.path.getsize(path) < 100_000  # a small file declaring 1.2 GB
    tracemalloc.start()
    try:
        with pytest.warns(RuntimeWarning, match=r"declares a float64 array of shape \(150000000,\)"):
            ck = load_checkpoint(tmp_path, params_like=P0, state_like=so.adam(0.1).init(P0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000 and ck["meta"]["step"] == 11


def test_temporary_files_of_a_killed_run_are_removed_by_the_next(tmp_path):
    (tmp_path / ".checkpoint.npz.0123abcd.tmp").write_bytes(b"PK\x03\x04 half written")
    train(checkpoint_dir=tmp_path, epochs=1)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz"]


def test_resuming_with_fewer_epochs_leaves_the_checkpoint_consistent(tmp_path):
    train(checkpoint_dir=tmp_path, epochs=4)
    done = train(checkpoint_dir=tmp_path, epochs=2, resume=True)  # nothing left to do
    assert done.step == 4 * NB
    assert_same_run(train(checkpoint_dir=tmp_path, epochs=6, resume=True), train(epochs=6))


# ---- SIGKILL at 20 moments: inside a step, and at every stage of writing a checkpoint ----

KILL_EPOCHS = 8  # 40 steps: more than 20 kills can use up


def run_until_event(checkpoint_dir, kill_at: tuple[str, int], report: int) -> None:
    """A resumed run (forked child) that SIGKILLs itself at the ``n``-th event of a kind.

    Events: a step done (its number is reported first), and, while a checkpoint is
    written, each array NumPy writes into the archive, each fsync and each rename
    (named by its target).
    """
    seen = collections.Counter()

    def event(kind):
        seen[kind] += 1
        if (kind, seen[kind]) == kill_at:
            os.write(report, f"killed:{kind}\n".encode())
            os.kill(os.getpid(), signal.SIGKILL)

    def hooked(kind, fn):
        def call(*args, **kwargs):
            event(kind(*args) if callable(kind) else kind)
            return fn(*args, **kwargs)

        return call

    os.fsync = hooked("fsync", os.fsync)
    os.replace = hooked(lambda src, dst: "rename->" + os.path.basename(dst), os.replace)
    np.lib.format.write_array = hooked("array", np.lib.format.write_array)

    def progress(info):
        if info.event == "step":
            os.write(report, f"{info.step}\n".encode())
            event("step")

    kw = dict(checkpoint_dir=checkpoint_dir, checkpoint_every=1, resume=True, callbacks=[progress])
    train(epochs=KILL_EPOCHS, **kw)


def killed_child(checkpoint_dir, kill_at: tuple[str, int]):
    """Fork, run the child until its SIGKILL; returns (steps it reported, where it was killed)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        try:
            os.close(read)
            run_until_event(checkpoint_dir, kill_at, write)
            os.write(write, b"finished\n")
        except BaseException:
            os.write(write, ("error:" + traceback.format_exc()).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        lines = f.read().splitlines()
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, lines
    return [int(x) for x in lines[:-1]], lines[-1].removeprefix("killed:")


POSIX = hasattr(os, "fork") and hasattr(signal, "SIGKILL")


@pytest.mark.skipif(not POSIX, reason="needs POSIX fork and SIGKILL")
def test_sigkill_at_20_moments_every_resume_works_and_loses_at_most_one_interval(tmp_path):
    ref_params = [P0]

    def record(info):
        if info.event == "step":
            ref_params.append({k: v.copy() for k, v in info.params.items()})

    ref = train(epochs=KILL_EPOCHS, callbacks=[record])
    # (kind, how many of that kind per step in this run): each kind 4 times, at a seeded occurrence
    kinds = [("step", 1), ("array", 23), ("fsync", 2)]
    kinds += [("rename->checkpoint.prev.npz", 1), ("rename->checkpoint.npz", 1)]
    rng = np.random.default_rng(15)
    saved = half_written = from_previous = 0
    for kind, per_step in kinds * 4:
        occurrence = int(rng.integers(1, 2 * per_step + 1))  # within the first two steps of the child
        reported, killed_in = killed_child(tmp_path, kill_at=(kind, occurrence))
        assert killed_in == kind
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no damaged checkpoint, ever
            ck = load_checkpoint(
                tmp_path, params_like=P0, state_like=so.adam(0.1).init(P0), batches_per_epoch=NB
            )
        step = ck["meta"]["step"]
        assert saved <= step and max(reported, default=saved) - step <= 1  # checkpoint_every=1
        for k in P0:
            assert np.array_equal(ck["params"][k], ref_params[step][k])
        temporaries = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
        assert len(temporaries) <= 1  # the next run removes it
        half_written += bool(temporaries)
        from_previous += ck["path"] == previous_checkpoint_path(tmp_path)  # killed between the two renames
        saved = step
    assert half_written >= 4 and from_previous >= 4
    res = train(epochs=KILL_EPOCHS, checkpoint_dir=tmp_path, checkpoint_every=1, resume=True)
    assert_same_run(res, ref)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.npz", "checkpoint.prev.npz"]
