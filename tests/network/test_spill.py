"""Tests for blocking result partitions on disk (``minicluster.network.spill_*``).

No processes: a writer fills a partition in ``tmp_path``, readers read it back, and the
files are damaged by hand to check that every failure is a ``PartitionError`` naming
the partition, the subpartition and the file.
"""

import importlib
import os
import pickle
import random
import stat
import tempfile

import lz4.frame
import pytest

from minicluster.network import spill, spill_reader
from minicluster.network.spill_directory import (
    TMPFS_MIN_FREE,
    SpillDirectory,
    create_spill_directory,
)
from minicluster.network.spill_partition import (
    PartitionCorruptedError,
    PartitionDescriptor,
    PartitionError,
    PartitionNotFoundError,
    delete_partition,
)
from minicluster.network.spill_reader import ResultPartitionReader
from minicluster.network.spill_writer import ResultPartitionWriter


def _batches(seed, count, max_size=50, with_timestamps=True):
    rng = random.Random(seed)
    out = []
    for i in range(count):
        n = rng.randint(1, max_size)
        values = [(f"k{rng.randint(0, 99)}", i, rng.random()) for _ in range(n)]
        stamps = [rng.randint(0, 10**12) for _ in range(n)] if with_timestamps else None
        out.append((values, stamps))
    return out


def _write(directory, batches_per_sub, partition_id="p-0", **kwargs):
    """Interleave the subpartitions' batches, as a producer's partitioner would."""
    writer = ResultPartitionWriter(directory, partition_id, len(batches_per_sub), **kwargs)
    queues = [list(b) for b in batches_per_sub]
    rng = random.Random(7)
    while any(queues):
        sub = rng.choice([i for i, q in enumerate(queues) if q])
        writer.write(sub, *queues[sub].pop(0))
    return writer, writer.finish()


def _read(partition, subpartition):
    return list(ResultPartitionReader(partition, subpartition))


def _frame_contents(descriptor, subpartition):
    reader = ResultPartitionReader(descriptor, subpartition)
    with open(descriptor.path, "rb") as f:
        data = f.read()
    return [lz4.frame.decompress(data[o : o + n]) for o, n, _ in reader.frames]


# -- round trip -------------------------------------------------------------------------


def test_round_trip_many_batches_over_several_subpartitions(tmp_path):
    written = [_batches(seed, 200) for seed in range(4)]
    written[2] = _batches(2, 200, with_timestamps=False)

    _, descriptor = _write(tmp_path, written, coalesce_bytes=4096)

    for sub in range(4):
        assert _read(descriptor, sub) == written[sub]  # whole batches, in order
    assert descriptor.subpartition_records == tuple(sum(len(v) for v, _ in w) for w in written)
    assert descriptor.num_subpartitions == 4
    assert descriptor.total_bytes == os.path.getsize(descriptor.path)
    # Every byte but the 8-byte file header belongs to some subpartition's frames.
    assert sum(descriptor.subpartition_bytes) == descriptor.total_bytes - 8


def test_reader_accepts_the_data_file_path_as_well_as_the_descriptor(tmp_path):
    written = [_batches(1, 20), _batches(2, 20)]
    _, descriptor = _write(tmp_path, written)

    assert _read(str(descriptor.path), 1) == written[1]
    assert ResultPartitionReader(descriptor.path, 0).partition_id == "p-0"


def test_empty_subpartitions_and_empty_batches(tmp_path):
    writer = ResultPartitionWriter(tmp_path, "p", 3)
    writer.write(1, ["a", "b"], [1, 2])
    writer.write(1, [], [])  # nothing to carry: skipped
    descriptor = writer.finish()

    assert _read(descriptor, 0) == []
    assert _read(descriptor, 1) == [(["a", "b"], [1, 2])]
    assert _read(descriptor, 2) == []
    assert descriptor.subpartition_records == (0, 2, 0)
    assert descriptor.subpartition_bytes[0] == descriptor.subpartition_bytes[2] == 0


def test_a_partition_with_no_batches_at_all(tmp_path):
    descriptor = ResultPartitionWriter(tmp_path, "p", 2).finish()

    assert _read(descriptor, 0) == _read(descriptor, 1) == []
    assert descriptor.total_bytes == 8


def test_large_batches_span_frames_and_small_ones_share_them(tmp_path):
    big = [(list(range(i, i + 20_000)), None) for i in range(3)]  # ~100 KB pickled each
    small = _batches(3, 300, max_size=3)
    mixed = [small[0], big[0], *small[1:100], big[1], big[2], *small[100:]]
    coalesce = 16 * 1024

    _, descriptor = _write(tmp_path, [mixed, small], coalesce_bytes=coalesce)

    assert _read(descriptor, 0) == mixed
    assert _read(descriptor, 1) == small
    contents = _frame_contents(descriptor, 0)
    stream_size = sum(8 + len(pickle.dumps(b, protocol=5)) for b in mixed)
    assert sum(map(len, contents)) == stream_size
    assert len(contents) == -(-stream_size // coalesce)  # every frame full but the last
    reader = ResultPartitionReader(descriptor, 0)
    frames_ending_no_batch = [f for f in reader.frames if f[2] == 0]
    assert frames_ending_no_batch  # the middle frames of a big batch end none
    assert sum(f[2] for f in reader.frames) == reader.records


def test_coalescing_threshold_is_respected(tmp_path):
    written = [_batches(s, 300) for s in range(3)]
    coalesce = 2000

    _, descriptor = _write(tmp_path, written, coalesce_bytes=coalesce)

    for sub in range(3):
        sizes = [len(c) for c in _frame_contents(descriptor, sub)]
        assert sizes and max(sizes) <= coalesce
        assert all(size == coalesce for size in sizes[:-1])  # coalesced up to the threshold


def test_the_buffer_bound_writes_out_the_largest_subpartition_early(tmp_path):
    writer = ResultPartitionWriter(tmp_path, "p", 8, coalesce_bytes=4096, buffer_bytes=4096)
    written = [_batches(s, 100, max_size=5) for s in range(8)]
    for round_ in range(100):
        for sub in range(8):
            writer.write(sub, *written[sub][round_])
            assert writer.buffered_bytes <= 4096
    descriptor = writer.finish()

    assert writer.buffered_bytes == 0
    for sub in range(8):
        assert _read(descriptor, sub) == written[sub]


def test_writing_50_mb_keeps_the_buffered_bytes_under_the_bound(tmp_path):
    rng = random.Random(5)
    writer = ResultPartitionWriter(tmp_path, "big", 4, sync=False)
    chunk = bytes(rng.getrandbits(8) for _ in range(1024))
    total = 0
    counts = [0] * 4
    while total < 50 * 1024 * 1024:
        sub = rng.randrange(4)
        n = rng.choice((1, 10, 100, 600))  # from 1 KB to 600 KB batches
        writer.write(sub, [chunk] * n)
        counts[sub] += n
        total += n * len(chunk)
        assert writer.buffered_bytes <= writer.buffer_bytes
    descriptor = writer.finish()

    assert writer.max_buffered_bytes <= writer.buffer_bytes == 4 * 256 * 1024
    assert descriptor.subpartition_records == tuple(counts)
    got = sum(len(values) for values, _ in ResultPartitionReader(descriptor, 3))
    assert got == counts[3]


def test_reading_one_subpartition_reads_only_its_own_frames(tmp_path, monkeypatch):
    written = [_batches(s, 100) for s in range(3)]
    _, descriptor = _write(tmp_path, written, coalesce_bytes=1024)
    reader = ResultPartitionReader(descriptor, 1)
    reads = []
    real_read_at = spill_reader._read_at

    def counting_read_at(fd, length, offset):
        reads.append((offset, length))
        return real_read_at(fd, length, offset)

    monkeypatch.setattr(spill_reader, "_read_at", counting_read_at)
    assert list(reader) == written[1]

    own = [(offset, length) for offset, length, _ in reader.frames]
    assert reads == [(0, 8)] + own  # the file header, then exactly its frames
    others = {
        (o, n) for sub in (0, 2) for o, n, _ in ResultPartitionReader(descriptor, sub).frames
    }
    assert others and not others & set(reads)


def test_the_reader_is_lazy(tmp_path, monkeypatch):
    _, descriptor = _write(tmp_path, [_batches(1, 200)], coalesce_bytes=1024)
    reads = []
    real_read_at = spill_reader._read_at
    monkeypatch.setattr(
        spill_reader, "_read_at", lambda fd, n, o: reads.append(o) or real_read_at(fd, n, o)
    )

    batches = iter(ResultPartitionReader(descriptor, 0))
    assert reads == []
    next(batches)
    assert len(reads) == 2  # the header and the first frame, nothing more
    batches.close()


# -- failures ---------------------------------------------------------------------------


def _flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x40]))


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9, 0.999])
def test_a_flipped_byte_in_the_data_fails_the_checksum(tmp_path, where):
    _, descriptor = _write(tmp_path, [_batches(1, 50), _batches(2, 50)], coalesce_bytes=2048)
    offset, length, _ = ResultPartitionReader(descriptor, 1).frames[1]
    _flip_byte(descriptor.path, offset + int(length * where))

    with pytest.raises(PartitionCorruptedError, match=r"'p-0' subpartition 1 \(.*p-0\.data\)"):
        _read(descriptor, 1)
    assert _read(descriptor, 0) == _batches(1, 50)  # other subpartitions are intact


def test_the_corrupted_error_carries_where_and_pickles(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 50)])
    offset, length, _ = ResultPartitionReader(descriptor, 0).frames[0]
    _flip_byte(descriptor.path, offset + length // 2)

    with pytest.raises(PartitionCorruptedError) as info:
        _read(descriptor, 0)
    error = info.value
    assert (error.partition_id, error.subpartition, error.path) == ("p-0", 0, descriptor.path)
    assert isinstance(error, PartitionError) and "frame 0" in str(error)
    copy = pickle.loads(pickle.dumps(error))  # it travels from a TaskManager
    assert type(copy) is PartitionCorruptedError and str(copy) == str(error)
    assert copy.subpartition == 0


def test_a_truncated_data_file_is_corrupted(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 100), _batches(2, 100)])
    os.truncate(descriptor.path, descriptor.total_bytes // 2)

    with pytest.raises(PartitionCorruptedError, match=r"subpartition 0 .*truncated"):
        ResultPartitionReader(descriptor, 0)


def test_a_file_truncated_while_reading_is_corrupted(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 100)], coalesce_bytes=1024)
    batches = iter(ResultPartitionReader(descriptor, 0))
    next(batches)
    os.truncate(descriptor.path, descriptor.total_bytes - 10)

    with pytest.raises(PartitionCorruptedError, match="truncated"):
        list(batches)


def test_a_deleted_data_file_is_not_found(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 10)])
    os.unlink(descriptor.path)

    with pytest.raises(PartitionNotFoundError, match=r"'p-0' subpartition 0 .*file is missing"):
        ResultPartitionReader(descriptor, 0)


def test_a_file_deleted_after_the_reader_was_made_is_not_found(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 10)])
    reader = ResultPartitionReader(descriptor, 0)
    os.unlink(descriptor.path)

    with pytest.raises(PartitionNotFoundError):
        list(reader)


def test_an_unfinished_partition_is_refused(tmp_path):
    writer = ResultPartitionWriter(tmp_path, "p", 2)
    writer.write(0, [1, 2, 3])
    writer.close()

    with pytest.raises(PartitionNotFoundError, match="never finished"):
        ResultPartitionReader(writer.path, 0)


def test_a_corrupt_index_is_refused(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 10)])
    _flip_byte(descriptor.index_path, 12)

    with pytest.raises(PartitionCorruptedError, match="index fails its CRC-32"):
        ResultPartitionReader(descriptor, 0)


def test_a_truncated_index_is_refused(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 10)])
    os.truncate(descriptor.index_path, 5)

    with pytest.raises(PartitionCorruptedError, match="index is truncated"):
        ResultPartitionReader(descriptor, 0)


def test_an_index_that_does_not_match_the_descriptor_is_refused(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 10)])
    other = PartitionDescriptor(
        descriptor.path, "p-0", 1, (descriptor.subpartition_records[0] + 1,),
        descriptor.subpartition_bytes, descriptor.total_bytes,
    )

    with pytest.raises(PartitionCorruptedError, match="does not match the descriptor"):
        ResultPartitionReader(other, 0)


def test_a_subpartition_out_of_range_is_a_programming_error(tmp_path):
    _, descriptor = _write(tmp_path, [[], []])

    with pytest.raises(IndexError, match="subpartition 2 out of range"):
        ResultPartitionReader(descriptor, 2)
    writer = ResultPartitionWriter(tmp_path, "q", 2)
    with pytest.raises(IndexError, match="subpartition -1 out of range"):
        writer.write(-1, [1])


def test_an_unpicklable_value_is_a_user_error_not_corruption(tmp_path):
    _, descriptor = _write(tmp_path, [[([_FailsToUnpickle()], None)]])

    with pytest.raises(ValueError, match="user code"):
        _read(descriptor, 0)


class _FailsToUnpickle:
    def __reduce__(self):
        return _raise_value_error, ()


def _raise_value_error():
    raise ValueError("user code cannot rebuild this")


# -- the files --------------------------------------------------------------------------


def test_finish_writes_the_index_atomically_and_leaves_no_temporary_file(tmp_path):
    writer = ResultPartitionWriter(tmp_path, "p-3", 2)
    writer.write(0, [1])
    assert sorted(os.listdir(tmp_path)) == ["p-3.data"]  # incomplete: no index yet

    descriptor = writer.finish()

    assert sorted(os.listdir(tmp_path)) == ["p-3.data", "p-3.index"]
    assert descriptor.index_path == str(tmp_path / "p-3.index")
    assert stat.S_IMODE(os.stat(descriptor.path).st_mode) == 0o600
    assert writer.finish() is descriptor  # idempotent
    with pytest.raises(ValueError, match="finished"):
        writer.write(0, [2])


def test_a_new_attempt_replaces_the_files_of_an_old_one(tmp_path):
    _write(tmp_path, [_batches(1, 10)], partition_id="p")
    writer = ResultPartitionWriter(tmp_path, "p", 1)
    assert sorted(os.listdir(tmp_path)) == ["p.data"]  # the old index is gone at once

    writer.write(0, ["new"])
    assert _read(writer.finish(), 0) == [(["new"], None)]


def test_delete_removes_the_partition(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 10)])
    delete_partition(descriptor)
    delete_partition(descriptor)  # twice is fine
    assert os.listdir(tmp_path) == []

    with ResultPartitionWriter(tmp_path, "aborted", 2) as writer:
        writer.write(1, [1])
    assert os.listdir(tmp_path) == []  # left without finish(): removed


def test_descriptor_is_frozen_validated_and_picklable(tmp_path):
    _, descriptor = _write(tmp_path, [_batches(1, 10), []])

    assert pickle.loads(pickle.dumps(descriptor)) == descriptor
    with pytest.raises(AttributeError):
        descriptor.total_bytes = 0
    with pytest.raises(ValueError, match="expected 2"):
        PartitionDescriptor("x.data", "x", 2, (1,), (1,), 10)
    with pytest.raises(ValueError, match="do not add up"):
        PartitionDescriptor("x.data", "x", 1, (1,), (20,), 10)


@pytest.mark.parametrize("bad", ["", "../p", "a/b", ".hidden", "p q"])
def test_partition_ids_must_be_safe_file_names(tmp_path, bad):
    with pytest.raises(ValueError, match="partition_id"):
        ResultPartitionWriter(tmp_path, bad, 1)


# -- the spill folder -------------------------------------------------------------------


class _Usage:
    def __init__(self, free):
        self.free = free


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_io_tmp_dirs_is_honoured(tmp_path):
    configured = tmp_path / "spill-here"

    with create_spill_directory([str(configured)]) as directory:
        assert os.path.dirname(directory.path) == str(configured)
        assert _mode(directory.path) == 0o700
        assert not directory.on_tmpfs


def test_io_tmp_dirs_takes_the_first_with_room(tmp_path):
    full, roomy = tmp_path / "full", tmp_path / "roomy"
    usage = {str(full): _Usage(10), str(roomy): _Usage(10**9)}

    directory = create_spill_directory(
        [str(full), str(roomy)], 1000, disk_usage=lambda p: usage[p]
    )
    try:
        assert os.path.dirname(directory.path) == str(roomy)
    finally:
        directory.cleanup()


def test_tmpfs_when_it_has_room_else_the_temp_dir(tmp_path, monkeypatch):
    shm = tmp_path / "shm"
    shm.mkdir()
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))

    def usage(free):
        return lambda path: _Usage(free)

    def create(estimate, free, memory):
        return create_spill_directory(
            (), estimate, shm_dir=str(shm), disk_usage=usage(free),
            available_memory=lambda: memory,
        )

    gib = TMPFS_MIN_FREE
    roomy = create(gib, free=2 * gib, memory=2 * gib)
    full = create(gib, free=2 * gib - 1, memory=10 * gib)  # twice the estimate: headroom
    short_of_memory = create(gib, free=10 * gib, memory=2 * gib - 1)
    small_mount = create(0, free=gib - 1, memory=10 * gib)  # Docker's 64 MB /dev/shm
    small_job = create(10, free=gib, memory=10 * gib)
    missing = create_spill_directory((), 0, shm_dir=str(tmp_path / "no-shm"))

    for on_shm in (roomy, small_job):
        assert os.path.dirname(on_shm.path) == str(shm) and on_shm.on_tmpfs
    for elsewhere in (full, short_of_memory, small_mount, missing):
        assert os.path.dirname(elsewhere.path) == str(tmp_path / "tmp")
        assert not elsewhere.on_tmpfs
    for directory in (roomy, small_job, full, short_of_memory, small_mount, missing):
        assert _mode(directory.path) == 0o700
        directory.cleanup()


def test_the_default_spill_folder_is_private(tmp_path):
    directory = create_spill_directory()
    try:
        assert _mode(directory.path) == 0o700
        if os.path.isdir("/dev/shm") and directory.on_tmpfs:
            assert directory.path.startswith("/dev/shm/")
    finally:
        directory.cleanup()
    assert not os.path.exists(directory.path)


def test_cleanup_removes_every_partition(tmp_path):
    directory = create_spill_directory([str(tmp_path)])
    _write(directory.path, [_batches(1, 10)], partition_id="a")
    unfinished = ResultPartitionWriter(directory, "b", 1)
    unfinished.write(0, [1])
    unfinished.close()

    directory.cleanup()
    directory.cleanup()  # twice is fine

    assert os.listdir(tmp_path) == []
    assert isinstance(directory, SpillDirectory)


def test_the_old_module_still_exports_every_name_from_its_new_home():
    """``minicluster.network.spill`` was one module; code written against it still works."""
    for name in spill.__all__:
        home = getattr(spill, name).__module__
        assert home.startswith("minicluster.network.spill_"), (name, home)
        assert getattr(importlib.import_module(home), name) is getattr(spill, name)
