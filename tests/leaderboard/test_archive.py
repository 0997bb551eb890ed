"""A zip of outputs: streamed under caps, names checked, exactly the expected outputs, no copies of the inputs."""

from __future__ import annotations

import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from leaderboard.archive import ArchiveLimits, SubmissionError, unpack_outputs

pytestmark = pytest.mark.unit

RNG = np.random.default_rng(0)
INPUTS = {f"{who}_{t}.png": RNG.integers(0, 255, (48, 40, 3), dtype=np.uint8) for who in ("a", "b") for t in (10, 70)}


def png(rgb) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def aged(name):
    return png(255 - INPUTS[name])  # anything but a copy


def make_zip(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def unpack(path, dest, **limits):
    return unpack_outputs(path, INPUTS, dest, max_pixels=10_000, min_side=16, limits=ArchiveLimits(**limits))


def test_a_complete_zip_is_unpacked(tmp_path):
    unpacked = unpack(make_zip(tmp_path / "ok.zip", {f"outputs/{n}": aged(n) for n in INPUTS}), tmp_path / "out")
    assert unpacked.names == sorted(INPUTS) and sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(INPUTS)


def test_a_desktops_zip_is_unpacked_without_its_archivers_files(tmp_path):
    # macOS Finder's "Compress" adds __MACOSX/ and .DS_Store (refused as "not an expected output"), Windows Thumbs.db
    extra = {"outputs/.DS_Store": b"\x00\x00\x00\x01Bud1", "__MACOSX/outputs/._a_10.png": b"\x00\x05\x16\x07", "Thumbs.db": b"x"}
    members = {f"outputs/{n}": aged(n) for n in INPUTS} | extra
    unpacked = unpack(make_zip(tmp_path / "finder.zip", members), tmp_path / "out")
    assert unpacked.names == sorted(INPUTS) and sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(INPUTS)


@pytest.mark.parametrize("name, message", [("", "an entry with no name"), (".", "zip entry '.' is not an expected output")])
def test_an_entry_without_a_file_name_is_refused_in_words(tmp_path, name, message):
    # an empty name raised an IndexError from zipfile's own is_dir(); '.' one from the archiver files' check
    with zipfile.ZipFile(tmp_path / "odd.zip", "w") as archive:
        for output in INPUTS:
            archive.writestr(output, aged(output))
        archive.writestr(zipfile.ZipInfo(name), b"x")
    with pytest.raises(SubmissionError, match=message):
        unpack(tmp_path / "odd.zip", tmp_path / "out")


def test_the_same_outputs_zipped_again_or_saved_with_another_compression_have_one_pixel_digest(tmp_path):
    members = {n: aged(n) for n in INPUTS}
    first = unpack(make_zip(tmp_path / "one.zip", members), tmp_path / "one")
    stored = unpack(make_zip(tmp_path / "two.zip", members, zipfile.ZIP_STORED), tmp_path / "two")
    recompressed = {}
    for name, data in members.items():
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).save(buffer, format="PNG", compress_level=1)
        recompressed[name] = buffer.getvalue()
    assert recompressed != members
    again = unpack(make_zip(tmp_path / "three.zip", recompressed), tmp_path / "three")
    assert (tmp_path / "one.zip").read_bytes() != (tmp_path / "two.zip").read_bytes()
    assert first.pixels_sha256 == stored.pixels_sha256 == again.pixels_sha256
    changed = dict(members, **{sorted(INPUTS)[0]: aged(sorted(INPUTS)[1])})  # one output another's pixels
    assert unpack(make_zip(tmp_path / "four.zip", changed), tmp_path / "four").pixels_sha256 != first.pixels_sha256


@pytest.mark.parametrize(
    "members, message",
    [
        ({}, r"lacks 4 of the 4 expected outputs: a_10.png, a_70.png, b_10.png, b_70.png \(the zip is empty\)"),
        ({"junk.bin": b"\x00" * 10}, "zip entry 'junk.bin' is not an expected output"),
        ({n: aged(n) for n in list(INPUTS)[:3]}, "lacks 1 of the 4 expected outputs: b_70.png"),
        ({**{n: aged(n) for n in INPUTS}, "extra/a_10.png": aged("a_10.png")}, "a_10.png is in the zip twice"),
        ({**{n: aged(n) for n in INPUTS}, "a_10.png": b"not a png"}, "1 output.s. cannot be read: a_10.png is not an image"),
        # one reason, told once for every output it holds for (not the same sentence four times)
        (
            {n: b"not a png" for n in INPUTS},
            "4 output.s. cannot be read: a_10.png, a_70.png, b_10.png, b_70.png: each is not an image that can be read[^;]*$",
        ),
        (
            {n: png(INPUTS[n]) for n in INPUTS},
            "4 output.s. are copies of their input images: a_10.png, a_70.png, b_10.png, b_70.png",
        ),
        ({**{n: aged(n) for n in INPUTS}, "b_70.png": png(np.zeros((200, 200, 3), np.uint8))}, "b_70.png is 200x200 px .* limit"),
        ({**{n: aged(n) for n in INPUTS}, "../a_10.png": b""}, "points outside the submission folder"),
    ],
)
def test_refused_zips_name_the_files_and_leave_nothing(tmp_path, members, message):
    with pytest.raises(SubmissionError, match=message):
        unpack(make_zip(tmp_path / "bad.zip", members), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_small_zip_that_expands_hugely_is_stopped_while_streaming(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", {**{n: aged(n) for n in INPUTS}, "a_10.png": b"\x00" * (64 * 2**20)})
    assert bomb.stat().st_size < 2**20
    with pytest.raises(SubmissionError, match="a_10.png expands more than 100 times"):
        unpack(bomb, tmp_path / "out")
    with pytest.raises(SubmissionError, match=r"a_10.png unpacks to more than 1 MB \(the limit per file\)"):
        unpack(bomb, tmp_path / "out", member_bytes=2**20)
    stored = make_zip(tmp_path / "stored.zip", {n: aged(n) + b"\x00" * 2**19 for n in INPUTS}, zipfile.ZIP_STORED)
    with pytest.raises(SubmissionError, match=r"unpacks to more than 1 MB \(the limit in all\)"):
        unpack(stored, tmp_path / "out", total_bytes=2**20)
    assert not (tmp_path / "out").exists()


def test_the_declared_sizes_are_not_trusted(tmp_path):
    path = make_zip(tmp_path / "lying.zip", {**{n: aged(n) for n in INPUTS}, "a_10.png": b"\x00" * (3 * 2**20)})
    raw = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size: local header, directory
        at = raw.find(signature)
        raw[at + offset : at + offset + 4] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(SubmissionError, match="a_10.png (unpacks to more than|is corrupt|expands more)"):
        unpack(path, tmp_path / "out", member_bytes=2**20)


def test_counts_links_corruption_and_non_zips(tmp_path):
    many = make_zip(tmp_path / "many.zip", {f"dir{i}/": b"" for i in range(30)})
    with pytest.raises(SubmissionError, match="the zip holds 30 entries; the limit is 20"):
        unpack(many, tmp_path / "out", members=20)
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as archive:
        info = zipfile.ZipInfo("a_10.png")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(SubmissionError, match="is a link"):
        unpack(link, tmp_path / "out")
    corrupt = make_zip(tmp_path / "corrupt.zip", {n: aged(n) for n in INPUTS})
    raw = bytearray(corrupt.read_bytes())
    raw[60:90] = b"\xff" * 30  # inside the first member's compressed data
    corrupt.write_bytes(bytes(raw))
    with pytest.raises(SubmissionError, match="a_10.png is corrupt in the zip"):
        unpack(corrupt, tmp_path / "out")
    (tmp_path / "text.zip").write_text("hello")
    with pytest.raises(SubmissionError, match="not a zip archive"):
        unpack(tmp_path / "text.zip", tmp_path / "out")
    with pytest.raises(SubmissionError, match=r"the zip is [\d.]+ KB; the limit is 10 bytes"):
        unpack(corrupt, tmp_path / "out", zip_bytes=10)
    assert not (tmp_path / "out").exists()


def test_a_directory_that_outnumbers_its_end_records_count_is_refused(tmp_path):
    # the end record says one entry; the central directory holds 300: refused by the directory's own count, and a
    # directory larger than the limit's entries can take is refused before it is read
    liar = make_zip(tmp_path / "liar.zip", {f"x{i:03d}.png": b"" for i in range(300)})
    raw = bytearray(liar.read_bytes())
    end = raw.rfind(b"PK\x05\x06")
    raw[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2  # entries on this disk, entries in all
    liar.write_bytes(bytes(raw))
    with pytest.raises(SubmissionError, match="the zip holds 300 entries; the limit is 20"):
        unpack(liar, tmp_path / "out", members=20)
    with pytest.raises(SubmissionError, match="far more than 2 files need"):
        unpack(liar, tmp_path / "out", members=2)
    assert not (tmp_path / "out").exists()
