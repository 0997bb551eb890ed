"""Lint of the Space configuration: the YAML front matter at the top of README.md, checked against
requirements.txt, pyproject.toml and the model catalogue (engine/core/registry.py).

    python -m space.frontmatter      # prints each problem; exit status 1 when there is one
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import yaml

from engine.core.registry import SPECS

ROOT = Path(__file__).resolve().parents[1]

REQUIRED = (
    "title",
    "sdk",
    "sdk_version",
    "python_version",
    "app_file",
    "license",
    "suggested_hardware",
    "models",
    "datasets",
    "preload_from_hub",
)

# The hardware flavours a Space can suggest (Hub docs, "Spaces configuration reference").
HARDWARE = (
    "cpu-basic",
    "cpu-upgrade",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
    "zero-a10g",
)

SHORT_DESCRIPTION_MAX = 60  # the Hub refuses a longer one (Spaces configuration reference)

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class FrontMatterError(ValueError):
    """The README has no readable front matter."""


def read_front_matter(readme: Path) -> dict:
    text = readme.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise FrontMatterError(f"{readme} does not start with a '---' line: a Space reads its configuration from there")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise FrontMatterError(f"{readme}: the front matter has no closing '---' line")
    data = yaml.safe_load(text[4:end])
    if not isinstance(data, dict):
        raise FrontMatterError(f"{readme}: the front matter is not a YAML mapping")
    return data


def pins(requirements: Path) -> dict[str, str]:
    """Package name (lower case) -> the exact version it is pinned to ('' when not pinned exactly)."""
    found = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name = re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower().replace("_", "-")
        match = re.fullmatch(r"[\w.\-\[\]]+==([\w.+]+)", line)
        found[name] = match.group(1) if match else ""
    return found


def hub_repos() -> set[str]:
    """The Hub repos the app loads: every `hub:` source in the model catalogue, as owner/name."""
    return {"/".join(spec.source.partition(":")[2].split("/")[:2]) for spec in SPECS if spec.source.startswith("hub:")}


# Models the app loads only when a setting asks for them: listed under `models:`, not preloaded
# (the SDXL refiner is about 6 GB that the default settings never touch; it downloads on first use).
OPT_IN = {"stabilityai/stable-diffusion-xl-refiner-1.0": "HUB_LDLA_REFINER=sdxl-refiner"}


def lint(root: Path = ROOT) -> list[str]:
    """Every problem with the Space configuration in `root`, each naming the key and what to do."""
    try:
        config = read_front_matter(root / "README.md")
    except FrontMatterError as error:
        return [str(error)]
    problems = [f"{key}: missing from the README front matter" for key in REQUIRED if key not in config]
    requirements = pins(root / "requirements.txt")
    loose = sorted(name for name, version in requirements.items() if not version)
    if loose:
        problems.append(f"requirements.txt: pin these exactly (name==version), as a Space build should be repeatable: {loose}")
    if config.get("sdk") != "gradio":
        problems.append(f"sdk: must be gradio (ZeroGPU works only with the Gradio SDK), got {config.get('sdk')!r}")
    if "sdk_version" in config and str(config["sdk_version"]) != requirements.get("gradio"):
        problems.append(
            f"sdk_version: {config['sdk_version']} differs from gradio=={requirements.get('gradio')} in requirements.txt"
        )
    python = config.get("python_version")
    if "python_version" in config:
        requires = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
        least = tuple(int(part) for part in requires.removeprefix(">=").split("."))
        if not isinstance(python, str) or not re.fullmatch(r"3\.\d+(\.\d+)?", python):
            problems.append(f'python_version: quote it as a string such as "3.11" (YAML reads 3.10 as 3.1), got {python!r}')
        elif tuple(int(part) for part in python.split(".")[:2]) < least:
            problems.append(f"python_version: {python} is older than requires-python {requires} in pyproject.toml")
    if "app_file" in config and not (root / str(config["app_file"])).is_file():
        problems.append(f"app_file: {config['app_file']} does not exist")
    if len(str(config.get("short_description", ""))) > SHORT_DESCRIPTION_MAX:
        problems.append(f"short_description: at most {SHORT_DESCRIPTION_MAX} characters, got {len(config['short_description'])}")
    if config.get("license") == "other":
        problems += [f"{key}: needed with license: other" for key in ("license_name", "license_link") if not config.get(key)]
    if "suggested_hardware" in config and config["suggested_hardware"] not in HARDWARE:
        problems.append(f"suggested_hardware: {config['suggested_hardware']!r} is not one of {', '.join(HARDWARE)}")
    for key in ("models", "datasets"):
        bad = [repo for repo in config.get(key) or [] if not isinstance(repo, str) or not REPO_ID.match(repo)]
        if bad:
            problems.append(f"{key}: not Hub repo ids (owner/name): {bad}")
    models = set(config.get("models") or [])
    needed = hub_repos()
    if needed - models:
        problems.append(f"models: the app loads {sorted(needed - models)} from the Hub; list them")
    if models - needed:
        problems.append(f"models: {sorted(models - needed)} are listed but the app loads none of them")
    preloaded = {}
    for item in config.get("preload_from_hub") or []:
        parts = str(item).split()
        if not parts or len(parts) > 3 or not REPO_ID.match(parts[0]):
            problems.append(f"preload_from_hub: {item!r} is not 'owner/name [file1,file2] [revision]'")
            continue
        preloaded[parts[0]] = parts[1].split(",") if len(parts) > 1 else []
    if needed - set(preloaded) - set(OPT_IN):
        problems.append(
            f"preload_from_hub: {sorted(needed - set(preloaded) - set(OPT_IN))} would download at run time; preload them"
        )
    return problems


def main() -> int:
    problems = lint()
    for problem in problems:
        print(f"README front matter: {problem}", file=sys.stderr)
    if not problems:
        print("README front matter: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
