"""slopes._io: atomic replacement of a file, and verified reading of an ``.npz``."""

import io
import os
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest
from zipdamage import flip_bit, member_data_offset, npy_declaring, rewrite_members

from slopes._io import DamagedFileError, atomic_write, read_npz


def test_atomic_write_fsyncs_the_file_before_renaming_it_then_the_directory(tmp_path, monkeypatch):
    target = tmp_path / "state.bin"
    target.write_bytes(b"old")
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        mode = os.fstat(fd).st_mode
        calls.append(("fsync", "dir" if stat.S_ISDIR(mode) else "file"))
        real_fsync(fd)

    def replace(src, dst):
        calls.append(("replace", os.path.basename(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    with atomic_write(target) as f:
        f.write(b"new")
    expected = [("fsync", "file"), ("replace", "state.bin")]
    expected += [("fsync", "dir")] if os.name == "posix" else []
    assert calls == expected
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["state.bin"]


def test_atomic_write_failing_half_way_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "state.bin"
    target.write_bytes(b"old content")
    with pytest.raises(OSError, match="disk full"):
        with atomic_write(target) as f:
            f.write(b"new cont")
            raise OSError("disk full")
    assert target.read_bytes() == b"old content" and os.listdir(tmp_path) == ["state.bin"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_permissions_follow_the_umask_and_an_overwritten_file(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    with atomic_write(tmp_path / "new.bin") as f:
        f.write(b"x")
    assert stat.S_IMODE(os.stat(tmp_path / "new.bin").st_mode) == 0o666 & ~umask
    os.chmod(tmp_path / "new.bin", 0o640)
    with atomic_write(tmp_path / "new.bin") as f:
        f.write(b"y")
    assert stat.S_IMODE(os.stat(tmp_path / "new.bin").st_mode) == 0o640


def test_read_npz_matches_np_load_for_plain_compressed_and_fortran_arrays(tmp_path):
    arrays = {
        "a": np.arange(12.0).reshape(3, 4),
        "f": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "s": np.array("text"),
        "e": np.zeros((0, 3)),
        "i": np.int64(7),
    }
    for save in (np.savez, np.savez_compressed):
        path = tmp_path / f"{save.__name__}.npz"
        save(path, **arrays)
        got = read_npz(path)
        with np.load(path) as ref:
            assert set(got) == set(ref.files)
            for k in ref.files:
                assert got[k].dtype == ref[k].dtype and got[k].shape == ref[k].shape
                assert np.array_equal(got[k], ref[k]) and got[k].flags.writeable


def test_read_npz_refuses_a_declared_size_the_file_cannot_hold_without_allocating_it(tmp_path):
    path = tmp_path / "forged.npz"
    np.savez(path, x=np.ones(4))
    rewrite_members(path, {"x": npy_declaring((150_000_000,), np.float64, np.ones(4).tobytes())})  # 1.2 GB
    tracemalloc.start()
    try:
        with pytest.raises(DamagedFileError, match=r"declares a float64 array of shape \(150000000,\)"):
            read_npz(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # bytes: what the file could hold, not what it declares


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda p: p.write_bytes(b""), "not a complete zip archive"),
        (lambda p: p.write_bytes(p.read_bytes()[:-40]), "not a complete zip archive"),
        (lambda p: flip_bit(p, member_data_offset(p, "a")[0] + 100, 3), "Bad CRC-32"),
        (lambda p: rewrite_members(p, {"a": np.lib.format.magic(1, 0) + b"garbage"}), "member 'a'"),
    ],
    ids=["empty", "truncated", "flipped-bit", "bad-header"],
)
def test_read_npz_names_the_damage(tmp_path, damage, reason):
    path = tmp_path / "d.npz"
    np.savez(path, a=np.arange(100.0), b=np.ones(3))
    damage(path)
    with pytest.raises(DamagedFileError, match=reason):
        read_npz(path)


def test_read_npz_refuses_object_arrays(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        with z.open("o.npy", "w") as f:
            np.lib.format.write_array(f, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DamagedFileError, match="pickle"):
        read_npz(buf)


def test_atomic_write_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"there is no folder .*nowhere \(create it first\)"):
        with atomic_write(tmp_path / "nowhere" / "s.npz") as f:
            f.write(b"x")
