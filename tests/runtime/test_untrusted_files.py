"""Genome files, JSON and IDX files as hostile input: each refusal names the file and the problem,
and none unpacks, inflates or follows more than it should."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import zipfile

import jax
import numpy as np
import pytest

import rulec
from rulec.data import datasets
from rulec.data.errors import DataError
from rulec.data.idx import MAX_IDX_BYTES, read_idx
from rulec.diagnostics import RuleError
from rulec.files import read_json, read_npz
from rulec.runtime.genome_file import load_genome, save_genome
from tests.conftest import ROOT
from tests.data.test_datasets import write_idx

SIZES = (3, 4, 2)


def message(error: RuleError) -> str:
    (diagnostic,) = error.diagnostics
    return f"{diagnostic.span.source.name}: {diagnostic.message} | {diagnostic.hint}"


@pytest.fixture(scope="module")
def abcd():
    """A rule with per-synapse genome entries (A/0, A/1, ...), whose shapes depend on the network."""
    return rulec.load(ROOT / "stdlib_rules" / "abcd_hebbian.rule")


@pytest.fixture
def genome_file(tmp_path, abcd):
    genome = abcd.network(SIZES).init_genome(jax.random.key(0))
    return save_genome(tmp_path / "g", abcd, genome), genome


def rewrite(path, **changes):
    """The genome file at `path` with entries replaced (a value of None deletes the entry)."""
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    arrays.update(changes)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


def test_a_valid_genome_loads_with_every_per_synapse_entry_checked(genome_file, abcd):
    path, genome = genome_file
    loaded = load_genome(path, abcd, SIZES)
    for a, b in zip(loaded["A"], genome["A"]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("changes, expected", [
    ({"A/0": np.array([[1.0]])}, "`A/0` has shape [1, 1] in the file, but the rule and network expect [4, 4]"),
    ({"A/1": None}, "the genome file has 1 `A/N` entries (A/0); the network expects A/0, A/1"),
    ({"A/2": np.zeros((5, 2))}, "unexpected entry `A/2.npy`"),
    ({"extra": np.zeros(3)}, "unexpected entry `extra.npy`"),
    ({"B/0": np.array([["a"] * 4] * 4)}, "`B/0` holds <U1 values; a genome entry holds real numbers"),
    ({"B/0": np.ones((4, 4), np.complex64)}, "`B/0` holds complex64 values"),
    ({"C/1": np.full((5, 2), np.nan, np.float32)}, "`C/1` holds NaN or infinite values"),
    ({"D/0": np.full((4, 4), np.inf, np.float32)}, "`D/0` holds NaN or infinite values"),
])
def test_a_wrong_entry_is_refused_naming_it(genome_file, abcd, changes, expected):
    path, _ = genome_file
    rewrite(path, **changes)
    with pytest.raises(RuleError) as refused:
        load_genome(path, abcd, SIZES)
    assert expected in message(refused.value) and message(refused.value).startswith(str(path))


def test_a_genome_without_its_json_loads_with_a_warning(genome_file, abcd):
    path, _ = genome_file
    path.with_suffix(".json").unlink()
    warnings = []
    load_genome(path, abcd, SIZES, warnings.append)
    assert warnings == [f"{path} has no g.json beside it: which rule and dims it was written for cannot be checked, "
                        "only its entry names and shapes"]


@pytest.mark.parametrize("damage", ["empty", "truncated", "bit-flipped", "text"])
def test_a_damaged_genome_file_is_a_file_error(genome_file, abcd, damage):
    path, _ = genome_file
    data = path.read_bytes()
    damaged = {"empty": b"", "truncated": data[: len(data) // 2], "text": b"root:x:0:0:root:/root:/bin/bash\n",
               "bit-flipped": data[:200] + bytes([data[200] ^ 0xFF]) + data[201:]}[damage]
    path.write_bytes(damaged)
    with pytest.raises(RuleError) as refused:
        load_genome(path, abcd, SIZES)
    text = message(refused.value)
    assert text.startswith(f"{path}: cannot read") and "allow_pickle" not in text


def test_genome_files_round_trip_and_refuse_other_rules(tmp_path):
    rule = rulec.load(ROOT / "stdlib_rules" / "blur.rule", k=2)
    genome = rule.init_genome(jax.random.key(0))
    path = save_genome(tmp_path / "g", rule, genome, seed=0)
    loaded = load_genome(path, rule)
    for name in genome:
        np.testing.assert_array_equal(loaded[name], genome[name])
    with pytest.raises(RuleError, match="this genome is for rule `blur` with dims"):
        load_genome(path, rulec.load(ROOT / "stdlib_rules" / "blur.rule", k=3))


def test_a_pickled_or_corrupt_genome_file_is_refused(tmp_path):
    rule = rulec.load(ROOT / "stdlib_rules" / "backprop.rule")
    bad = tmp_path / "bad.npz"
    np.savez(bad, lr=np.array([object()], dtype=object))
    with pytest.raises(RuleError, match="cannot read `lr` in the genome file: it holds Python objects") as refused:
        load_genome(bad, rule, warn=lambda text: None)
    assert "allow_pickle" not in str(refused.value)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(RuleError, match="cannot read the genome file: it is not a valid .npz archive"):
        load_genome(tmp_path / "junk.npz", rule)


def test_integer_entries_are_read_as_float32(tmp_path):
    rule = rulec.load(ROOT / "stdlib_rules" / "backprop.rule")
    path = save_genome(tmp_path / "g", rule, {"lr": np.array(1, np.int64)})
    assert load_genome(path, rule)["lr"].dtype == np.float32


def zip_declaring(path, name: str, data: bytes, declared: int) -> None:
    """A one-member zip whose headers declare `declared` uncompressed bytes for `data`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local and central headers
        at = raw.index(signature) + offset
        raw[at: at + 4] = declared.to_bytes(4, "little")
    path.write_bytes(bytes(raw))


def test_a_zip_bomb_member_is_refused_before_it_is_inflated(tmp_path):
    """A member declaring 3 GiB is refused from its declared size, in a process capped at 1 GiB of memory."""
    bomb = tmp_path / "bomb.npz"
    zip_declaring(bomb, "huge.npy", bytes(2**20), 3 * 2**30)
    script = f"""
import resource
resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
from rulec.files import read_npz
from rulec.diagnostics import RuleError
for limits in ({{"huge": 8}}, {{"lr": 8}}):
    try:
        read_npz({str(bomb)!r}, "genome file", limits)
    except RuleError as error:
        print(error.diagnostics[0].message)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["`huge` in the genome file declares 3221225472 bytes, more than the 8 its "
                                          "shape allows", "the genome file has an unexpected entry `huge.npy`"]


def test_a_member_that_inflates_past_its_declared_size_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    array = io.BytesIO()
    np.save(array, np.zeros(1000))
    zip_declaring(path, "lr.npy", array.getvalue(), 100)
    with pytest.raises(RuleError, match="cannot read the genome file: it is not a valid .npz archive"):
        read_npz(path, "genome file", {"lr": 8000})


def test_json_is_read_only_from_regular_files_and_up_to_a_cap(tmp_path):
    link = tmp_path / "g.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(RuleError, match="the genome metadata is not a regular file"):
        read_json(link, "genome metadata")
    big = tmp_path / "big.json"
    big.write_text("[" + "0," * 600 + "0]")
    with pytest.raises(RuleError, match="the checkpoint is larger than 0 MiB"):
        read_json(big, "checkpoint", limit=1000)


# ---- data ----------------------------------------------------------------------------------------------------------

def write_idx_directory(directory, train_labels, test_labels, images=None):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (len(train_labels), 2, 2)).astype(np.uint8) if images is None else images
    write_idx(directory / "train-images-idx3-ubyte", images, code=0x08 if images.dtype == np.uint8 else 0x0D)
    write_idx(directory / "train-labels-idx1-ubyte", np.asarray(train_labels, np.int8), code=0x09)
    write_idx(directory / "t10k-images-idx3-ubyte", images[: len(test_labels)],
              code=0x08 if images.dtype == np.uint8 else 0x0D)
    write_idx(directory / "t10k-labels-idx1-ubyte", np.asarray(test_labels, np.int8), code=0x09)


@pytest.mark.parametrize("train, test, expected", [
    ([0, 1, 2, 100], [0], "the labels go up to 100, but 97 of the classes below have no training example (the "
                          "first: 3)"),
    ([0, 1, 2, -1], [0], "the labels must be class numbers from 0, found -1"),
])
def test_idx_labels_must_be_class_numbers(tmp_path, train, test, expected):
    write_idx_directory(tmp_path, train, test)
    with pytest.raises(DataError) as refused:
        datasets.idx_directory(tmp_path)
    assert refused.value.message == f"{tmp_path}: {expected}"


def test_a_nan_input_is_bad_data_not_a_diverging_rule(tmp_path):
    images = np.ones((4, 2, 2), np.float32)
    images[2, 1, 0] = np.nan
    write_idx_directory(tmp_path, [0, 1, 0, 1], [0, 1], images)
    with pytest.raises(DataError) as refused:
        datasets.load("idx", tmp_path)
    assert refused.value.message == "idx: 1 training examples hold NaN or infinite inputs (the first: example 2)"


def test_an_idx_header_whose_dimensions_overflow_is_refused(tmp_path):
    path = tmp_path / "huge"
    path.write_bytes(bytes([0, 0, 0x0E, 3]) + (2**32 - 1).to_bytes(4, "big") * 3)
    with pytest.raises(DataError) as refused:
        read_idx(path)
    assert refused.value.message == (f"{path}: the header promises (4294967295, 4294967295, 4294967295) "
                                     f"({(2**32 - 1)**3 * 8} bytes of data), more than the 1073741824 rulec reads")


def test_a_small_gzip_idx_is_inflated_only_up_to_its_declared_size(tmp_path):
    """2 MB of gzip inflating to 2 GiB, behind a header declaring 1 MB, read in a process capped at 1 GiB."""
    path = tmp_path / "bomb.gz"
    zeros = gzip.compress(bytes(2**24))  # gzip members concatenate: 128 of them inflate to 2 GiB
    path.write_bytes(gzip.compress(bytes([0, 0, 0x08, 1]) + (2**20).to_bytes(4, "big")) + zeros * 128)
    assert path.stat().st_size < 3 * 2**20 and MAX_IDX_BYTES <= 2**30
    assert refusal_within_1_gib("rulec.data.idx", "read_idx", path) == (
        f"{path}: the header promises (1048576,) (1048576 bytes of data) but the file holds more")


def refusal_within_1_gib(module: str, function: str, path) -> str:
    """The DataError message of `module.function(path)`, called in a process whose address space is capped at
    1 GiB (a reader that allocated what a hostile file declares would fail there, not refuse)."""
    script = f"""
import resource
resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
from {module} import {function}
from rulec.data.errors import DataError
try:
    {function}({str(path)!r})
except DataError as error:
    print(error.message)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_label_of_2_31_is_refused_without_listing_every_class(tmp_path):
    """Run under a 1 GiB address-space cap: listing the classes below 2**31 - 1 would take 16 GB."""
    write_idx_directory(tmp_path, [0, 1, 0, 1], [0, 1])
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1, 2**31 - 1, 1], ">i4"), code=0x0C)
    assert refusal_within_1_gib("rulec.data.datasets", "idx_directory", tmp_path) == (
        f"{tmp_path}: the labels go up to 2147483647, but 2147483645 of the classes below have no training example "
        "(the first: 2)")


@pytest.fixture(scope="module")
def blur():
    return rulec.load(ROOT / "stdlib_rules" / "blur.rule", k=2)


@pytest.fixture
def blur_file(tmp_path, blur):
    return save_genome(tmp_path / "b", blur, blur.init_genome(jax.random.key(0)))


@pytest.mark.parametrize("dtype", [">f4", ">f8", "<f8", np.longdouble])
def test_big_endian_and_wider_floats_load_by_value(blur_file, blur, dtype):
    rewrite(blur_file, f=np.asarray(0.375, dtype), nu=np.asarray([[1.5, -2.25], [0.5, 3.0]], dtype))
    genome = load_genome(blur_file, blur)
    assert genome["f"].dtype == np.float32 and float(genome["f"]) == 0.375
    np.testing.assert_array_equal(genome["nu"], np.array([[1.5, -2.25], [0.5, 3.0]], np.float32))


@pytest.mark.parametrize("value, expected", [
    (np.float64(1e39), "`eta_w` holds a value too large for float32: 1e+39 overflows float32 (whose largest value "
                       "is 3.403e+38)"),
    (np.longdouble("1e400") if np.finfo(np.longdouble).max > 1e400 else np.float64(np.inf),
     "`eta_w` holds NaN or infinite values"),
])
def test_a_value_beyond_float32_is_refused(blur_file, blur, value, expected):
    rewrite(blur_file, eta_w=np.asarray(value))
    with pytest.raises(RuleError) as refused:
        load_genome(blur_file, blur)
    assert expected in message(refused.value)


def test_a_value_outside_an_entrys_bounds_is_refused_as_on_the_command_line(blur_file, blur):
    rewrite(blur_file, f_w=np.float32(5))
    with pytest.raises(RuleError) as refused:
        load_genome(blur_file, blur)
    assert "`f_w` holds values outside the bounds of `f_w`, [0, 1]" in message(refused.value)


@pytest.mark.parametrize("shape", [(10**12,), (2**30,)])  # 1e12 float32 elements, 4 GiB
def test_a_member_whose_header_declares_more_than_it_holds_is_refused_before_allocating(tmp_path, shape):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": shape})
    path = tmp_path / "g.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lr.npy", header.getvalue() + bytes(4))
    with pytest.raises(RuleError) as refused:
        read_npz(path, "genome file", {"lr": 8})
    assert f"cannot read `lr` in the genome file: its header declares shape {list(shape)} of float32" in \
        message(refused.value)


@pytest.mark.parametrize("test_images, expected", [
    (np.ones((2, 3, 2), np.uint8), "the training images are 2x2 pixels but the t10k images are 3x2 pixels"),
    (None, "the images are 0x0 pixels, without a pixel"),
])
def test_idx_images_must_have_pixels_and_one_size(tmp_path, test_images, expected):
    write_idx_directory(tmp_path, [0, 1, 0, 1], [0, 1], None if test_images is not None else np.ones((4, 0, 0),
                                                                                                    np.uint8))
    if test_images is not None:
        write_idx(tmp_path / "t10k-images-idx3-ubyte", test_images)
    with pytest.raises(DataError) as refused:
        datasets.idx_directory(tmp_path)
    assert refused.value.message == f"{tmp_path}: {expected}"


def test_inputs_whose_squares_overflow_float32_are_bad_data_not_a_diverging_rule(tmp_path):
    images = np.ones((4, 2, 2), np.float32)
    images[1, 0, 0] = 1e36
    write_idx_directory(tmp_path, [0, 1, 0, 1], [0, 1], images)
    with pytest.raises(DataError) as refused:
        datasets.load("idx", tmp_path)
    assert refused.value.message.startswith("idx: 1 training examples hold inputs up to 3.92e+33, which overflow "
                                            "float32")


def test_a_data_directory_that_links_to_itself_is_a_data_error(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(DataError, match="cannot resolve the data directory"):
        datasets.resolved_directory(loop)
    with pytest.raises(DataError, match="no such directory"):
        datasets.idx_directory(loop)
