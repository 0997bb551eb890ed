"""One call per tab's API endpoint of a running hub, with a packaged public-domain portrait; prints one
JSON line per tab saying what came back. Run by space/check.py with the fresh environment's Python:

    python -m space.calls http://127.0.0.1:7860/
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from gradio_client import Client, handle_file
from PIL import Image
from skimage import data

TABS = {  # tab title -> its main API endpoint
    "Age estimation": "/estimate_age",
    "Lifespan aging": "/lifespan",
    "Pluralistic aging": "/pluralistic",
    "Local zone editing": "/edit_zones",
    "Leaderboard": "/leaderboard",
}

ZONE_COUNT = 12  # one slider per zone (engine/faces/zones.py)


def call_tabs(url: str, portrait: Path) -> dict[str, str]:
    """Tab title -> "ok: <what came back>", or the error the call raised."""
    client = Client(url, verbose=False)
    photo = handle_file(str(portrait))
    calls = {
        "Age estimation": lambda: client.predict(photo, 90, api_name="/estimate_age")[4],
        "Lifespan aging": lambda: client.predict(photo, "Single age", 70, "", "", "estimate", 0, "", True, api_name="/lifespan")[
            5
        ],
        "Pluralistic aging": lambda: client.predict(photo, 60, 2, 0.3, None, 0, api_name="/pluralistic")[2],
        "Local zone editing": lambda: client.predict(
            photo, "classical", 0, False, "", 40, *([70] * ZONE_COUNT), api_name="/edit_zones"
        )[2],
        "Leaderboard": lambda: client.predict(search="", api_name="/leaderboard")[1],
    }
    results = {}
    for title, call in calls.items():
        try:
            results[title] = "ok: " + summary(call())
        except Exception as error:  # every tab is reported, whatever the others did
            results[title] = f"failed: {type(error).__name__}: {error}"
    return results


def summary(value) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "age" in value[0]:
        return f"{len(value)} face(s), first aged {value[0]['age']:.1f}"
    if isinstance(value, dict) and "method" in value:
        return str(value["method"])
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    if not text.strip():
        raise ValueError("the endpoint answered with nothing")
    return text[:120].replace("\n", " ")


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        portrait = Path(folder) / "astronaut.png"
        Image.fromarray(data.astronaut()).save(portrait)  # public domain (NASA), ships in scikit-image
        results = call_tabs(sys.argv[1], portrait)
    for title, outcome in results.items():
        print(json.dumps({"tab": title, "outcome": outcome}))
    return 0 if all(outcome.startswith("ok") for outcome in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
