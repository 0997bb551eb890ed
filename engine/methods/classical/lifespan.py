"""Lifespan aging without diffusion: a data-free model of the signs of age, on the aligned face.

For each target age, from the source age (engine/methods/classical/aging.py for the maths):
1. wrinkles: toward an older target every zone goes to the score the age curves give for it (the zone
   renderer), with the whole face's fine skin texture and tone; a younger target's are taken out in 2.;
2. skin: older targets take an older prototype's skin detail (texture.py, a setting), a sallower colour,
   age spots and uneven pigmentation; younger targets lose their creases and folds (youth.py: filled, not
   blurred; glasses and brows kept sharp, a lens's tint and shading kept), their fine texture toward young
   skin's energy at the target, and get even, brighter skin with the beard shadow matched to the cheeks;
3. hair and eyebrows grey along the canities curve (hair.py); toward a younger target the curve runs backwards
   and grey hair regains pigment (the person's own, or a stated default); a receding hairline when asked;
   toward an older target the lips, brows and the whites of the eyes lose contrast with the skin (contrast.py),
   and regain it toward a younger one; the teeth seen between the lips darken and yellow with age, lighten toward a
   younger target (teeth.py);
4. shape: soft-tissue descent (jowls, nasolabial and marionette folds, thinner lips, eye bags) as a
   landmark warp with fold shading, moved back toward a younger target (shape.py); a child's target
   also takes the cardioidal strain of craniofacial growth run backwards and Farkas's child proportions
   (smaller nose and mouth, larger-looking eyes, fuller cheeks) in one smooth warp (youth.py); a child's photo
   toward an older target takes the same growth run forwards;
5. the face is pasted back where it changed; everything else in the photo is returned exactly.
On a black-and-white photo (hair.is_monochrome) every colour change acts on lightness only: spots,
sallowness, grey hair and paler lips come out as shades of grey, and the manifest says so.
The same seed draws the same strands, spots and wrinkles at every target, so a strip reads as one life.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.core.errors import InputError, UserError
from engine.core.memo import memo
from engine.core.models import ModelUnavailable
from engine.core.pixels import to_lab
from engine.core.registry import get_cache
from engine.core.settings import Settings, get_settings
from engine.core.workers import ahead, map_in_order, worker_count
from engine.faces.alignment import change_at_photo_resolution, frame_border, paste_back, photo_detail, upsampling
from engine.faces.segmentation import (
    BAND_ABOVE_CHIN,
    PERSON_THRESHOLD,
    band_row,
    brow_mask,
    hair_beside_face,
    hair_mask_and_tips,
    person_in_crop,
    runs_below_the_band,
)
from engine.faces.territory import kept_to_own, territory_in_crop
from engine.faces.zones import CHIN, feathered, inter_ocular
from engine.methods.classical import contrast, shape, teeth, texture
from engine.methods.classical.aging import (
    BROW_GREY_CEILING,
    BROW_LAG_YEARS,
    MONOCHROME_NOTE,
    added_grey,
    age_spots,
    grey_hair,
    growth_strain,
    lentigo_share,
    lightness_only,
    neck_skin,
    outline_skin,
    regained_pigment,
    younger_skin,
)
from engine.methods.classical.beyond import beyond_fields, colour_change, hair_beyond, reaches_edge
from engine.methods.classical.childskin import child_share, child_skin
from engine.methods.classical.hair import (
    NO_RECESSION,
    NOTHING_TO_COLOUR,
    added_recession,
    hair_untold_in_monochrome,
    hair_wisps,
    hairline_fringe,
    is_monochrome,
    past_hairline,
    prepare_grey_hair,
    recede_hairline,
    repigment_hair,
)
from engine.methods.classical.youth import (
    FOLD_SIGMA,
    UNFOLDED_SQUEEZE,
    bounded_strain,
    child_scales,
    child_warp,
    crease_amount,
    crease_load,
    describe_bands,
    face_protection,
    fine_energy,
    fine_texture_left,
    fold_bands,
    frame_rows,
    glasses_lenses,
    neck_rows,
    photo_below,
    rejuvenate,
    where_frame_lies,
    young_fine_energy,
    young_neck,
    young_skin_mask,
)
from engine.methods.ldla.curves import scores_for_age
from engine.methods.ldla.pipeline import FACE_SIZE, LocatedFace, edit_zones, face_skin, skin_colour

logger = logging.getLogger(__name__)

LIFESPAN_YEARS = 80.0  # the age gap is a share of this, so the skin amount stays within [-1, 1]
YOUNG_FULL_GAP_YEARS = 30.0  # a target this many years younger gets the full younger-skin amount (from looking)
# The hairline's last hairs (hair.hairline_fringe) are read only off a glasses' frame's rows (youth.where_frame_lies);
# cut there, Takeo's greyed temple fringe at 70 ended in a straight edge across his temple, the lightness change
# dropping by up to 68 L from one row to the next (looked at 3x). They fade out over this many photo pixels toward the
# rows instead (the largest step there 18 L).
FRAME_FRINGE_FADE = 3.0
# A child's strain drawn at this share of its age's or more is not warned of (the stage still gives both): a tenth less
# raises the chin at most about 0.05 d less (2 k times its 2.3 d from the strain's origin, k 0.12 at most).
STRAIN_SEEN = 0.9
# The warnings say what the visitor can change (the photo), not the server's setting (HUB_CLASSICAL_NECK_STRETCH, in the
# README's settings table), which a Space's visitor cannot reach.
STRAIN_LIMITED = (  # a child's strain weakened (youth.bounded_strain), per face
    "The child's head shape is drawn weaker than its age asks, at {ages}: the photo ends {room:.2f} inter-ocular "
    "distances below the chin, and the full strain would stretch the neck more than {most:g} times "
    "(a photo showing more of the neck lets it be drawn in full)."
)
# a child's photo grown older: its strain weakened (youth.growth_bounds), per face and reason ("neck" or "fold")
STRAIN_GROWN_LIMITED = {
    "neck": (
        "The grown-up head shape is drawn weaker than its age asks, at {ages}: the photo ends {room:.2f} inter-ocular "
        "distances below the chin, and lowering the chin in full would squeeze the neck more than {most:g} times "
        "(a photo showing more of the neck lets more of it be drawn)."
    ),
    "fold": (
        "The grown-up head shape is drawn weaker than its age asks, at {ages}: lowering the chin in full would squeeze "
        "the frame where the strain fades out more than {fold:g} times, folding it over."
    ),
}
NO_HUE = "a black-and-white photo"  # the stage texts' reason where a stage changes hue alone

# what the classical renderer changes, in one line (the lifespan tab's banner says it; SUMMARY below lists every change)
IN_ONE_LINE = (
    "older, it greys the hair and brows and adds wrinkles, an older skin's texture, age spots and sagging; younger, it "
    "gives grey hair its colour back, smooths and brightens the skin, and reshapes a child's face"
)
SUMMARY = (  # every change the classical renderer makes, in words (the manifest's classical_changes, the CLI's note)
    "it greys hair and eyebrows by age; for older ages it adds wrinkles, an older face's skin texture, "
    "sallower skin with age spots, paler lips, fainter brows and duller whites of the eyes, darker, yellower teeth, "
    "and sagging (jowls, deeper folds, thinner lips, eye bags); for younger ones it gives grey hair its colour back, "
    "fills creases, fines the skin's texture, evens and brightens skin, flattens the folds as far as the skin is "
    "creased, reddens the lips, darkens the brows, whitens the eyes, lightens the teeth, removes beard shadow and "
    "lifts the sagging, and reshapes a child's face (craniofacial growth run backwards, Farkas's child proportions); "
    "a child's photo grows up toward an older age (the same growth run forwards)"
)


# The classical renderer refuses a face under MIN_FACE_PX (ldla.locate's too_small_for, detection.refuse_small_face). It
# works on the face enlarged to FACE_SIZE px, and on faces under that width it drew blotches (looked at on the astronaut,
# Obama and Hopper shrunk, at 10 and 80): at 35 px Obama's hair at 10 became a dark cap spilling onto the background
# beside his head; at 19 px and under the astronaut's a dark rim round her hair at 10 and lumps of grey at 80. The line is
# the 40 px the messages already ask for, not one fitted to these photos: the 23-27 px astronaut came out blurred but
# whole, and at 41 px Obama's hair at 10 still ends in a hard edge.
TOO_SMALL_TO_AGE = (
    f"the classical renderer, which ages it enlarged to {FACE_SIZE} px, where a face this small comes out in blotches"
)


@dataclass(frozen=True)
class Variation:
    """How one person's aging differs from the mean (the pluralistic futures draw these)."""

    grey_onset_shift: float = 0.0  # years later (> 0) or earlier (< 0) that greying starts
    grey_pattern: float = 0.5  # 0-1: how much greying starts at the temples before the top
    zone_scores: dict[str, float] | None = None  # the wrinkle scores to use instead of the age curves'
    receding_hairline: bool = False  # the frontal hairline and temples recede with age (men; hair.py)
    # the share (0-1) of Norwood III's recession a receding hairline moves back by; None: the mean face's, the share of
    # men not receded at the source age who are by the target (hair.added_recession)
    recession: float | None = None
    # years ahead (> 0) of or behind (< 0) the mean at the target: each sign is drawn where the mean face
    # has it that many years later or earlier (sagging: shape.py's descent; spots and sallowness: the skin)
    sagging_years: float = 0.0
    spots_years: float = 0.0
    sallow_years: float = 0.0
    fullness_bmi: float = 0.0  # weight: the change in body-mass index to the target (kg/m^2), > 0 a fuller face


@dataclass
class AgedFace:
    after: np.ndarray  # the aligned face at the target age
    photo: np.ndarray  # the whole photo with it pasted back
    stages: dict[str, str]  # what each stage did (or why it was skipped), for the manifest
    warnings: list[str] = field(default_factory=list)
    mask: np.ndarray | None = None  # (size, size) paste-back weight of `after`; None: nothing changed
    # what was pasted into the photo and its weight: `after` and `mask`, with the photo's rows below the crop that a
    # child's warp moved (the neck under the raised chin, or under a grown child's lowered one) where it did
    pasted: np.ndarray | None = None
    pasted_mask: np.ndarray | None = None
    # "" or why grey hair seen in the photo was left grey toward a younger target (the hair stage's "unchanged: <why>"
    # when that is a refusal, not NOTHING_TO_COLOUR): the task tells the user
    grey_left: str = ""
    # the hair stage's colour change (beyond.colour_change) and the hair mask it acted on, for the hair past the crop's
    # edge in the photo (`paste_aged`); None where the hair stage changed nothing
    hair_change: tuple[np.ndarray, np.ndarray] | None = None
    hair: np.ndarray | None = None
    # where a child's strain was weakened (youth.bounded_strain): (the share of it drawn, the photo's room below the chin
    # in inter-ocular distances, the most the neck may be stretched or squeezed, why: "" toward a child, "neck" or "fold"
    # where a child's photo grew older, youth.growth_bounds); the task tells the user
    strain_kept: tuple[float, float, float, str] | None = None


@dataclass
class HairMasks:
    hair: np.ndarray  # (H, W) uint8, all zeros when no hair was found
    brows: np.ndarray
    note: str  # "" or why the hair stage is skipped
    # (H, W) bool: where hair shows beside the face, held by `hair` or not (segmentation.hair_beside_face); None: not
    # looked for
    beside: np.ndarray | None = None
    # (H, W) float32 0-1: stray hair beyond `hair` at the head's outline, each pixel's hair share (hair.hair_wisps);
    # None: not looked for
    wisps: np.ndarray | None = None
    # (H, W) float32 0-1: the person segmenter's probability on the aligned face (0 on the padding beyond the photo);
    # None: no person segmenter
    person: np.ndarray | None = None
    # (H, W) bool: the pixels of `hair` that are a fringe's tips over the forehead, hair over skin
    # (segmentation.hair_mask_and_tips); None: not looked for
    tips: np.ndarray | None = None
    # (H, W) float32 0-1: the hairline's last hairs past `hair` over the face's skin (its outline, and the forehead and
    # temples above the eyes), each pixel's hair share (hair.hairline_fringe); None: not looked for
    fringe: np.ndarray | None = None

    def past_mask(self) -> np.ndarray | None:
        """(H, W) float32 0-1: the hair past `hair` that greys with it, each pixel's hair share: the stray hair at the
        head's outline (`wisps`) and the hairline's last hairs (`fringe`); None where neither was looked for."""
        wisps, fringe = self.wisps, self.fringe
        if wisps is None or fringe is None:
            return fringe if wisps is None else wisps
        return memo("hair_past_mask", (wisps, fringe), lambda: np.maximum(wisps, fringe))


def hair_masks(located: LocatedFace, settings: Settings | None = None) -> HairMasks:
    """The hair (person segmentation minus face, refined by colour) and eyebrow masks of the aligned face, found once
    per face (and settings: they choose the segmenter); read-only. A segmenter that cannot be loaded is asked for
    again next time."""
    brows = memo("brow_mask", (located.crop, located.points), lambda: brow_mask(located.crop, located.points))
    try:
        segmenter = get_cache(settings).get("person_segmenter")
    except ModelUnavailable as error:
        return HairMasks(np.zeros_like(brows), brows, f"no person segmenter ({error})")
    # the photo and the alignment are part of the key: by the crop's edge the segmenter reads the photo around the
    # crop too (segmentation.person_in_crop)
    hair, beside, wisps, person, tips, fringe, note = memo(
        "hair_mask",
        (located.crop, located.rgb, located.matrix, located.points, located.inside, repr(settings or get_settings())),
        lambda: _hair_and_beside(located, segmenter),
    )
    note = note or ("" if hair.any() else "no hair found around the face (bald, covered, or not segmented)")
    # read-only also without the store (the store hashes them once)
    for mask in (hair, brows, beside, wisps, person, tips, fringe):
        mask.flags.writeable = False
    return HairMasks(hair, brows, note, beside, wisps, person, tips, fringe)


def _hair_and_beside(
    located: LocatedFace, segmenter
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """`hair_masks`' hair mask, the hair seen beside the face's outline (`hair_beside_face`), the stray hair beyond
    the mask at the head's outline (`hair_wisps`), the person's probability (read on the crop and, by its edge, on a
    wider view of the photo: segmentation.person_in_crop), the mask's fringe tips
    (`hair_mask_and_tips`), the hairline's last hairs past the mask (`hairline_fringe`), and "" or why no hair mask can
    be found (the hair, beside, wisps, tips and last hairs then empty)."""
    # a glasses' frame beside the eyes is as dark as dark hair: the hair's margin inside the face's outline keeps out of it
    skin = face_skin(located)
    lenses = glasses_lenses(located.crop, skin, located.points)
    frame = None if lenses is None else where_frame_lies(located.crop, lenses, located.points)
    person = person_in_crop(segmenter, located.rgb, located.crop, located.matrix)
    photo = np.ones(person.shape, bool) if located.inside is None else located.inside >= 0.5
    # the padding beyond the photo's edge is no one's hair nor skin (its blurred edge extension can read as hair), and
    # a neighbour's head is not this person's (the segmentation takes in everyone: a neighbour's white hair was greyed
    # and recoloured with this face's)
    own = territory_in_crop(located.face, located.others, located.matrix, person.shape)
    in_photo = (person * photo * (1.0 if own is None else own)).astype(np.float32)
    why_not = hair_untold_in_monochrome(located.crop, person, (person <= PERSON_THRESHOLD) & photo, located.points)
    if why_not:
        empty = np.zeros(person.shape, np.uint8)
        none = empty.astype(bool)
        return empty, none, empty.astype(np.float32), in_photo, none, empty.astype(np.float32), why_not
    hair, tips = hair_mask_and_tips(located.crop, in_photo, located.points, frame, is_monochrome(located.crop))
    wisps = hair_wisps(located.crop, hair, (person <= PERSON_THRESHOLD) & photo, located.points)
    # where a blurred hairline's last hairs lie past the mask (not a glasses' frame)
    beside_hair = (in_photo > PERSON_THRESHOLD) & past_hairline(located.points, hair.shape)
    if frame is not None:
        beside_hair &= ~frame
    fringe = hairline_fringe(located.crop, hair, beside_hair, upsampling(located.matrix))
    if frame is not None and fringe.any():  # faded out toward the frame's rows (FRAME_FRINGE_FADE), not cut at them
        fade = FRAME_FRINGE_FADE * photo_detail(upsampling(located.matrix))
        away = cv2.distanceTransform((frame == 0).astype(np.uint8), cv2.DIST_L2, 5)
        fringe = fringe * np.clip(away / fade, 0.0, 1.0).astype(np.float32)
    beside = hair_beside_face(located.crop, in_photo, located.points, hair)
    return hair, beside, wisps, in_photo, tips, fringe, ""


def age_face(
    rgb: np.ndarray,
    located: LocatedFace,
    masks: HairMasks,
    source_age: float,
    target: float,
    seed: int,
    settings: Settings | None = None,
    variation: Variation | None = None,
    into: np.ndarray | None = None,
) -> AgedFace:
    """One face moved from `source_age` to `target` (both 0-80) by the data-free lifespan model, pasted back into
    `into` (a photo of `rgb`'s size with other faces aged in it already), or into `rgb`."""
    check_target(target)
    variation = variation or Variation()
    stages: dict[str, str] = {}
    warnings: list[str] = []
    grey_left = ""
    strain_kept = None
    # a black-and-white photo keeps only the grey level of each change (below): the stages that change hue alone are
    # not run, and their texts say so
    monochrome = is_monochrome(located.crop)
    # 1. wrinkles along the age curves, and the whole face's fine texture and tone; a younger target's creases
    # are taken out with its skin below (the zone renderer's smoothing would do the same work twice)
    scores = variation.zone_scores if variation.zone_scores is not None else scores_for_age(target)
    # a pluralistic future's scores are its own draw around the curves': named as such in the stages' texts
    scored = "this future's zone scores" if variation.zone_scores is not None else "the age curves' scores"
    # a pluralistic future toward a younger target too: its scores set the share of the creases filled below (the
    # zones lowered here as well filled them twice, and its mean future was not the lifespan model's face)
    younger = target < source_age
    face = located.crop  # read-only: every stage returns a new face (and the per-face store knows this one's key)
    size = face.shape[0]
    # the photo's rows under the crop, as the photo holds them (`under`) and as the stages left them (`below`): found at
    # every younger target and where a child's photo grows older (none otherwise, nor where the photo ends at the crop's
    # bottom), pasted only where a child's warp moves them (pulls them up into the crop, or pushes them down)
    under = below = np.zeros((0, size, 3), np.uint8)
    edit = None
    if not younger:
        skin_amount = float(np.clip((target - source_age) / LIFESPAN_YEARS, -1.0, 1.0))
        edit = edit_zones(
            rgb,
            scores,
            "classical",
            seed,
            source_age=source_age,
            located=located,
            settings=settings,
            skin=skin_amount,
            paste=False,
            covered=masks.hair,  # a fringe over the forehead: its creases are not drawn across the hair
            # an older target's skin stages below keep the zones' change to the photo's pixels with their own, in one pass
            resolve=target <= source_age,
        )
        face = edit.after  # its aged zones drawn no finer than the photo's pixels (here or below; the lowered ones smoothed)
        if "photo_resolution" in edit.renderer_settings:
            stages["resolution"] = edit.renderer_settings["photo_resolution"]
        zones = [name for name in edit.changed if name != "skin"]  # the whole face's texture and tone is "skin" there
        moved = [f"{len(zones)} zones moved to {scored}"] if zones else []
        if "skin" in edit.changed:  # pipeline.skin_texture_and_tone
            moved.append(f"the whole face's fine texture and tone aged at {skin_amount:.0%} (the gap's share of 80 years)")
        stages["wrinkles"] = "; ".join(moved) if moved else "unchanged"
        warnings += [w for w in edit.warnings if w not in located.warnings]
    # the skin depends on the landmarks alone: found once per face (every target of a strip asks for it; read-only)
    skin = face_skin(located)
    lenses: np.ndarray | None = None  # a pair of glasses' lenses, where found (the younger path looks for them)
    # crop pixels a photo pixel: what the stages below draw is kept no finer than the photo's own pixels
    scale = upsampling(located.matrix)
    # 2. skin: spots and uneven pigmentation older, smooth and even younger
    zoned = face if edit is None or edit.unresolved is None else edit.unresolved  # what the older skin's pass measures from
    if target > source_age:
        drawn: list[str] = []  # what the older skin drew, for the resolution stage's text
        amount = texture.texture_amount(source_age, target)
        if amount > 0 and (settings or get_settings()).classical_texture:
            try:
                proto = texture.prototype(settings)
            except (ModelUnavailable, UserError) as error:
                stages["texture"] = f"skipped: the prototype face could not be located ({error})"
                warnings.append(f"Older skin texture not drawn: the prototype face could not be located ({error}).")
            else:
                own_skin = memo(
                    "own_skin", (skin, masks.hair, masks.brows), lambda: skin * (masks.hair == 0) * (masks.brows == 0)
                )
                face = texture.transfer_texture(face, located.points, own_skin, amount, proto)
                stages["texture"] = texture.describe(amount)
                drawn.append("texture")
        # the skin's colour and spots reach the neck seen below the face, the forehead above FaceMesh's outline and the
        # ears (an aged face on a young neck, under a young brow, between pink ears otherwise)
        neck = _neck(located, skin)
        forehead, ears = _outline(located, skin, masks)
        aged = memo("aged_skin", (skin, neck, forehead, ears), lambda: skin | neck | forehead | ears)  # the stages key on it
        where = _where(neck, forehead, ears)
        sallow = texture.sallow_share(source_age, _ahead(target, variation.sallow_years))
        if monochrome:
            stages["colour"] = f"unchanged: {NO_HUE} (sallowness is a change of hue alone)"
        else:
            face = texture.sallow_skin(face, aged, located.points, sallow)
            stages["colour"] = f"less rosy, more yellow at {sallow:.0%} of the change to 80{where}" if sallow > 0 else "unchanged"
            if sallow > 0:
                drawn.append("colour")
        share = lentigo_share(_ahead(target, variation.spots_years)) - lentigo_share(source_age)
        face = age_spots(face, aged, located.points, share, np.random.default_rng([seed, 1]))
        if share > 0:
            drawn.append("spots")
        stages["skin"] = (
            f"age spots and uneven pigmentation at {share:.0%} of their 80-year extent{where}" if share > 0 else "unchanged"
        )
        # the zones' wrinkles, the texture, colour and spots drawn no finer than the photo's pixels, their change
        # low-passed in one pass (alignment.change_at_photo_resolution: about 6 ms on the astronaut)
        if scale > 1 and (settings or get_settings()).classical_photo_resolution:
            face = change_at_photo_resolution(zoned, face, scale)
            skin_drawn = f" and the older skin's {_listed(drawn)}" if drawn else ""
            stages["resolution"] = (
                f"wrinkles{skin_drawn} drawn no finer than the photo's pixels (the photo is upsampled {scale:.1f} times "
                "into the aligned face)"
            )
    elif target < source_age:
        amount = min((source_age - target) / YOUNG_FULL_GAP_YEARS, 1.0)
        creases = crease_amount(scores_for_age(source_age), scores)
        lenses = glasses_lenses(located.crop, skin, located.points)
        # the forehead above FaceMesh's outline loses its creases too (a line across the brow where it stopped otherwise)
        forehead, ears = _outline(located, skin, masks)
        young = _young_mask(skin | forehead, masks, located.points)
        # the fine band scaled toward young skin's energy at the target (Tiddeman et al. 2001), from the source's own
        # and the fold bands flattened by the share of the soft-tissue descent taken back (Tiddeman et al.'s every
        # band; the creases' edges and ridges in step with the creases removed), as far as the source's own
        # skin is creased (`crease_load`)
        # measured on the face's own skin, as the young energies and the crease load at 80 were
        measured = _young_mask(skin, masks, located.points)
        energy, load = memo(
            "young_measures", (located.crop, measured, located.points), lambda: _young_measures(located, measured)
        )
        texture_left = fine_texture_left(energy, target, creases)
        taken_back = shape.descent_share(source_age) - shape.descent_share(target)
        bands = fold_bands(taken_back, load)
        stages["folds"] = describe_bands(bands, taken_back, load, creases)
        # the neck's skin below the face (the older path's neck_skin) loses its creases and crepe too, its shading kept,
        # also in the photo's rows under the crop, which a child's warp below pulls up into it (an old neck's crepe rose
        # into a child's otherwise, under a seam where the crop's smoothed neck met them); worked out at every younger
        # target, so a strip's younger ages share the per-face work on one frame (an adult's pastes the crop alone)
        under = photo_below(rgb, located.matrix, size, located.points)
        neck = _young_neck(located, skin, under)
        rows = len(neck) - size  # the rows under the crop the younger skin reaches (`_young_neck`)
        frame = _sealed(np.concatenate([face, under[:rows]])) if rows else face
        frame = rejuvenate(
            frame,
            _padded(young, rows),
            located.points,
            creases,
            None if lenses is None else _padded(lenses, rows),
            texture_left,
            bands,
            neck,
        )
        face, below = frame[:size], np.concatenate([frame[size:], under[rows:]])
        if lenses is not None:  # a lens keeps its tint and shading: not brightened, not lifted (only creases go)
            skin = skin * (lenses < 0.5)
            stages["glasses"] = "lenses found: only the creases seen through them are taken out"
        face = younger_skin(face, skin | forehead | ears, located.points, amount)  # the brow and ears brighten with the face
        stages["wrinkles"] = f"creases filled and folds flattened at {creases:.0%} ({scored})"
        kept = 1.0 - creases * (1.0 - texture_left)
        stages["skin"] = (
            f"evened and brightened at {amount:.0%}; beard shadow matched to the cheeks; fine texture kept at {kept:.0%} "
            + (
                f"(its energy {energy:.3f} moved toward young skin's {young_fine_energy(target):.3f} at {target:g}, "
                "Tiddeman et al. 2001 band energy matching; the young energies measured on packaged portraits)"
                if energy is not None
                else "(the source's skin texture could not be measured: the fixed share)"
            )
            + (
                "; the neck's creases and crepe taken out as the face's, its shading (the shadow under the jaw) kept, "
                "the face's bands passing to the neck's across the jaw line"
                if neck.any()
                else ""
            )
        )
    # 3. hair and eyebrows: canities from the source age to the target, then a receding hairline (when asked; its
    # thinning edge blends skin over the hair as the target's hair looks, grey where it greys)
    before_hair = face
    grey = added_grey(source_age, target, variation.grey_onset_shift)
    # the strands (and brow strokes) no finer than the photo's own pixels where the face was upsampled into the crop (scale)
    brow_grey = added_grey(source_age, target, variation.grey_onset_shift, BROW_LAG_YEARS, BROW_GREY_CEILING)
    if masks.note:
        stages["hair"] = f"skipped: {masks.note}"
    elif grey > 0:
        rng = np.random.default_rng([seed, 2])
        face = grey_hair(
            face,
            masks.hair,
            grey,
            rng,
            variation.grey_pattern,
            located.points,
            located.crop,
            scale=scale,
            wisps=masks.past_mask(),
            tips=masks.tips,
        )
        past = [
            words
            for words, shares in (
                ("the stray hair at the head's outline", masks.wisps),
                ("the hairline's last hairs", masks.fringe),
            )
            if shares is not None and shares.any()
        ]
        stray = f", {' and '.join(past)} with it" if past else ""
        stages["hair"] = f"{grey:.0%} of the still pigmented hair greyed{stray}{_long_hair(masks, located, warnings)}"
    elif (regain := regained_pigment(source_age, target, variation.grey_onset_shift)) > 0:
        rng = np.random.default_rng([seed, 2])  # the greying's strand field: the strands greyed last regain first
        pigment = (settings or get_settings()).classical_hair_pigment
        face, used, done = repigment_hair(
            face,
            masks.hair,
            regain,
            rng,
            pigment,
            variation.grey_pattern,
            located.points,
            located.crop,
            skin_relative=True,
            scale=scale,
            beside=masks.beside,
        )
        stages["hair"] = (
            f"{regain:.0%} of the grey hair given its colour back (the canities curve run backwards): {used}"
            f"{_long_hair(masks, located, warnings)}"
            if done
            else f"unchanged: {used}"
        )
        if not done and used not in NOTHING_TO_COLOUR:
            grey_left = used
    else:
        stages["hair"] = "unchanged"
    # the hair's colour change, for the hair past the crop's edge (beyond.py): the hair stage's own, where it changed it
    # and the hair runs into the crop's edge
    hair_change = None
    if face is not before_hair and reaches_edge(masks.hair):
        hair_change = colour_change(before_hair, face, masks.hair > 0)
    face, masks = _hairline(face, masks, located, source_age, target, variation, stages, warnings)
    brow_regain = regained_pigment(source_age, target, variation.grey_onset_shift, BROW_LAG_YEARS)
    if brow_regain > 0 and masks.brows.any():
        pigment = (settings or get_settings()).classical_hair_pigment
        rng = np.random.default_rng([seed, 3])
        face, used, done = repigment_hair(
            face,
            masks.brows,
            brow_regain,
            rng,
            pigment,
            0.0,
            located.points,
            located.crop,
            brows=True,
            scale=scale,
        )
        stages["eyebrows"] = (
            f"{brow_regain:.0%} of the grey hairs given their colour back: {used}" if done else f"unchanged: {used}"
        )
    if brow_grey > 0:
        face = grey_hair(
            face,
            masks.brows,
            brow_grey,
            np.random.default_rng([seed, 3]),
            0.0,
            structure=located.crop,
            shading=False,
            scale=scale,
        )
        stages["eyebrows"] = f"{brow_grey:.0%} greyed"
    # 3a. the lips and brows come closer to the skin's colour with age (Porcheron et al. 2013), and regain it toward a
    # younger target (a young adult's: a child's fainter brows are the child skin's, after it)
    faded = contrast.contrast_between(source_age, target)
    if faded > 0:
        face = contrast.fade_features(face, located.points, skin, masks.brows, faded)
        whites = contrast.fade_eyes(face, located.points, skin, faded)
        face = whites.face
        toward = " toward the skin's colour with them" if whites.change is not None else ""
        # the lips lose redness and yellowness alone (contrast.LIP_CONTRAST_LOSS): none on a black-and-white photo
        features = f"eyebrows (the lips kept: {NO_HUE})" if monochrome else "lips and eyebrows"
        stages["contrast"] = (
            f"{features} {faded:.0%} of the way to their contrast with the skin at 80, "
            f"{contrast.describe_whites(whites, monochrome)}{toward} (Porcheron et al. 2013, Russell et al. 2014)"
        )
    elif (lips_regain := contrast.lip_regain(source_age, target)).any():  # the lips' and brows' contrast given back
        if monochrome:  # the lips regain redness and yellowness alone (contrast.LIP_CONTRAST_LOSS)
            lips_note = f"the lips kept ({NO_HUE}: they regain redness alone)"
        else:
            face = contrast.restore_lips(face, located.points, skin, lips_regain)
            lips_note = f"the lips' redness apart from the skin's grown by {lips_regain[1]:.0%}"
        brows_regain = contrast.brow_regain(source_age, target)
        # a glasses frame's rim is as dark against the skin as a brow's hairs: the brows above its rows only (`lenses`:
        # the younger skin's stage found them)
        brows = masks.brows if lenses is None else masks.brows * ~frame_rows(lenses, located.points)
        face = contrast.restore_brows(face, brows, brows_regain)
        if not brows.any():
            brows_note = "the brows kept (within a glasses frame's rows)" if masks.brows.any() else "no brows found"
        else:
            brows_note = f"the brows' hairs {brows_regain:.0%} darker against the skin" + (
                "" if lenses is None else " (above the glasses' frame)"
            )
        # read on the source's face: the younger skin above lit the skin around the eyes
        whites_regain = contrast.eye_regain(source_age, target)
        whites = contrast.restore_eyes(face, located.points, skin, whites_regain, structure=located.crop)
        face = whites.face
        stages["contrast"] = (
            f"{lips_note}, {brows_note}, "
            f"{contrast.describe_whites(whites, monochrome)} (Porcheron et al. 2013's loss of lip, brow and eye contrast run "
            "backwards)"
        )
    # 3b. a child's skin and brows (childskin.py; HUB_CLASSICAL_CHILD_SKIN=1): rosier cheeks, fainter brows, before puberty
    share = max(child_share(target) - child_share(source_age), 0.0)
    if share > 0 and (settings or get_settings()).classical_child_skin:
        framed = lenses is not None  # a child's target is a younger one: the younger skin's stage looked for them
        brows = np.zeros_like(masks.brows) if framed else masks.brows  # a frame's rim lies over the brows
        # the cheeks' flush is a hue alone: none on a black-and-white photo (an empty skin mask flushes no cheek)
        young = np.zeros(skin.shape, np.float32) if monochrome else _young_mask(skin, masks, located.points)
        face = child_skin(face, young, brows, located.points, share)
        brows_note = "brows kept (a glasses frame over them)" if framed else "brows fainter"
        cheeks = f"cheeks kept ({NO_HUE}: a child's flush is a hue)" if monochrome else "cheeks rosier"
        stages["child skin"] = f"{cheeks}, {brows_note} at {share:.0%}"
    # 3c. the teeth in view darken and yellow with age (Krasniqi et al. 2017's per-year change), lighten toward a younger target
    teeth_change = teeth.age_teeth(face, located.points, source_age, target)
    face = teeth_change.face
    stages["teeth"] = teeth.describe(teeth_change, lightness_only=monochrome)
    # 4. shape: soft-tissue descent from the source age (lifted back toward a younger target), then a
    # child's proportions: craniofacial growth (cardioidal strain) run backwards, or forwards from a child's photo
    descent = shape.descent_between(source_age, target, variation.sagging_years, variation.fullness_bmi)
    if descent.hooding and (lenses if target < source_age else glasses_lenses(located.crop, skin, located.points)) is not None:
        descent = dataclasses.replace(descent, hooding=0.0)  # the warp would bend the glasses' upper rim
        stages["hooding"] = "skipped: glasses found (the lid warp would bend their rim)"
    if not descent.zero:
        face = shape.age_shape(face, located.points, skin, descent, skin_colour(located))
        stages["descent"] = shape.describe(descent)
    k = growth_strain(source_age, target)
    before = located.crop
    if k > 0:  # a child grown older: the chin lowers over the photo's neck under the crop, as it holds it
        under = below = photo_below(rgb, located.matrix, size, located.points)
        if len(under):
            # the older skin's change (the neck's colour and spots) fades out toward the crop's bottom as the paste's
            # feather fades it without the warp, which then carries it down with the neck: cut at the crop's edge, it
            # met the photo's rows under it in a seam (b* 2.5 to 0.1 in three rows, a 5-year-old's photo aged to 70)
            fade = _bottom_fade(size)
            face = np.round(located.crop + fade * (face.astype(np.float32) - located.crop)).astype(np.uint8)
    if k != 0:
        # the photo's rows under the crop (their neck made younger with the face's above toward a child) join it: the
        # warp pulls them up toward a child, pushes them down as a child grows
        before = np.concatenate([located.crop, under]) if len(under) else located.crop
        face = np.concatenate([face, below]) if len(below) else face
        proportions = child_scales(source_age, target)
        most = (settings or get_settings()).classical_neck_stretch
        strain, why = bounded_strain(k, located.points, before.shape[:2], most)
        face = child_warp(face, located.points, strain, proportions)
        limited = ""
        if strain != k:
            squeezed = (
                f"the neck would be stretched more than {most:g} times"
                if k < 0
                else {
                    "neck": f"the neck would be squeezed more than {most:g} times",
                    "fold": f"the frame would be squeezed more than {UNFOLDED_SQUEEZE:g} times where it fades out, folding it over",
                }[why]
            )
            limited = f" (weakened from {k:.3f}: {squeezed})"
            ends = neck_rows(located.points, located.inside, before.shape[0])
            room = (ends - float(located.points[CHIN][1])) / inter_ocular(located.points)
            strain_kept = (strain / k, room, most, why if k > 0 else "")
        grown = ", craniofacial growth run forwards from the child's photo" if k > 0 else ""
        stages["shape"] = (
            f"cardioidal strain k = {strain:.3f}{grown}{limited}; child proportions (Farkas): nose "
            f"{proportions.nose_height:.2f} x {proportions.nose_width:.2f}, mouth width {proportions.mouth_width:.2f}, "
            f"eyes {proportions.eye:.2f}"
        )
    # the padding beyond the photo's edge stays as it was (alignment.pad_neutral): no stage invents features there
    if located.inside is not None:
        inside = located.inside[..., None]
        kept = np.round(before[:size] + inside * (face[:size].astype(np.float32) - before[:size])).astype(np.uint8)
        face = np.concatenate([kept, face[size:]]) if len(face) > size else kept
    # a black-and-white photo stays black and white: of every change above only the grey level is kept
    if monochrome:
        face = lightness_only(before, face)
        stages["monochrome"] = MONOCHROME_NOTE
    # 5. paste back where the face changed (and the neck below the crop, where a child's warp moved it)
    difference = np.asarray(cv2.absdiff(face, before), np.uint8)  # per channel: numpy's any() over a last axis of three is slow
    changed = ((difference[..., 0] | difference[..., 1] | difference[..., 2]) > 0).astype(np.uint8)
    photo = rgb if into is None else into
    if not changed.any():
        return AgedFace(face[:size].copy(), photo.copy(), stages, warnings, grey_left=grey_left, strain_kept=strain_kept)
    border = frame_border(*face.shape[:2])
    weight = feathered(changed, 0.05 * inter_ocular(located.points)) * border
    aged = AgedFace(
        face[:size], rgb, stages, warnings, weight[:size], face, weight, grey_left, hair_change, masks.hair, strain_kept
    )
    aged.photo = paste_aged(photo, located, aged, settings)
    return aged


def paste_aged(photo: np.ndarray, located: LocatedFace, aged: AgedFace, settings: Settings | None) -> np.ndarray:
    """`aged` pasted into `photo` (its `pasted` through `pasted_mask`), and the hair past the crop's edge given the colour
    change its hair stage gave the crop's hair (beyond.py), where it gave one; within the face's own part of a photo
    with several faces (territory.py)."""
    if aged.pasted is None or aged.pasted_mask is None:
        return photo.copy()
    pasted = paste_back(photo, aged.pasted, located.matrix, mask=aged.pasted_mask)
    if aged.hair_change is not None and aged.hair is not None:
        segmenter = get_cache(settings).get("person_segmenter")  # the hair mask was found with it
        size = located.crop.shape[0]
        pasted = hair_beyond(
            photo,
            pasted,
            located.matrix,
            located.crop,
            aged.hair,
            aged.pasted_mask[:size],
            aged.hair_change,
            located.points,
            segmenter,
        )
    return kept_to_own(photo, pasted, located.face, located.others)


# Said wherever the hair stage changed the hair and the hair mask runs on below the row its head's band stops at
# (segmentation.runs_below_the_band): long hair. The mask follows it down within the crop (segmentation.long_hair_below)
# but not past the crop's edge, nor at all in a black-and-white photo or where none of its colour and texture is joined
# to it below: what is left its own colour is said
LONG_HAIR_KEPT = (
    f"Long hair below the chin keeps its own colour: the hair stages stop {BAND_ABOVE_CHIN:g} inter-ocular distances "
    "above the chin, and no hair of its colour and texture was found joined to it below"
)
LONG_HAIR_KEPT_MONOCHROME = (
    f"Long hair below the chin keeps its own colour: the hair stages stop {BAND_ABOVE_CHIN:g} inter-ocular distances "
    "above the chin, and in a black-and-white photo the hair below cannot be told from clothes or shade of its lightness"
)
LONG_HAIR_PAST_CROP = "Long hair keeps its own colour past the face's crop: the hair stages follow it down to the crop's edge"


def _long_hair(masks: HairMasks, located: LocatedFace, warnings: list[str]) -> str:
    """ "" or the hair stage's note on long hair: left its own colour below the chin (LONG_HAIR_KEPT, or
    LONG_HAIR_KEPT_MONOCHROME, added to `warnings`), or followed down to the crop's edge, its bottom or its sides, and
    left its own colour past it (LONG_HAIR_PAST_CROP)."""
    if not runs_below_the_band(masks.hair, located.points):
        return ""
    below = np.asarray(masks.hair)[band_row(located.points) :] > 0
    if not below.any():
        warnings.append(LONG_HAIR_KEPT_MONOCHROME if is_monochrome(located.crop) else LONG_HAIR_KEPT)
        return "; long hair below the chin left as it is"
    if below[-1].any() or below[:, 0].any() or below[:, -1].any():
        warnings.append(LONG_HAIR_PAST_CROP)
        return "; long hair followed below the chin to the crop's edge, left as it is past it"
    return "; long hair followed below the chin"


def stage_warnings(targets: list[float], edits: list[AgedFace]) -> list[str]:
    """What the user is told about one face's aged faces, one per target (the lifespan's targets, or the pluralistic
    futures at one target): a hair stage skipped (the hair mask failed), grey hair left grey toward a younger target
    and why (left as it is in a black-and-white photo, where grey cannot be told), a child's head shape drawn weaker
    than its age asks (under STRAIN_SEEN of its strain), the renderer's own warnings; each said once, with the targets
    it holds for."""
    skipped = sorted({edit.stages["hair"] for edit in edits if edit.stages.get("hair", "").startswith("skipped")})
    left: dict[str, list[float]] = {}
    for target, edit in zip(targets, edits):
        if edit.grey_left and target not in left.setdefault(edit.grey_left, []):
            left[edit.grey_left].append(target)
    weakened = {
        target: edit.strain_kept
        for target, edit in zip(targets, edits)
        if edit.strain_kept is not None and edit.strain_kept[0] < STRAIN_SEEN
    }
    strain = []
    # one face: one room below its chin, one share per target (the pluralistic futures share theirs), said once per
    # reason (toward a child, a grown child's neck, a grown child's fold: a strip may hold targets of each)
    for why in ("", "neck", "fold"):
        kept = {target: held for target, held in weakened.items() if held[3] == why}
        if kept:
            # the share floored to a whole per cent: 89.6 % is not "90 %", which is not warned of
            shares = _listed([f"{target:g} ({math.floor(100 * held[0]):d}% of it)" for target, held in kept.items()])
            _, room, most, _ = next(iter(kept.values()))
            template = STRAIN_GROWN_LIMITED[why] if why else STRAIN_LIMITED
            strain.append(template.format(ages=shares, room=room, most=most, fold=UNFOLDED_SQUEEZE))
    return (
        [f"Hair stage {note}" for note in skipped]
        + [f"Hair left as it is at {listed_ages(ages)}: {why}" for why, ages in left.items()]
        + strain
        + sorted({w for edit in edits for w in edit.warnings})
    )


def listed_ages(ages: list[float]) -> str:
    """ "5", "5 and 40", "5, 10 and 20"."""
    return _listed([f"{age:g}" for age in ages])


def _listed(words: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _young_mask(skin: np.ndarray, masks: HairMasks, points: np.ndarray) -> np.ndarray:
    """`young_skin_mask` (read-only), found once per face: every younger target of a strip asks for the same."""
    return memo(
        "young_skin_mask",
        (skin, masks.hair, masks.brows, points),
        lambda: young_skin_mask(skin, masks.hair, masks.brows, points),
    )


def _young_measures(located: LocatedFace, young: np.ndarray) -> tuple[float | None, float | None]:
    """(`fine_energy`, `crease_load`) of the source's skin `young`: one CIELAB conversion, and the feature protection
    the glasses' search and `rejuvenate` use (`face_protection`, kept per face), not found twice more."""
    d = inter_ocular(located.points)
    lab = to_lab(located.crop)
    # the glasses' search asks for it at the distance of the float64 points: the same key
    protect = face_protection(located.crop, young, inter_ocular(np.asarray(located.points, np.float64)[:, :2]))
    return fine_energy(lab, young, d, protect), crease_load(lab, young, d, protect)


def _young_neck(located: LocatedFace, skin: np.ndarray, under: np.ndarray) -> np.ndarray:
    """`_find_young_neck`, found once per face and photo (read-only; `_face_ahead` may have found it already)."""
    return memo("young_neck", (located.crop, under, located.points, skin), lambda: _find_young_neck(located, skin, under))


def _find_young_neck(located: LocatedFace, skin: np.ndarray, under: np.ndarray) -> np.ndarray:
    """`young_neck` below the face, over the crop and as many of the photo's rows `under` it as the younger skin reaches:
    to the neck's last row there and the reach of the fold band's blur (FOLD_SIGMA d) beyond it (further rows are not
    changed, and not worked on; the blurs worked out at a quarter of the size move by a level or so with the frame's
    height)."""
    size = len(located.crop)
    if not len(under):
        return young_neck(_neck(located, skin), located.points)
    frame = _sealed(np.concatenate([located.crop, under]))
    neck = young_neck(neck_skin(frame, located.points, _padded(skin, len(under))), located.points)
    rows = np.flatnonzero(neck[size:].any(1))
    if not len(rows):
        return neck[:size]
    reach = int(np.ceil(4 * FOLD_SIGMA * inter_ocular(located.points)))  # a Gaussian blur reads about 4 sigma around a pixel
    return neck[: size + min(int(rows[-1]) + 1 + reach, len(under))]


def _bottom_fade(size: int) -> np.ndarray:
    """(size, 1, 1) float32: the paste's feather (alignment.frame_border) down the crop's lower half, 1 above it."""
    rows = np.array(frame_border(size, size)[:, size // 2], np.float32)
    rows[: size // 2] = 1.0
    return rows[:, None, None]


def _sealed(array: np.ndarray) -> np.ndarray:
    """`array` (owning its memory) made read-only: the per-face store hashes it once however many keys hold it
    (memo.sealed)."""
    array.setflags(write=False)
    return array


def _padded(mask: np.ndarray, rows: int) -> np.ndarray:
    """`mask` (H, W) with `rows` rows of zeros under it (a mask of the crop over the crop and the rows under it), sealed
    as the frame is."""
    if rows == 0:
        return mask
    return _sealed(np.concatenate([mask, np.zeros((rows, *mask.shape[1:]), mask.dtype)]))


def _neck(located: LocatedFace, skin: np.ndarray) -> np.ndarray:
    """`neck_skin` below the face, found once per face (the older path asks for it, and the younger where the photo
    ends at the crop's bottom); the key holds every input, the skin mask included."""
    return memo("neck_skin", (located.crop, located.points, skin), lambda: neck_skin(located.crop, located.points, skin))


def _outline(located: LocatedFace, skin: np.ndarray, masks: HairMasks) -> tuple[np.ndarray, np.ndarray]:
    """`outline_skin` (the forehead above the outline, the ears), found once per face; none without a person segmenter
    (the skin there cannot be told from a wall of its colour, nor the hair from a forehead)."""
    if masks.person is None:
        empty = np.zeros(skin.shape, np.uint8)
        return empty, empty
    person = masks.person
    return memo(
        "outline_skin",
        (located.crop, located.points, skin, masks.hair, person),
        lambda: outline_skin(located.crop, located.points, skin, masks.hair, person > PERSON_THRESHOLD),
    )


def _where(neck: np.ndarray, forehead: np.ndarray, ears: np.ndarray) -> str:
    """The skin a colour stage reached beyond the face, for its stage entry: "" or " (face, neck and ears)" and so on."""
    parts = ["face"] + [name for name, part in (("neck", neck), ("upper forehead", forehead), ("ears", ears)) if part.any()]
    return "" if len(parts) == 1 else f" ({_listed(parts)})"


def _ahead(target: float, years: float) -> float:
    """The age whose mean a sign `years` ahead of the mean at `target` shows (kept inside the curves' 0-120)."""
    return min(max(target + years, 0.0), 120.0)


def _hairline(
    face: np.ndarray,
    masks: HairMasks,
    located: LocatedFace,
    source_age: float,
    target: float,
    variation: Variation,
    stages: dict,
    warnings: list[str],
) -> tuple[np.ndarray, HairMasks]:
    """The receding hairline stage (engine/methods/classical/hair.py): the face and the hair mask left; a recession
    asked for and not drawn (a fringe, no hair above the forehead) is a warning too."""
    if not variation.receding_hairline:
        return face, masks
    amount = added_recession(source_age, target) if variation.recession is None else variation.recession
    face, hair, note = recede_hairline(face, masks.hair, located.points, amount)
    if note:
        stages["hairline"] = f"receding_hairline skipped: {note}"
        if note != NO_RECESSION:
            warnings.append(f"Hairline left as it is: {note}.")
        return face, masks
    stages["hairline"] = f"receding_hairline: the temples and front moved back by {amount:.0%} of Norwood III's recession"
    return face, dataclasses.replace(masks, hair=hair)


def render_lifespan(
    rgb: np.ndarray,
    located: LocatedFace,
    source_age: float,
    targets: list[float],
    seed: int,
    settings: Settings | None = None,
    progress: Callable[[float, str], None] | None = None,
    receding_hairline: bool = False,
    into: list[np.ndarray] | None = None,
) -> list[AgedFace]:
    """One aged face per target age, in order, all with `seed`; `receding_hairline`: the hairline recedes (men);
    `into`: one photo per target to paste each into (a group photo's other faces aged in it already), else `rgb`."""
    if into is not None and len(into) != len(targets):
        raise ValueError(f"one photo to paste into per target: {len(into)} photos for {len(targets)} targets")
    for target in targets:  # refused in the order given, whichever order the ages are drawn in below
        check_target(target)
    setting = (settings or get_settings()).classical_workers
    # a second CPU computes the per-face work that needs no hair mask while the masks are found (on a new photo the
    # masks take about a third of one age's time, and nothing else ran meanwhile)
    with ahead(_face_ahead(rgb, located, source_age, targets, settings) if worker_count(setting, 2) > 1 else None):
        masks = hair_masks(located, settings)
    if masks.note:
        logger.info("hair stage skipped: %s", masks.note)
    variation = Variation(receding_hairline=receding_hairline)

    order = drawing_order(targets, source_age)

    def waiting(number: int) -> None:
        if progress:
            progress(number / len(targets), f"classical renderer, age {targets[order[number]]:g}")

    workers = worker_count(setting, len(targets))
    # a CPU the targets leave idle (one age, or fewer ages than CPUs) computes the hair stage's per-face work while
    # the stages before it run
    spare = worker_count(setting, len(targets) + 1) > workers
    hair_work = _hair_ahead(rgb if into is None else None, located, masks, source_age, targets, seed, variation, settings)
    with ahead(hair_work if spare else None):
        drawn = map_in_order(
            lambda index: age_face(
                rgb, located, masks, source_age, targets[index], seed, settings, variation, None if into is None else into[index]
            ),
            order,
            workers,
            waiting,
        )
    by_target = dict(zip(order, drawn))
    return [by_target[index] for index in range(len(targets))]


def check_target(target: float) -> None:
    """A target age the lifespan model draws: 0-80."""
    if not 0 <= target <= 80:
        raise InputError(f"target age must be between 0 and 80, got {target}")


def drawing_order(targets: list[float], source_age: float) -> list[int]:
    """The order (indices into `targets`) a strip's ages are drawn in on the worker threads: the younger and the older
    targets alternating, each farthest from the source first. The two paths' per-face work (the younger skin's fields,
    the older skin's texture and folds) is then found on two threads at once rather than one thread waiting for the
    other's, and the slowest ages start first; the images do not depend on the order (each age has its own seed and the
    per-face store gives every thread the same results)."""
    younger = sorted((i for i, t in enumerate(targets) if t < source_age), key=lambda i: (targets[i], i))
    older = sorted((i for i, t in enumerate(targets) if t >= source_age), key=lambda i: (-targets[i], i))
    order: list[int] = []
    for pair in itertools.zip_longest(younger, older):
        order += [i for i in pair if i is not None]
    return order


def _face_ahead(
    rgb: np.ndarray, located: LocatedFace, source_age: float, targets: list[float], settings: Settings | None
) -> Callable[[], None]:
    """The per-face work of `age_face` that needs no hair mask, with the arguments it gives it: the skin and the skin's
    colour; for an older target the neck, the prototype's texture warped onto the face's landmarks and the older folds'
    shading field, where a target draws them; for a younger one the neck in the crop and the photo's rows under it. The
    ages are checked by `age_face` as without it (a bad one fails here on the work's own thread, which drops it)."""

    def work() -> None:
        skin = face_skin(located)
        skin_colour(located)
        if any(target < source_age for target in targets):
            _young_neck(located, skin, photo_below(rgb, located.matrix, len(located.crop), located.points))
        older = [target for target in targets if target > source_age]
        if older:
            _neck(located, skin)
        textured = any(texture.texture_amount(source_age, target) > 0 for target in older)
        if textured and (settings or get_settings()).classical_texture:
            texture.prototype_on_landmarks(texture.prototype(settings), np.asarray(located.points, np.float64)[:, :2])
        if any(shape.descent_share(target) > shape.descent_share(source_age) for target in older):
            shape.fold_shading(located.crop.shape[:2], located.points, 1.0)

    return work


def _hair_ahead(
    photo: np.ndarray | None,
    located: LocatedFace,
    masks: HairMasks,
    source_age: float,
    targets: list[float],
    seed: int,
    variation: Variation,
    settings: Settings | None,
) -> Callable[[], None]:
    """The greying's per-face work (`prepare_grey_hair`, with the arguments `age_face` gives `grey_hair`), and where the
    hair runs into the crop's edge the hair's past it (`beyond_fields`, as `paste_aged` asks for it on `photo`; None:
    the faces are pasted into photos of their own), done only where a target greys the hair (not all younger, the hair
    stage not skipped). Everything, the ages' checks included, runs on the work's own thread, so a bad age is refused
    by `age_face` as it is without it."""

    def work() -> None:
        if masks.note:
            return
        if not any(added_grey(source_age, target, variation.grey_onset_shift) > 0 for target in targets):
            return
        rng = np.random.default_rng([seed, 2])
        scale = upsampling(located.matrix)
        prepare_grey_hair(
            masks.hair, rng, variation.grey_pattern, located.points, located.crop, scale, masks.past_mask(), masks.tips
        )
        # (a receding hairline changes the mask the paste reads: not read ahead then)
        if photo is not None and not variation.receding_hairline and reaches_edge(masks.hair):
            segmenter = get_cache(settings).get("person_segmenter")  # the hair mask was found with it
            beyond_fields(photo, located.matrix, located.crop, masks.hair, located.points, segmenter)

    return work
