"""Command line of the engine.

    python -m engine age IMAGE... [--confidence 0.9]
    python -m engine calibrate --data DIR|LABELS.csv|ORG/DATASET [--out FILE] [--push ORG/NAME]
    python -m engine lifespan IMAGE --targets 20 40 60|20,40,60 [--source-age 33 --gender male] [--seed 0]
        [--face N | --all-faces] --out DIR
    python -m engine pluralistic IMAGE --target 60 --samples 6 --intensity 0.3 [--seed 0] [--face N] --out DIR
    python -m engine zones IMAGE --score forehead=70 --score crows_feet_left=40 [--renderer classical] [--seed 0] --out DIR

`age` prints one JSON object per face on stdout; a file that cannot be read or
has no face gets one line on stderr naming it and the reason, the other files
are still processed, and the exit code is 2.

Errors by type: bad input the user can fix (UserError) or a model that is not
available here (ModelUnavailable) is one line on stderr and exit code 2; anything
else is a bug and propagates with its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from engine.age.calibration import calibrate, format_report, push_calibration
from engine.age.conformal import on_grid
from engine.age.gender import CRITERIA as GENDER_CRITERIA
from engine.age.labelled import open_labelled
from engine.core.checks import number_in
from engine.core.errors import InputError, SettingsError, UserError
from engine.core.files import writable_folder
from engine.core.images import LoadedImage, keep_photo_notes, load_image
from engine.core.limits import AGE, INTENSITY, MAX_TARGETS, SAMPLES, SEED, WORKING_SIDE, ZONE_SCORE, Range
from engine.core.models import ModelUnavailable
from engine.core.settings import get_settings
from engine.tasks import lifespan as lifespan_task
from engine.tasks import pluralistic as pluralistic_task
from engine.tasks import zones as zones_task
from engine.tasks.estimate import EstimateRequest, estimate
from engine.tasks.lifespan import LifespanRequest, age_photo, parse_targets
from engine.tasks.pluralistic import PluralisticRequest, pluralistic
from engine.tasks.zones import ZONES, ZonesRequest, edit_zones

EXIT_BAD_INPUT = 2
EXIT_CANNOT_WRITE = 1  # the work was done but its outputs could not be written (not the input's fault)


def _read(check: Callable[[object], int | float]) -> Callable[[str], int | float]:
    """An option's parser: the number its text writes (`number_in`: a whole number exact; text that is no number quoted
    as given) passed to `check`, whose refusal (InputError) is the option's message, not argparse's "invalid int value"."""

    def parse(text: str) -> int | float:
        read = number_in(text)
        try:
            return check(text if read is None else read)
        except InputError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _within(rule: Range, name: str) -> Callable[[str], int | float]:
    """An option's parser for a number within `rule` (engine/core/limits.py), named `name` in its refusal: the message
    the tabs and the API give ("seed must be a whole number from 0 to 4294967295, got 'abc'"); a whole number stays
    exact."""

    def check(number: object) -> int | float:
        value = rule.check(number, name)
        return int(number) if rule.whole and isinstance(number, int) else value

    return _read(check)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a share must be a number such as 0.25, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"a share must be strictly between 0 and 1, got {value}")
    return value


# --confidence on the calibrations' grid, 0.50-0.99 in steps of 0.01 (the tab's 50-99 %): 0.905 or 0.3 passed here and,
# with a calibration loaded, ended the whole batch in a traceback
_confidence = _read(on_grid)


def _open(path: str, settings) -> LoadedImage:
    """A photo as the tabs open it: checked, and downscaled to the working size while decoding; what the loader did to
    it (only an animation's first frame read, transparency flattened) is said as it opens, as the tabs say it, so a
    photo then refused for want of a face has been told why it may be."""
    image = load_image(path, max_pixels=settings.max_pixels, min_side=settings.min_side, working_side=WORKING_SIDE)
    for warning in image.warnings:
        print(f"{path}: warning: {warning}", file=sys.stderr)
    if image.note:
        print(f"note: {image.note}", file=sys.stderr)
    return image


def _opened(*images: LoadedImage | None) -> set[str]:
    """What `_open` printed of `images` as they opened (a result's warnings repeat it: not printed again)."""
    return {note for image in images if image is not None for note in (*image.warnings, image.note) if note}


def _missing_model(what: str, error: ModelUnavailable) -> int:
    print(f"{what}: a model is missing: {error}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run_age(args: argparse.Namespace) -> int:

    settings = get_settings()
    failed = False
    for name in args.images:
        try:
            image = _open(name, settings)
            analysis = estimate(EstimateRequest(image.rgb, args.confidence), settings)
        except ModelUnavailable as error:
            return _missing_model("age", error)
        except UserError as error:
            message = str(error)
            print(message if message.startswith(str(name)) else f"{name}: {message}", file=sys.stderr)
            failed = True
            continue
        for warning in analysis.warnings:
            print(f"{name}: warning: {warning}", file=sys.stderr)
        for face in analysis.faces:
            print(json.dumps(face.to_json(str(name), image.scale)), flush=True)
    return EXIT_BAD_INPUT if failed else 0


def run_calibrate(args: argparse.Namespace) -> int:

    settings = get_settings()
    out = Path(args.out or settings.calibration_path)
    try:
        data = open_labelled(args.data, args.image_column, args.age_column, args.gender_column or None)
        if args.data_name:
            data.name = args.data_name
        if args.data_licence:
            data.licence = args.data_licence
        report = calibrate(
            data, out, settings, args.report_fraction, args.selection_fraction, args.min_bin_size, args.gender_criterion
        )
    except ModelUnavailable as error:
        return _missing_model("calibrate", error)
    except UserError as error:
        print(f"calibrate: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(format_report(report))
    if report["data"]["licence"] is None:
        print("calibrate: warning: the data's licence is not stated; pass --data-licence", file=sys.stderr)
    if args.push:
        try:
            url = push_calibration(out, args.push)
        except Exception as error:  # noqa: BLE001 - the artefact is written; say why the upload failed
            print(f"calibrate: the artefact is at {out}, but pushing it to {args.push} failed: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"pushed to {args.push}: {url}")
    return 0


MANIFEST = "manifest.json"  # a run's record in its --out folder: one run a folder


def _earlier_run(out: Path, overwrite: bool) -> None:
    """Refuse (UserError) an --out folder that already holds a run's outputs (its MANIFEST) unless `overwrite`: a second
    run into it replaced the first one's manifest, and its files of the same names, without a word."""
    manifest = out / MANIFEST
    if overwrite or not manifest.exists():
        return
    try:
        image = json.loads(manifest.read_text()).get("image")
    except (OSError, ValueError, AttributeError):  # unreadable, or not a run's manifest: still not to be replaced silently
        image = None
    of = f" (of {image})" if isinstance(image, str) else ""
    raise UserError(
        f"--out {out} already holds a run's outputs{of}: its {MANIFEST}, and its files of the same names, would be "
        "replaced. Name another folder, or pass --overwrite to write over them"
    )


OVERWRITE_HELP = "write over an earlier run's manifest.json, and its files of the same names, in --out (refused without it)"


def _edit_photo(args: argparse.Namespace, what: str, edit, save, opened: tuple[LoadedImage | None, ...] = ()) -> int:
    """Load `args.image`, run `edit(rgb, settings)`, save its images and manifest.json under `args.out` (refused before the
    work where an earlier run's are there, unless `args.overwrite`); `opened`: the other photos the request reads (opened
    before it, their notes printed then).

    Bad input or a missing model is one line on stderr and exit code 2; anything else propagates.
    """

    settings = get_settings()
    try:
        out = writable_folder(args.out)  # before the work: a folder that cannot be written loses nothing yet
        image = _open(args.image, settings)
        _earlier_run(out, args.overwrite)
    except UserError as error:  # it names the file or the folder
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        output = edit(image.rgb, settings)
    except ModelUnavailable as error:
        return _missing_model(what, error)
    except UserError as error:
        print(f"{args.image}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    keep_photo_notes(output.warnings, image)  # what the loader did (transparency flattened, a first frame) is recorded too
    printed = _opened(image, *opened)
    for warning in output.warnings:
        if warning not in printed:  # printed as the photos opened
            print(f"{args.image}: warning: {warning}", file=sys.stderr)
    try:
        files = save(output, out, Path(args.image).stem)
        manifest = out / MANIFEST
        # by absolute path, as its files are: it leads to the photo from wherever the manifest is read
        manifest.write_text(json.dumps({"image": str(Path(args.image).resolve()), **output.manifest(), "files": files}, indent=1))
    except OSError as error:  # the disk filled, or the folder changed while the work ran
        print(f"{args.image}: the outputs could not be written to {out}: {error}", file=sys.stderr)
        return EXIT_CANNOT_WRITE
    print(json.dumps({"manifest": str(manifest), **{k: v for k, v in files.items() if isinstance(v, str)}}))
    return 0


def run_lifespan(args: argparse.Namespace) -> int:

    def edit(rgb, settings):
        request = LifespanRequest(
            rgb,
            parse_targets(" ".join(args.targets)),  # "20 40", "20,40", "20, 40": the tab's box's parser
            args.source_age,
            args.gender,
            args.seed,
            args.extra_prompt,
            paste=not args.no_paste,
            face_index=args.face,
            renderer=args.renderer,
            all_faces=args.all_faces,
            receding_hairline=args.receding_hairline,
            framing=args.framing,
        )
        return age_photo(request, settings)

    return _edit_photo(args, "lifespan", edit, lifespan_task.save_outputs)


def run_pluralistic(args: argparse.Namespace) -> int:
    try:  # before the photo, and named as the option it came from (not as the photo)
        reference = _open(args.reference, get_settings()) if args.reference else None
    except UserError as error:
        print(f"--reference {error}", file=sys.stderr)
        return EXIT_BAD_INPUT

    def edit(rgb, settings):
        request = PluralisticRequest(
            rgb,
            args.target,
            args.samples,
            args.intensity,
            args.seed,
            None if reference is None else reference.rgb,
            args.source_age,
            args.gender,
            renderer=args.renderer,
            receding_hairline=args.receding_hairline,
            face_index=args.face,
        )
        output = pluralistic(request, settings)
        keep_photo_notes(output.warnings, reference)  # the reference's loader notes too
        return output

    return _edit_photo(args, "pluralistic", edit, pluralistic_task.save_outputs, (reference,))


def _score(text: str) -> tuple[str, float]:
    zone, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--score takes ZONE=PERCENT, e.g. forehead=70, got {text!r}")
    try:
        return zone.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--score {text!r}: {value!r} is not a number ({ZONE_SCORE.text()})") from None


def run_zones(args: argparse.Namespace) -> int:

    scores = args.score or []
    repeated = sorted(zone for zone, count in Counter(zone for zone, _ in scores).items() if count > 1)
    if repeated:
        given = "; ".join(f"{zone}: " + ", ".join(f"{value:g}" for z, value in scores if z == zone) for zone in repeated)
        print(f"zones: --score names a zone more than once ({given}): give each zone once", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.all is not None and not ZONE_SCORE.low <= args.all <= ZONE_SCORE.high:
        print(f"zones: --all must be {ZONE_SCORE.text()}, got {args.all:g}", file=sys.stderr)
        return EXIT_BAD_INPUT
    targets = dict(scores)
    if args.all is not None:
        targets = {**{zone: args.all for zone in ZONES}, **targets}
    if not targets:
        print("zones: give --score ZONE=PERCENT (zones: " + ", ".join(ZONES) + ") or --all PERCENT", file=sys.stderr)
        return EXIT_BAD_INPUT

    def edit(rgb, settings):
        request = ZonesRequest(
            rgb, targets, args.renderer, args.seed, source_age=args.source_age, ethnicity=args.ethnicity, refine=args.refine
        )
        result = edit_zones(request, settings)
        # a zone asked for that is at that score already is left as it is: said, since the photo shows no change there
        same = [z for z in request.targets if z not in result.changed and z not in result.located.unplaceable]
        if same:
            result.warnings.append(
                f"Left as they are, already at the score asked (current scores {result.current_source}): "
                + ", ".join(f"{zone} {result.current[zone]:g} %" for zone in same)
            )
        return result

    return _edit_photo(args, "zones", edit, zones_task.save_outputs)


def _help_text(text: str) -> str:
    """`text` as an argparse help string shows it: argparse reads "%" as the start of a format (%(default)s), and a
    bare one ("0-100 %") made every --help of the command fail."""
    return text.replace("%", "%%")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine", description="Face Aging Hub engine")
    parser.add_argument("-v", "--verbose", action="store_true", help="log model loading and timings")
    commands = parser.add_subparsers(dest="command", required=True)

    age = commands.add_parser("age", help="estimate age, interval and gender of every face")
    age.add_argument("images", nargs="+", metavar="IMAGE")
    age.add_argument(
        "--confidence", type=_confidence, default=0.9, help="interval confidence, 0.50-0.99 in steps of 0.01 (default 0.9)"
    )
    age.set_defaults(run=run_age)

    cal = commands.add_parser("calibrate", help="calibrate conformal age intervals on a labelled folder")
    cal.add_argument(
        "--data",
        required=True,
        help="folder of images named {age}_{gender}_{race}_*.jpg (UTKFace), a CSV of file,age,gender, "
        "or a Hub dataset id ORG/NAME[@REVISION] with age labels",
    )
    cal.add_argument("--data-name", default=None, help="the data's name in the artefact (default: folder, CSV or repo name)")
    cal.add_argument("--data-licence", default=None, help="the data's licence (a Hub dataset's comes from its card)")
    cal.add_argument("--image-column", default="image", help="Hub dataset: the image column (default image)")
    cal.add_argument("--age-column", default="age", help="Hub dataset: the age column (default age)")
    cal.add_argument("--gender-column", default="gender", help="Hub dataset: the gender column ('' for none)")
    cal.add_argument("--out", default=None, help="artefact path (default: HUB_CALIBRATION or calibration/age_conformal.json)")
    cal.add_argument("--report-fraction", type=_fraction, default=0.25, help="share held out to report coverage (0.25)")
    cal.add_argument("--selection-fraction", type=_fraction, default=0.25, help="share held out to choose the method (0.25)")
    cal.add_argument("--push", default=None, metavar="ORG/NAME", help="upload the artefact with a model card to this Hub repo")
    cal.add_argument("--min-bin-size", type=int, default=30, help="smaller age bins use the pooled quantile (default 30)")
    cal.add_argument(
        "--gender-criterion",
        choices=GENDER_CRITERIA,
        default=GENDER_CRITERIA[0],
        help="what the gender threshold maximises on the calibration part (default balanced_accuracy)",
    )
    cal.set_defaults(run=run_calibrate)

    life = commands.add_parser("lifespan", help="age or rejuvenate a face (the largest, --face N, or every face) to target ages")
    life.add_argument("image")
    life.add_argument(
        "--targets",
        nargs="+",
        action="extend",  # given twice, both lists count (the last alone was kept, the others dropped unsaid)
        required=True,
        help=f"target ages, {_help_text(AGE.text())}, at most {MAX_TARGETS}, separated by spaces or commas (20 40 60 or 20,40,60)",
    )
    life.add_argument("--source-age", default=None, help=f"{_help_text(AGE.text())} (default: estimated)")
    life.add_argument("--gender", choices=("male", "female"), default=None, help="default: estimated")
    life.add_argument("--seed", type=_within(SEED, "seed"), default=0, help=f"{_help_text(SEED.text())}")
    life.add_argument("--extra-prompt", default=None, help='an extra attribute, e.g. "grey hair" (uses strength 0.75)')
    life.add_argument("--no-paste", action="store_true", help="skip pasting the faces back into the photo")
    life.add_argument(
        "--face",
        type=int,
        default=None,
        help="the face to age, numbered as `age` numbers them (0: the largest, the default)",
    )
    life.add_argument(
        "--all-faces",
        action="store_true",
        help="age every detected face of a group photo (classical renderer); default: the largest",
    )
    life.add_argument(
        "--receding-hairline",
        action="store_true",
        help="the hairline and temples recede with age, Norwood-Hamilton by age (classical renderer; on faces whose "
        "gender, given or estimated, is male)",
    )
    life.add_argument(
        "--framing",
        choices=("face", "photo"),
        default="face",
        help="the strip and the animation show the aligned face (default) or the whole photo at its own framing",
    )
    life.add_argument(
        "--renderer",
        choices=("auto", "diffusion", "classical"),
        default="auto",
        help="auto: Cradle2Cane where its models load, else the classical renderer",
    )
    life.add_argument("--out", required=True, help="folder for the images and manifest.json, one run a folder")
    life.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    life.set_defaults(run=run_lifespan)

    zones = commands.add_parser("zones", help="age or smooth wrinkles zone by zone (LDLA)")
    zones.add_argument("image")
    zones.add_argument(
        "--score",
        action="append",
        type=_score,
        metavar="ZONE=PERCENT",
        help=f"target score of a zone, {_help_text(ZONE_SCORE.text())}",
    )
    zones.add_argument(
        "--all",
        type=float,
        default=None,
        metavar="PERCENT",
        help=f"one target score for every zone, {_help_text(ZONE_SCORE.text())}",
    )
    zones.add_argument("--renderer", choices=("classical", "diffusion"), default="classical")
    zones.add_argument("--seed", type=_within(SEED, "seed"), default=0, help=f"{_help_text(SEED.text())}")
    zones.add_argument(
        "--source-age",
        default=None,
        help=f"age the current scores are assumed from, {_help_text(AGE.text())} (default: estimated)",
    )
    zones.add_argument("--ethnicity", default=None, help="for the diffusion renderer's prompt (optional)")
    zones.add_argument("--refine", action="store_true", help="whole-face refiner pass (diffusion renderer)")
    zones.add_argument("--out", required=True)
    zones.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    zones.set_defaults(run=run_zones)

    plural = commands.add_parser("pluralistic", help="several plausible futures of the largest face at one age")
    plural.add_argument("image")
    plural.add_argument("--target", required=True, help=f"target age, {_help_text(AGE.text())}")
    plural.add_argument("--samples", type=_within(SAMPLES, "samples"), default=4, help=SAMPLES.text())
    plural.add_argument(
        "--intensity",
        type=_within(INTENSITY, "intensity (diversity)"),
        default=0.3,
        help=f"diversity: PAE sampling intensity, {_help_text(INTENSITY.text())}",
    )
    plural.add_argument("--seed", type=_within(SEED, "seed"), default=0, help=f"{_help_text(SEED.text())}")
    plural.add_argument("--reference", default=None, help="a face of the target age (image-guided mode, needs an age encoder)")
    plural.add_argument("--source-age", default=None, help=f"{_help_text(AGE.text())} (default: estimated)")
    plural.add_argument("--gender", choices=("male", "female"), default=None)
    plural.add_argument("--renderer", choices=("auto", "diffusion", "classical"), default="auto")
    plural.add_argument(
        "--face",
        type=int,
        default=None,
        help="the face to draw futures of, numbered as `age` numbers them (0: the largest, the default)",
    )
    plural.add_argument(
        "--receding-hairline",
        action="store_true",
        help="men's futures may recede at the hairline, as often as men not receded at the source age do by the target "
        "age (classical renderer)",
    )
    plural.add_argument("--out", required=True)
    plural.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    plural.set_defaults(run=run_pluralistic)

    # ages are given as text to the tasks, which read them as the tabs' boxes are read (engine/core/checks.parse_age): the
    # same message for "abc" from every command (argparse's own "invalid float value" before)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except SettingsError as error:  # an environment variable it cannot take: named in one line
        print(f"python -m engine: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
