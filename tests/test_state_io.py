"""slopes.optim.save_state / load_state: the name given is the file written, a failed save keeps
the previous state, and a damaged file is reported as damaged."""

import os

import numpy as np
import pytest
from zipdamage import flip_bit, member_data_offset, npy_declaring, rewrite_members

import slopes.optim as so


def adam_state(n_steps=3):
    opt = so.adam(0.1)
    params = {"w": np.linspace(-1.0, 1.0, 5), "b": np.zeros(2)}
    state = opt.init(params)
    for k in range(n_steps):
        _, state = opt.update({"w": np.full(5, k + 1.0), "b": np.ones(2)}, state, params)
    return opt, params, state


def assert_same_state(a, b):
    pa, pb = so.state_paths(a), so.state_paths(b)
    assert [k for k, _ in pa] == [k for k, _ in pb]
    for (_, x), (_, y) in zip(pa, pb):
        assert type(x) is type(y) and np.array_equal(x, y)


def test_save_state_writes_the_name_given_and_load_state_reads_it(tmp_path):
    opt, params, state = adam_state()
    so.save_state(tmp_path / "state.bin", state)
    assert os.listdir(tmp_path) == ["state.bin"]
    assert_same_state(so.load_state(tmp_path / "state.bin", like=opt.init(params)), state)


def test_load_state_points_to_the_name_an_earlier_version_wrote(tmp_path):
    opt, params, state = adam_state()
    with open(tmp_path / "state.bin.npz", "wb") as f:  # what np.savez("state.bin") wrote
        so.save_state(f, state)
    with pytest.raises(FileNotFoundError, match=r"state\.bin\.npz exists: pass that name"):
        so.load_state(tmp_path / "state.bin", like=opt.init(params))


def test_save_failing_half_way_leaves_the_previous_state(tmp_path, monkeypatch):
    opt, params, state = adam_state(1)
    path = tmp_path / "opt.npz"
    so.save_state(path, state)
    _, _, newer = adam_state(5)
    write_array = np.lib.format.write_array
    written = []

    def fail_on_third_member(*args, **kwargs):
        if len(written) == 2:
            raise OSError("No space left on device")
        written.append(1)
        return write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", fail_on_third_member)
    with pytest.raises(OSError, match="No space left"):
        so.save_state(path, newer)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["opt.npz"]  # no temporary file left either
    assert_same_state(so.load_state(path, like=opt.init(params)), state)


def test_a_killed_save_leaves_a_temporary_file_that_the_next_save_removes(tmp_path):
    _, _, state = adam_state()
    (tmp_path / ".opt.npz.0123abcd.tmp").write_bytes(b"PK\x03\x04 half")
    so.save_state(tmp_path / "opt.npz", state)
    assert os.listdir(tmp_path) == ["opt.npz"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
        lambda p: flip_bit(p, member_data_offset(p, "mu/w")[0] + 90, 5),
        lambda p: rewrite_members(p, {"nu/w": npy_declaring((150_000_000,), np.float64, bytes(40))}),
    ],
    ids=["empty", "truncated", "flipped-bit", "declares-1.2GB"],
)
def test_a_damaged_state_file_is_named_with_what_to_do(tmp_path, damage):
    opt, params, state = adam_state()
    path = tmp_path / "opt.npz"
    so.save_state(path, state)
    damage(path)
    with pytest.raises(ValueError, match=rf"load_state: .*opt\.npz is damaged \(.+\).*opt\.init\(params\)"):
        so.load_state(path, like=opt.init(params))


def test_any_flipped_bit_gives_the_saved_state_or_a_value_error(tmp_path):
    # 250 bits of the file, chosen with a fixed seed: header fields, data and the zip directory
    opt, params, state = adam_state()
    path = tmp_path / "opt.npz"
    so.save_state(path, state)
    original = path.read_bytes()
    rng = np.random.default_rng(0)
    outcomes = set()
    for pos in rng.choice(8 * len(original), size=250, replace=False):
        path.write_bytes(original)
        flip_bit(path, pos // 8, pos % 8)
        try:
            loaded = so.load_state(path, like=opt.init(params))
        except ValueError as e:
            outcomes.add("damaged" if "is damaged" in str(e) else "paths differ")
            continue
        assert_same_state(loaded, state)  # a bit nothing reads (a timestamp, a comment): same state
        outcomes.add("unchanged")
    assert "damaged" in outcomes
