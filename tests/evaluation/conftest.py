"""A local OpenAI-compatible server with scripted replies, for the VLM judge's tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluation.judge import Judge


class Script:
    """Replies in order; each is ("ok", text), ("status", code), or ("slow", seconds)."""

    def __init__(self, replies):
        self.replies, self.calls, self.lock = list(replies), 0, threading.Lock()
        self.bodies = []

    def next(self):
        with self.lock:
            self.calls += 1
            return self.replies.pop(0) if self.replies else ("ok", "age:30")


@pytest.fixture
def server():
    script = Script([])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            script.bodies.append(json.loads(self.rfile.read(length)))
            kind, value = script.next()
            if kind == "slow":
                time.sleep(value)
                kind, value = "ok", "age:30"
            if kind == "status":
                self.send_response(value)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"error": {"message": "busy", "type": "server"}}).encode())
                return
            body = {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "judge",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": value}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    httpd.shutdown()


# a folder method's outputs for the offline benchmark: its two portraits at its four targets
NAMES = [f"{who}_{t}.png" for who in ("astronaut", "grace_hopper") for t in (10, 30, 50, 70)]


def face_outputs(folder: Path) -> Path:
    """`folder` holding the offline benchmark's outputs (`NAMES`): a face (scikit-image's camera operator, neither
    benchmark input) in each, each a grey level lighter than the last (a judge asked about them sees distinct images;
    outputs without a face are not listed)."""
    from skimage import data  # noqa: PLC0415 - the photo loads only for the tests that write outputs

    camera = np.repeat(data.camera()[..., None], 3, axis=2).astype(np.int16)
    folder.mkdir()
    for index, name in enumerate(NAMES):
        Image.fromarray(np.clip(camera + index, 0, 255).astype(np.uint8)).save(folder / name)
    return folder


def judge(url, **kwargs):
    return Judge(url, "judge", timeout=kwargs.pop("timeout", 2.0), backoff=0.01, **kwargs)


def tiny_faces_dataset(folder):
    """A Hub-style parquet dataset in `folder`: `data/{split}-0000N-of-00002.parquet` shards with an image
    struct column {bytes, path}, a gender `label` class column (0 female, 1 male, as CelebA-HQ's card
    names them) and an `age` column, and a README card naming the classes. Validation rows: the two
    shipped portraits (female), two crops of them labelled male, a faceless gradient (male) and a row
    without a gender label; two rows per row group."""
    import io
    from pathlib import Path

    import matplotlib
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image
    from skimage import data

    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    astronaut = Image.fromarray(data.astronaut())
    hopper = Image.open(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg").convert("RGB")
    gradient = Image.fromarray(np.tile(np.linspace(0, 255, 256, dtype=np.uint8)[None, :, None], (256, 1, 3)))

    def encoded(image, size=256):
        buffer = io.BytesIO()
        image.resize((size, size)).save(buffer, format="JPEG", quality=92)
        return buffer.getvalue()

    faces = [  # (image, label, age)
        (encoded(astronaut), 0, 41),
        (encoded(hopper.crop((100, 20, 420, 340))), None, 79),  # no gender label: passed over
        (encoded(hopper.transpose(Image.Transpose.FLIP_LEFT_RIGHT).crop((60, 0, 460, 400))), 1, 79),
        (encoded(gradient), 1, 30),  # no face: its rows are missing, with the reason
        (encoded(hopper), 0, 79),
        (encoded(astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT).crop((60, 0, 440, 380))), 1, 41),
    ]

    def table(rows, offset):
        return pa.table(
            {
                "image": [{"bytes": b, "path": f"{offset + i}.jpg"} for i, (b, _, _) in enumerate(rows)],
                "label": pa.array([label for _, label, _ in rows], pa.int64()),
                "age": [age for _, _, age in rows],
            }
        )

    pq.write_table(table(faces[:4], 0), folder / "data" / "validation-00000-of-00002.parquet", row_group_size=2)
    pq.write_table(table(faces[4:], 4), folder / "data" / "validation-00001-of-00002.parquet", row_group_size=2)
    pq.write_table(table(faces[:1], 0), folder / "data" / "train-00000-of-00001.parquet")
    (folder / "README.md").write_text(
        "---\nlicense: other\ndataset_info:\n  features:\n  - name: image\n    dtype: image\n  - name: label\n"
        "    dtype:\n      class_label:\n        names:\n          '0': female\n          '1': male\n  - name: age\n"
        "    dtype: int64\n---\n# tiny faces\n"
    )
    return folder
