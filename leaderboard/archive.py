"""A submitted zip of outputs, read as a stream under caps, holding exactly the protocol's outputs.

Before anything is decompressed: the file size, the member count and the central
directory's size (read from the end-of-archive record, so a zip of millions of
entries is refused before Python lists them), then every member's name (no absolute
paths, no `..`, no drive letters or backslashes, no links, no encrypted members, only
the expected `{input}_{target}.png`, each once). Then each member is decompressed in
chunks to disk, counting the bytes actually produced (the sizes a zip declares are not
trusted) against the per-member and total caps and the compression ratio. Each image
is then decoded under the pixel cap, and an output whose pixels are a copy of its
input is refused. Every refusal names the files; a refused zip leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from engine.core.errors import UserError
from engine.core.images import InputError, load_image
from engine.core.limits import MAX_UPLOAD_BYTES, megabytes

CHUNK = 1 << 20

# A PNG is already deflated, so zipping it again barely shrinks it (ratio near 1); zip bombs
# reach ratios in the thousands. 100 is Apache POI's default bomb threshold (ZipSecureFile's
# minimum inflate ratio 0.01).
MAX_RATIO = 100.0
# The ratio is only judged once a member has produced this much: a tiny file can compress well.
RATIO_FLOOR_BYTES = 1 << 20
# An output copied from its input, saved losslessly or rounded once, differs by at most a level or two.
# A subtler measure is not used: the classical renderer's own outputs differ from their inputs less
# than a JPEG re-encoding at quality 75 does (mean |difference| 0.01-0.08 vs 0.3 grey levels at
# 128 px, measured on the offline benchmark), so "nearly identical" beyond this would refuse real outputs.
COPY_MAX_LEVELS = 2


# The most a central-directory entry of an output takes: 46 bytes, a name (an output's is a benchmark input's name and a
# target, a few tens of bytes; 255 is a file system's limit) and extra fields (ZIP64 sizes, timestamps: tens of bytes;
# 1 KiB is ample). The end record's entry count can lie: bounded by a name and extra field each as long as the format
# allows (64 KiB), a 260 MB directory of 4 million entries passed under a count of 1, and Python's zipfile read every
# entry (1.7 GB, 23 s) before any was checked.
DIRECTORY_ENTRY_BYTES = 46 + 255 + 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on a submitted zip; the defaults fit the offline benchmark's 8 outputs many times over."""

    zip_bytes: int = MAX_UPLOAD_BYTES  # the server refuses larger uploads before any code sees them
    members: int = 2000
    member_bytes: int = 64 * 2**20
    total_bytes: int = 512 * 2**20
    ratio: float = MAX_RATIO


class SubmissionError(UserError):
    """A refused submission; the message says why and what to fix."""


def _end_record(path: Path) -> tuple[int, int]:
    """(entries, central directory bytes) from the end-of-archive record (ZIP64 included)."""
    with path.open("rb") as stream:
        size = stream.seek(0, 2)
        tail_size = min(size, 22 + 65535 + 20)
        stream.seek(size - tail_size)
        tail = stream.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise SubmissionError("the file is not a zip archive (no end-of-archive record): upload a .zip")
        entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
        if entries == 0xFFFF or directory == 0xFFFFFFFF:  # ZIP64: the real numbers are in the ZIP64 record
            locator = tail[at - 20 : at] if at >= 20 else b""
            if locator[:4] != b"PK\x06\x07":
                raise SubmissionError("the zip's ZIP64 end record is missing: re-create the zip")
            (offset,) = struct.unpack("<Q", locator[8:16])
            stream.seek(offset)
            record = stream.read(56)
            if record[:4] != b"PK\x06\x06":
                raise SubmissionError("the zip's ZIP64 end record is corrupt: re-create the zip")
            entries, directory = struct.unpack("<QQ", record[32:48])
    return entries, directory


# what a desktop's zip adds beside the files chosen (macOS Finder: __MACOSX/ and .DS_Store; Windows Explorer:
# Thumbs.db, desktop.ini): passed over, never extracted (Finder's zip of the outputs was refused for its .DS_Store)
ARCHIVER_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def _checked_names(archive: zipfile.ZipFile, expected: set[str]) -> dict[str, zipfile.ZipInfo]:
    found: dict[str, zipfile.ZipInfo] = {}
    for member in archive.infolist():
        name = member.filename
        if not name:  # zipfile's own is_dir() fails on it
            raise SubmissionError("the zip holds an entry with no name; re-create the zip from the output files")
        path = PurePosixPath(name)
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in path.parts or "\\" in name:
            raise SubmissionError(f"zip entry {name!r} points outside the submission folder; refused")
        if stat.S_ISLNK(member.external_attr >> 16):
            raise SubmissionError(f"zip entry {name!r} is a link; refused")
        if member.is_dir() or path.parts[:1] == ("__MACOSX",) or path.name in ARCHIVER_FILES:
            continue
        if member.flag_bits & 0x1:
            raise SubmissionError(f"zip entry {name!r} is encrypted; upload an unencrypted zip")
        if path.name not in expected:
            raise SubmissionError(
                f"zip entry {name!r} is not an expected output; name files {{input}}_{{target}}.png, "
                f"exactly these: {', '.join(sorted(expected))}"
            )
        if path.name in found:
            raise SubmissionError(f"{path.name} is in the zip twice ({found[path.name].filename!r} and {name!r}); keep one")
        found[path.name] = member
    return found


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, limits: ArchiveLimits, total: int) -> int:
    """Decompress one member to `target` in chunks; the bytes it produced."""
    produced = 0
    try:
        with archive.open(member) as source, target.open("wb") as sink:
            while chunk := source.read(CHUNK):
                produced += len(chunk)
                if produced > limits.member_bytes:
                    raise SubmissionError(
                        f"{member.filename} unpacks to more than {megabytes(limits.member_bytes)} (the limit per file); refused"
                    )
                if total + produced > limits.total_bytes:
                    raise SubmissionError(
                        f"the zip unpacks to more than {megabytes(limits.total_bytes)} (the limit in all); refused"
                    )
                if produced > RATIO_FLOOR_BYTES and produced > limits.ratio * max(member.compress_size, 1):
                    raise SubmissionError(
                        f"{member.filename} expands more than {limits.ratio:g} times ({megabytes(member.compress_size)} "
                        f"compressed); PNG outputs barely compress, so this looks like a zip bomb; refused"
                    )
                sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise SubmissionError(f"{member.filename} is corrupt in the zip ({error}); re-create the zip") from None
    return produced


@dataclass(frozen=True)
class Unpacked:
    """What a zip of outputs unpacked to: the outputs' names, and a digest of their decoded pixels (each name, its image's
    shape and its RGB values, in name order): the same outputs zipped again, or saved with another PNG compression, have
    the same digest while the zip's own differs."""

    names: list[str]
    pixels_sha256: str


def unpack_outputs(
    zip_path: Path,
    inputs: dict[str, np.ndarray],
    dest: Path,
    *,
    max_pixels: int,
    min_side: int,
    limits: ArchiveLimits = ArchiveLimits(),
) -> Unpacked:
    """Unpack a zip of outputs into `dest` (created) and return their names and pixels' digest, or raise SubmissionError.

    `inputs` maps every expected output name to the benchmark input it was made from.
    On any refusal `dest` is removed.
    """
    size = zip_path.stat().st_size
    if size > limits.zip_bytes:
        raise SubmissionError(f"the zip is {megabytes(size)}; the limit is {megabytes(limits.zip_bytes)}")
    entries, directory = _end_record(zip_path)
    if entries > limits.members:
        raise SubmissionError(f"the zip holds {entries} entries; the limit is {limits.members}")
    if directory > limits.members * DIRECTORY_ENTRY_BYTES:
        raise SubmissionError(f"the zip's directory is {megabytes(directory)}, far more than {limits.members} files need")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as error:
        raise SubmissionError(f"the file is not a readable zip archive ({error})") from None
    listed = len(archive.infolist())
    if listed > limits.members:  # the end record's count can lie: the directory's own
        archive.close()
        raise SubmissionError(f"the zip holds {listed} entries; the limit is {limits.members}")
    dest.mkdir(parents=True, exist_ok=False)
    try:
        with archive:
            members = _checked_names(archive, set(inputs))
            missing = sorted(set(inputs) - set(members))
            if missing:
                raise SubmissionError(
                    f"the zip lacks {len(missing)} of the {len(inputs)} expected outputs: {', '.join(missing)}"
                    + (" (the zip is empty)" if not members else "")
                )
            total = 0
            for name, member in sorted(members.items()):
                total += _extract(archive, member, dest / name, limits, total)
        # why an output cannot be read (its name as "each"), and the outputs it holds for: one reason, told once for every
        # output it holds for (eight outputs that were not images gave the same sentence eight times)
        unreadable: dict[str, list[str]] = {}
        copies = []
        pixels = hashlib.sha256()
        for name in sorted(members):
            try:
                output = load_image(dest / name, max_pixels=max_pixels, min_side=min_side, name=name).rgb
            except InputError as error:
                unreadable.setdefault(str(error).replace(name, "each", 1), []).append(name)
                continue
            pixels.update(f"{name}:{output.shape}:".encode())
            pixels.update(np.ascontiguousarray(output).tobytes())
            source = inputs[name]
            if output.shape == source.shape and int(np.abs(output.astype(np.int16) - source).max()) <= COPY_MAX_LEVELS:
                copies.append(name)
        problems = []
        if unreadable:
            count = sum(len(names) for names in unreadable.values())
            reasons = "; ".join(
                reason.replace("each", names[0], 1) if len(names) == 1 else f"{', '.join(names)}: {reason}"
                for reason, names in unreadable.items()
            )
            problems.append(f"{count} output(s) cannot be read: {reasons}")
        if copies:
            problems.append(f"{len(copies)} output(s) are copies of their input images: {', '.join(copies)}")
        if problems:
            raise SubmissionError(". ".join(problems))
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return Unpacked(sorted(members), pixels.hexdigest())
