"""Younger faces: creases and folds taken out of the skin, and a child's proportions on the whole head.

Two parts, each a pure function of the aligned 512 px face and its FaceMesh points:
- `remove_creases`: the luminance's crease band (dark valleys narrower than a deep furrow, found by a
  grey-level closing) and fold band (shading between the fine texture and the face's broad shape)
  taken out inside the skin, edge-aware: glasses frames, lashes, brows, nostrils and anything else of
  high local contrast are kept sharp, and some fine texture is left so the skin does not read as plastic;
- `child_warp`: the cardioidal strain of craniofacial growth (aging.py) and Farkas's child proportions
  (a smaller nose and mouth, larger-looking eyes, rounder cheeks) as one smooth warp of the whole head,
  fading to no motion before the crop's border so the paste-back is seamless; from a child's photo toward an
  older target the same growth runs forwards (the lower face lengthens, the nose and mouth grow).

Pure maths (`proportion_deficit`, `child_scales`, `feature_moves`) has no image I/O.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np

from engine.core.blurs import masked_blur, wide_blur
from engine.core.grids import every_pixel, grid_points
from engine.core.memo import memo
from engine.core.pixels import from_lab, to_lab
from engine.faces.alignment import pad_neutral
from engine.faces.segmentation import joined, right_of_face
from engine.faces.zones import (
    CHIN,
    FACE_OVAL,
    JAW_ANGLES,
    LEFT_EYE,
    OUTER_LIPS,
    RIGHT_EYE,
    SUBNASALE,
    face_hull,
    inter_ocular,
    support_box,
)
from engine.methods.classical.aging import below_jaw, remaining_growth, strain_origin
from engine.methods.classical.shape import crease_lines, smoothstep

logger = logging.getLogger(__name__)

# --- creases and folds (sizes in inter-ocular distances d; d is about 125 px on the aligned 512 px face) ---
# The widest crease the closing fills: forehead furrows, crow's feet and glabellar lines on the portraits
# are 3-10 px wide at d = 125 (from looking), so a 0.09 d (11 px) disk fills them and not the nostrils.
CREASE_WIDTH = 0.09
TEXTURE_SIGMA = 0.012  # the fine band (pores, fine texture) is what a 1.5 px blur takes away
FOLD_SIGMA = 0.10  # the fold band (nasolabial folds, eye bags, jowl shadows) lies between the crease scale and this
# What is left at full amount (from looking): young skin keeps some fine texture and a little shading.
TEXTURE_LEFT = 0.7  # the most the lifespan's younger skin leaves (`fine_texture_left` may leave less)
FOLD_LEFT = 0.5
# Younger skin's fine band by energy matching (Tiddeman, Burt and Perrett 2001 rejuvenate a face by scaling
# each wavelet band's local energy to a younger prototype's): the RMS of the fine band (`fine_energy`, as a
# share of the local lightness) that skin of a given age shows, measured once on the packaged portraits that
# are near their photo's own resolution (scaled 0.9-1.1x into the aligned frame; the upscaled ones are blurred
# by the scaling): Barack Obama at 47 (his three portraits: 0.0374, 0.0342, 0.0397) and Joe Biden at about 67
# (0.0422; the photograph's date is not stated, so his age is a guess). A line through the two, flat below 20
# (no packaged child or young adult at that resolution: younger skin is taken to be no finer than at 20).
FINE_ENERGY_AT = ((47.0, 0.0371), (67.0, 0.0422))
FINE_ENERGY_FLAT_BELOW = 20.0
# Pores stay: at least this share of the source's fine band is kept whatever the gap (from looking: less
# reads as plastic).
MIN_TEXTURE_LEFT = 0.4
# A feature to keep sharp is what skin is not: a colour away from the skin around it (glasses frames, make-up,
# hair: a chroma distance in a*b* of PROTECT_CHROMA levels and more) or much darker than it (nostrils, lashes,
# a frame's dark rim: below PROTECT_DARK of the lightness around it). Creases are shading of the skin's own colour, a
# third lighter at most on the 80-year-old portrait (from looking), so they are not kept.
PROTECT_SCALE = 0.1  # "around": a blur of this many d (wider than a crease or a frame, narrower than a shadow)
PROTECT_CHROMA = (18.0, 28.0)  # a*b* distance (OpenCV 8-bit Lab) where protection starts and is full
PROTECT_DARK = (0.5, 0.38)  # share of the skin's median lightness where protection starts and is full
# Creases and folds are darker than the skin beside them, so removing them lifts; what darkens is only
# a crease's rim coming down to the skin around it, a few levels (from looking; more turned the chin's
# edge into a shadow where the face's hull takes in the neck's).
MAX_DARKEN = 4.0
# Within FOLD_ZONE_REACH d of the nasolabial and marionette creases (shape.crease_lines; the hulls of the nose and the
# mouth left out, feathered over 0.06 d, so their rims are partly in: the nostrils, the wings and the mouth's dark corners
# are features) only what is off the skin's colour is a feature, as on the neck: a deep crease there is darker than
# PROTECT_DARK of the skin around it and was kept sharp as a lash or a nostril is (from looking: Grace Hopper's
# nasolabial creases stayed as two sharp dark lines from her nose's wings at 5, 10 and 30, the last old sign on her lower
# face; the reach holds her creases, which bow out past the straight line from the wing to the mouth corner).
FOLD_ZONE_REACH = 0.12
# Likewise within FOLD_ZONE_REACH d of the face's outline beside each earlobe, from below the ear's middle (FaceMesh 93 and
# 323) down to the jaw's angle (172 and 397, JAW_ANGLES): the shadow in the fold where an earlobe meets the jaw is darker
# than PROTECT_DARK of the skin around it, and kept sharp while the creases around it went, it was left as a dark dot, a
# mole that was not there (from looking: Grace Hopper's left earlobe at 10 and 20). A mole there, off the skin's colour,
# stays a feature; higher up, level with the eyes, a glasses' arm passes (taken from 127 and 356, where the ear joins the
# head, it smoothed the dark end of Takeo's arm, on a black-and-white photo whose features have no colour to keep them).
EAR_SIDES = ([93, 132, 58, 172], [323, 361, 288, 397])
NOSE_FOLD_LEFT = 0.8  # the nose's shading is its shape, not a fold: most of it is kept (from looking)
# --- an old face made young: the fold bands follow the soft-tissue descent taken back (shape.descent_share at the
# source less at the target, 0-1). Tiddeman, Burt and Perrett 2001 make a face younger by moving every detail band's
# amplitude toward a younger prototype's, not only the finest; the folds' depth grows with the descent of the fat
# compartments (Coleman and Grover 2006) and the skeleton's recession under them (Mendelson and Wong 2012), so the
# share of the descent taken back says how much of the fold bands goes; a filled crease's edges and the ridges between
# creases are the creases' own relief and go in step with the creases removed, whatever the descent taken back
# (`fold_bands`). At a whole share (80 to 30 or younger; the edges and ridges wherever every crease goes):
# - the fold band (between the crease scale and FOLD_SIGMA) is left at YOUNG_FOLD_LEFT instead of FOLD_LEFT (from
#   looking at Grace Hopper, 80, at 10 and 30: at 0.5 her cheeks' and chin's crepey folds stayed as a net of light
#   and dark lines; at 0.15 the cheeks read as smooth skin with their roundness kept);
# - the wide band (between FOLD_SIGMA and WIDE_FOLD_SIGMA: the nasolabial and marionette shadows, the hollow under
#   the cheekbone beside the jowl) has WIDE_FOLD_LIFT of its valleys lifted, measured on the face itself: only
#   where the source shows a valley darker than the skin around it, by the source's own depth (from looking: her
#   nasolabial and marionette shadows were the last signs of age left on the lower face at 10; lifting them whole
#   flattened the cheek's roundness beside the nose);
# - the fine band's share of a filled crease's own edges (where the closing lifted the lightness by CREASE_EDGE_FILL
#   levels or more) falls to CREASE_EDGES_LEFT (from looking: with the crease's valley filled, its sharp edges kept
#   in the fine band drew each old crease again as a thin light line, a net over her cheeks and chin at 10).
# How far along the bands' treatment goes also depends on how creased the source's skin is, measured on the face
# itself (`crease_load`: the mean lift the crease closing gives its skin, in lightness levels): a share of
# CREASE_LOAD_AT_80, measured once on the shipped portrait of Grace Hopper (taken at 77, run as source age 80: the
# estimator's reading; 4.83 levels; the astronaut at 41
# measures 1.62). From looking: on the astronaut's smooth skin at 41 the ridge and fold rules took her smile's
# lines and the light on her cheeks and nose tip (expression and lighting, not crepe or descent); on an
# 80-year-old's skin they take the crepe and folds.
CREASE_LOAD_AT_80 = 4.83
YOUNG_FOLD_LEFT = 0.15
WIDE_FOLD_SIGMA = 0.3
WIDE_FOLD_LIFT = 0.7
CREASE_EDGE_FILL = 6.0
CREASE_EDGES_LEFT = 0.3
# - the skin's light ridges between old creases (crepey skin) come down toward the skin around them (a blur of
#   RIDGE_SIGMA d, a little wider than a crease) to RIDGES_LEFT of their height (from looking: with the creases
#   filled and the fold band flattened, the ridges, kept by the rule that nothing darkens by more than MAX_DARKEN,
#   stood out as a net of light streaks over her cheeks and chin at 10); only among filled creases (within
#   CREASE_WIDTH of one), elsewhere a light patch is the light on smooth skin.
RIDGES_LEFT = 0.3
RIDGE_SIGMA = 0.05
# The wide band's lift fades in over WIDE_EDGE d inside the skin's outline (from looking: the darker skin along the
# face's outline is its roundness and the light, not a fold; lifting it flattened the face and left the dark shadows
# at the ears, which are kept as features, standing out as dark marks on a pale cheek).
WIDE_EDGE = 0.3
# On a pair of glasses' frame, the crease edges and ridges are kept: within LENS_RIM d of each lens's edge on either
# side, and over the bridge between the lenses (the lenses' hull grown by as much) (from looking: her tortoiseshell
# frame's lower rims and its bridge are light bands of nearly the skin's colour, and bringing ridges down erased
# them); inside the rim the creases seen through the lens lose their edges as the skin's do (kept there, the lines
# under her eyes were the last old signs left in the upper face at 10 and 30).
LENS_RIM = 0.1
# A frame's arms run back from its rims to the ears, across the temples where the hair's margin lies (`where_frame_lies`):
# thin dark lines, thinner than ARM_WIDTH d (Takeo's metal arms about 3 px, Hopper's acetate ones 5-8 px, at d of
# 126 and 131 px), straight for ARM_LENGTH d or more, within ARM_SLOPES degrees of level (a turned or tilted head
# slopes them), ARM_CONTRAST levels (L*, 8-bit) darker than what lies around them, and joined to the rims (hair's
# strands at the outline are thin dark lines too, but not joined to them). From looking at both portraits' temples.
ARM_WIDTH = 0.08
ARM_LENGTH = 0.15
ARM_SLOPES = (-40.0, -20.0, 0.0, 20.0, 40.0)
ARM_CONTRAST = 15.0
CREASE_RIM = 0.03  # d: how far beside a filled crease its edges reach (a crease's rims are 2-4 px wide, from looking)
# Even colour (from looking): the skin's a* and b* moved this far toward their blur at COLOUR_SIGMA d, so the
# redness along creases and blotches fades into the skin's own colour.
COLOUR_SIGMA = 0.08
EVEN_COLOUR = 0.8
# --- the neck below the face (aging.neck_skin finds its skin): its crease and fine bands go as the face's do, at the
# same amount, while its fold and wide bands are kept whole: the shadow under the jaw is the light, not age (from
# looking: lifting it drew a pale band under the chin on darker skin). Without this, Grace Hopper at 10 and 30 had a
# young face on her own crepey neck, and where the smoothing stopped at the jaw, the shadow under it, still mottled
# by its creases, read as a dark beard-like band.
# - NECK_GAP d: neck_skin leaves out what is darker or redder than the face's skin (the shadow right under the chin,
#   the neck's centre between its vertical bands on the 80-year-old portrait); gaps narrower than this between its
#   parts and the face's outline are closed (from looking: her gap under the chin is about 0.25 d across);
# - NECK_FEATHER d: the bands' treatment passes from the face's to the neck's over a blur of this width across the
#   jaw line (from looking: a switch at the outline left the chin's lifted lower rim against the unlifted shadow as
#   a hard edge; a wider fade lifted the top of the shadow under the jaw).
NECK_GAP = 0.3
NECK_FEATHER = 0.08
# Where the younger skin works (`young_skin_mask`, and the neck joined to it): hair and brows grown by
# YOUNG_MASK_GROWTH d are left out (their edge hairs stay out of the smoothing), the edge feathered over
# YOUNG_MASK_FEATHER d (both set from looking when the younger skin was first built)
YOUNG_MASK_GROWTH = 0.04
YOUNG_MASK_FEATHER = 0.02

# --- glasses (from looking at the packaged portraits): a frame's rim is found as what `feature_protection`
# keeps (dark or off the skin's colour) in a band above each eye, across most of the eye's width and beyond its
# outer corner (lashes and eyeliner stay within the eye's width); the lens below it reaches LENS_BELOW_EYE d
# under the eye's centre (the same reach as texture.py's GLASSES_BELOW_EYES on its prototype, a little less).
RIM_BAND = (0.35, 0.02)  # the band searched for the rim, from this far above the eye's top to this far above it, in d
RIM_OUTWARD = 0.2  # columns searched beyond the eye's outer corner, in d
RIM_COVER = 0.8  # share of the searched columns the rim must cross, on both eyes
LENS_BELOW_EYE = 0.5
LENS_FEATHER = 0.04  # the lens mask's soft edge, in d

# --- a child's proportions: Farkas (1994), "Anthropometry of the Head and Face", 2nd ed., growth tables of
# North American whites. Ratios of a 6-year-old's measure to an 18-year-old's (both sexes averaged, read
# from the tables to about +/- 0.02), each divided by the biocular width's ratio (ex-ex, 0.90), since the
# aligned crop keeps the eyes where an adult's are: what is left is the feature's size relative to the eyes.
BIOCULAR_RATIO_AT_6 = 0.90
NOSE_HEIGHT_RATIO_AT_6 = 0.78  # n-sn
NOSE_WIDTH_RATIO_AT_6 = 0.82  # al-al
MOUTH_WIDTH_RATIO_AT_6 = 0.77  # ch-ch
# The cornea (and so the visible iris) is near adult size by 2 years (about 11 of 11.7 mm): a child's eyes
# look larger within the face. The eye opening scaled up by this much at 6 (from looking; kept small, as a
# larger scale reads as a cartoon).
EYE_SCALE_AT_6 = 1.06
# Buccal fat: a child's cheeks are fuller and the face's outline rounder below the cheekbones. The outline at
# mouth level moves out by this share of d at 6 (from looking: more, or lower on the jaw, reads as a swollen jaw).
CHEEK_FULLNESS_AT_6 = 0.04
PROPORTIONS_AGE = 6.0  # the age the ratios above were read at
FALLOFF = 1.7  # each feature's scaling fades to none between its ellipse and this multiple of it (from looking)
# A child grown older: the nose and mouth grow toward each other, and in one step their moves folded the upper lip and the
# skin beside the mouth's corners over (the moves' least area ratio -0.56 from a newborn's photo to 20, -0.03 from a
# 3-year-old's, on five portraits' landmarks). Grown in steps of at most this much, each on the landmarks the steps before
# moved, the skin is never folded: its least area ratio 0.19 from a newborn's photo, 0.34 from a 5-year-old's (one step:
# 0.21)
GROWTH_STEP = 1.1
# The strain is full within FULL_STRAIN d of its origin (the brows to the jaw's corners), and further down to the
# chin; beyond that it fades to none over NECK_FADE d (from looking: the chin of a 41-year-old rises about 0.3 d at
# 5, and a fade of 0.2 d, all the aligned crop held under her chin, stretched her neck 2.4 times into vertical
# streaks; over 1.5 d the neck is stretched 1.2 times on average, 1.6 at the fade's steepest, and reads as a neck). The fade takes in
# the photo's neck below the aligned crop, as far as the photo holds it (`photo_below`, up to NECK_ROOM of the
# crop's size); where the photo ends closer, the fade shrinks to NECK_FADE_LEAST d. Along every ray the motion
# stops EDGE_MARGIN of the crop's size before the frame's edge, where the paste-back's feather starts (a motion
# that reached the feather showed two copies of the suit's collar).
FULL_STRAIN = 1.8
NECK_FADE = 1.5
NECK_FADE_LEAST = 0.2
NECK_ROOM = 0.4
EDGE_MARGIN = 0.06
# Where the photo ends close under the chin the fade is short: the chin's full rise stretched a neck framed to end 0.35 d
# under the chin 3.2 times at 5 and 4.7 at 0 into vertical streaks under a shrunken, pointed lower face (Takeo's). There
# the strain is weakened to the strongest that stretches the neck at most settings.classical_neck_stretch times
# (`bounded_strain`; the value's source is there), and the stage says so (and a warning, where under lifespan.STRAIN_SEEN
# of it is drawn).
# Beside the head, more than GROWN_BEYOND degrees from straight down (blended in from GROWN_NECK, as `fade_least` blends),
# the full strain ends HEAD_MARGIN d past the face's outline (FaceMesh's oval), not FULL_STRAIN d out, and fades from there
# to the frame's edge: what lies beyond is mostly the photo's background, which a strain full to FULL_STRAIN d moved in
# toward the face whole and then stretched 3.7 times over the last 0.2 d before the frame's edge at 0 (Obama's 2012
# portrait: the straight curtain beside his ear bent into a streaked wedge). The aligned crop leaves 0.5-0.75 d between
# the oval and its side at eye level, and the face narrows by about 0.15 d there at 0, which the ears or the background
# take up: the head's extent past the oval at eye level, measured on the nine packaged portraits' person masks, is 0-0.76 d
# (median about 0.35; Einstein's hair 1-1.6 d); at 0.5 d the background beside the astronaut's and Obama's ears is still
# stretched 3.1 times, at 0.3 d 2.1 (ears wider than that take a little of the fade; from looking, at 0 and 5). Through
# the neck the chin's rule above is kept, and the side's is blended in from GROWN_NECK to BESIDE_FROM degrees from
# straight down: over the 15 degrees to GROWN_BEYOND, the camera operator's face near profile (its inter-ocular distance
# foreshortened, his chin 2.85 d out) had the full strain's reach fall from 2.85 d to about 1.2 d, and the camera beside
# his chin was sheared into a doubled edge (along one row the mapping ran backwards; over 30 degrees its least slope is
# 0.24, 0.22 before the side's rule; the frontal portraits' ears take the side's rule in full either way).
HEAD_MARGIN = 0.3
BESIDE_FROM = 60.0
NECK_RAYS = 9  # rays from the strain's origin through the neck, spread between the jaw's angles at the chin's height
# A child's photo grown older lowers the chin over the neck, squeezing it: at most settings.classical_neck_stretch times
# (as the stretch toward a child). Wherever the frame's edge comes first (the sides, a photo that ends at the chin) the
# fade is short, and nowhere is the frame squeezed more than this much, short of folding it over (no point landing there):
# where the photo ends at the chin the astronaut's neck was squeezed 8 rows into one grown from 5 to 20, and from a
# newborn's photo the crop's sides would fold (the strain 0.12, a side's fade 0.2 d wide, 2 d out: a slope of -0.26)
UNFOLDED_SQUEEZE = 10.0
# Growing older, the strain fades over at least this much (in d) where the frame's edge comes first (NECK_FADE_LEAST
# toward a child). Over 0.2 d the rays toward the crop's lower corners, 2.4 d out at 135 degrees from straight up, were
# squeezed to a fold at k 0.04 (their stretch per unit strain 29), and every grown child's strain was held to half its
# age's. With this fade (blended in by angle, below) the frame's worst ray takes 10.7-14.4 a unit on the astronaut and
# Grace Hopper made 0-5 (the peak where the blend meets the side edge), so a strain of 0.06-0.08 before a squeeze of
# UNFOLDED_SQUEEZE: a 5-year-old's photo grows in full (0.071), a 0-2-year-old's to 0.063-0.084 of 0.10-0.12 (the
# astronaut 0.063-0.070, Hopper 0.081-0.084). The full strain then ends about 1.8 d out toward those corners, short of
# the jaw's angles (about 1.9 d), and the face's outline beside the eyes takes less of it where the face sits off the
# crop's centre (FaceMesh 356 takes 0.70 of it on the astronaut made 0): from the formula; the corners themselves are
# background and shoulders, within the paste's feather
GROWN_FADE_LEAST = 0.6
# ... but not through the neck, within GROWN_NECK degrees of straight down (the jaw's angles lie about 28 degrees from it,
# seen from the strain's origin): there a fade this long where the photo ends at the chin crossed the chin, and the mouth
# lowered over a chin that stayed (the neck's squeeze is bounded by the setting instead); the long fade in full from
# GROWN_BEYOND degrees
GROWN_NECK = 30.0
GROWN_BEYOND = 45.0
# the rays the frame's squeeze is read along: its peak lies within the fade's blend by angle (GROWN_NECK-GROWN_BEYOND),
# a cusp (where the fade's inner radius switches from the edge's to the full strain's); read every 5 degrees it was
# missed by up to a quarter (the astronaut made 2: 11.6 against 14.6 a unit of strain) and the strain allowed still
# folded the frame beside the neck. Every 0.25 degrees it is read within about 2 % (14.38 against 14.60), so the
# squeeze allowed at the cusp is about 10-12 times, far from a fold
FRAME_RAY_DEGREES = 0.25

# FaceMesh points: the nose from the nasion to the alae and tip, and the outline at mouth level.
NOSE = [168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 64, 294, 48, 278, 129, 358, 102, 331, 49, 279]
NASION_POINT = 168
CHEEK_OUTLINE = {"right": [132, 58], "left": [361, 288]}  # image left / right side of the face


def proportion_deficit(age: float) -> float:
    """How far a face at `age` is from adult proportions, relative to a 6-year-old's (1 at 6, 0 from 18,
    about 1.9 at birth), along the remaining-growth curve of aging.py."""
    return remaining_growth(age) / remaining_growth(PROPORTIONS_AGE)


@dataclass(frozen=True)
class ChildScales:
    """Sizes relative to the eyes that take a face at the source age to the target age (all 1 between adults; under 1 for
    the nose and mouth toward a younger child, over 1 from a child toward an older target)."""

    nose_height: float
    nose_width: float
    mouth_width: float
    eye: float
    cheek: float  # outward shift of the outline at mouth level, in d (0 between adults; inward, < 0, as a child grows)


def _ratio(ratio_at_6: float, age: float) -> float:
    """A measure's size relative to the biocular width at `age`, as a share of the adult's."""
    relative = ratio_at_6 / BIOCULAR_RATIO_AT_6 - 1.0
    return 1.0 + relative * proportion_deficit(age)


def child_scales(source_age: float, target_age: float) -> ChildScales:
    """Scales from `source_age` to `target_age`: toward a younger child's proportions, or from a child's toward an older
    target's (growth run forwards: the nose and mouth grow relative to the eyes, the eyes look smaller, the cheeks
    slimmer); all 1 between adults."""

    def scale(ratio_at_6: float) -> float:
        return _ratio(ratio_at_6, target_age) / _ratio(ratio_at_6, source_age)

    def eye(age: float) -> float:  # the eyes' look at `age`, as a share of an adult's
        return 1.0 + (EYE_SCALE_AT_6 - 1.0) * proportion_deficit(age)

    # sizes are ratios and the cheeks' shift a difference, so two steps (5 -> 10 -> 40) give what one step (5 -> 40) does
    return ChildScales(
        nose_height=scale(NOSE_HEIGHT_RATIO_AT_6),
        nose_width=scale(NOSE_WIDTH_RATIO_AT_6),
        mouth_width=scale(MOUTH_WIDTH_RATIO_AT_6),
        eye=eye(target_age) / eye(source_age),
        cheek=CHEEK_FULLNESS_AT_6 * (proportion_deficit(target_age) - proportion_deficit(source_age)),
    )


@dataclass(frozen=True)
class FeatureMove:
    """Points within the ellipse (centre, radii) scaled about `anchor` by (sx, sy), plus `shift`; fading
    to no motion at FALLOFF times the ellipse."""

    centre: np.ndarray
    radii: np.ndarray
    anchor: np.ndarray
    scale: np.ndarray
    shift: np.ndarray


def feature_moves(points: np.ndarray, scales: ChildScales) -> list[FeatureMove]:
    """The local moves of a child's proportions on a face with FaceMesh `points` (aligned frame)."""
    p = np.asarray(points, np.float64)[:, :2]
    d = inter_ocular(p)
    moves = []
    nose = p[NOSE]
    axis_x = float(p[[NASION_POINT, SUBNASALE], 0].mean())
    nose_half_width = (nose[:, 0].max() - nose[:, 0].min()) / 2
    top, bottom = p[NASION_POINT, 1], nose[:, 1].max()
    moves.append(
        FeatureMove(
            centre=np.array([axis_x, (top + bottom) / 2]),
            radii=np.array([1.15 * nose_half_width, 0.55 * (bottom - top)]),
            anchor=np.array([axis_x, top]),  # the nose shortens toward the nasion: the tip rises
            scale=np.array([scales.nose_width, scales.nose_height]),
            shift=np.zeros(2),
        )
    )
    lips = p[OUTER_LIPS]
    centre = lips.mean(0)
    half = (lips.max(0) - lips.min(0)) / 2
    moves.append(
        FeatureMove(
            centre=centre,
            radii=np.array([1.1 * half[0], 1.3 * half[1]]),
            anchor=centre,
            scale=np.array([scales.mouth_width, 0.5 + 0.5 * scales.mouth_width]),  # lips thin less than the mouth narrows
            shift=np.zeros(2),
        )
    )
    for eye in (RIGHT_EYE, LEFT_EYE):
        outline = p[eye]
        centre = outline.mean(0)
        half = (outline.max(0) - outline.min(0)) / 2
        moves.append(FeatureMove(centre, np.array([1.1 * half[0], 1.6 * half[1]]), centre, np.full(2, scales.eye), np.zeros(2)))
    for side, sign in (("right", -1.0), ("left", 1.0)):
        outline = p[CHEEK_OUTLINE[side]]
        centre = outline.mean(0)
        moves.append(FeatureMove(centre, np.full(2, 0.3 * d), centre, np.ones(2), np.array([sign * scales.cheek * d, 0.0])))
    return moves


def growth_steps(scales: ChildScales) -> list[ChildScales]:
    """`scales` as the steps that make them up, each growing a feature at most GROWTH_STEP times (one step toward a child,
    whose features shrink): sizes the steps' equal ratios, the cheeks' shift their equal parts."""
    largest = max(scales.nose_height, scales.nose_width, scales.mouth_width, 1.0)
    count = max(1, math.ceil(math.log(largest) / math.log(GROWTH_STEP) - 1e-9))
    if count == 1:
        return [scales]
    root = 1.0 / count
    step = ChildScales(
        scales.nose_height**root, scales.nose_width**root, scales.mouth_width**root, scales.eye**root, scales.cheek * root
    )
    return [step] * count


def _falloff(offset: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """1 inside the ellipse, a smoothstep down to 0 at FALLOFF times it."""
    r = np.hypot(offset[..., 0] / radii[0], offset[..., 1] / radii[1])
    return smoothstep((FALLOFF - r) / (FALLOFF - 1.0))


def moved_by_features(source: np.ndarray, moves: list[FeatureMove]) -> np.ndarray:
    """Where each point (..., 2) lands under the feature moves (the sum of each move's faded displacement).
    Each move reaches only the points in its ellipse's box at FALLOFF times its radii (beyond it the falloff is
    exactly 0), so only those are computed."""
    out = np.array(source, np.float64, copy=True)
    points, moved = np.asarray(source).reshape(-1, 2), out.reshape(-1, 2)
    for move in moves:
        radii = np.asarray(move.radii, np.float64)
        if not np.all((radii > 0) & np.isfinite(radii)):  # a degenerate ellipse: every point, as the formula has it
            weight = _falloff(source - move.centre, move.radii)[..., None]
            out += weight * ((source - move.anchor) * (move.scale - 1.0) + move.shift)
            continue
        reach = FALLOFF * radii * (1 + 1e-6)  # a hair wider, so the falloff is exactly 0 beyond it
        near = np.flatnonzero(
            (np.abs(points[:, 0] - move.centre[0]) < reach[0]) & (np.abs(points[:, 1] - move.centre[1]) < reach[1])
        )
        part = points[near]
        weight = _falloff(part - move.centre, move.radii)[:, None]
        moved[near] += weight * ((part - move.anchor) * (move.scale - 1.0) + move.shift)
    return out


INVERSE_TOLERANCE = 0.01  # px: the feature moves' inverse is found to within this (a hundredth of a pixel)
HALVINGS = 4  # a Newton step that overshoots is halved at most this many times
INVERSE_LOGGED = 0.5  # px: points the inverse leaves further than this from their target are logged


def features_inverse(target: np.ndarray, moves: list[FeatureMove], steps: int = 8) -> np.ndarray:
    """The points (..., 2) that the feature moves carry onto `target` (to INVERSE_TOLERANCE, in at most `steps`
    steps), by Newton's method from `target` itself: the moves' Jacobian by differences over half a pixel, each point's
    2 x 2 system solved, and a step that would leave a point further from its target halved (up to HALVINGS times;
    where the moves fold the skin over, no point maps there and the nearest is kept). A fixed-point iteration
    (q <- q + p - f(q)) converges only where the moves stretch less than twice; toward 0-2 a child's cheeks and mouth
    stretch the skin beside them up to 2.3 times, and after 6 such steps the astronaut's upper lip and cheeks were
    sampled up to 12 px from where they belong (vertical streaks, the lip drawn twice). Points left further than
    INVERSE_LOGGED from their target are logged."""
    shape = np.shape(target)
    goal = np.asarray(target, np.float64).reshape(-1, 2)
    source = goal.copy()
    moved = moved_by_features(source, moves)
    error = moved - goal
    stuck = np.zeros(len(goal), bool)  # points no halved step brought nearer: where the moves fold the skin over
    h = 0.5
    for _ in range(steps):
        size = np.hypot(error[:, 0], error[:, 1])
        active = np.flatnonzero((size >= INVERSE_TOLERANCE) & ~stuck)
        if not active.size:
            break
        q, m, e = source[active], moved[active], error[active]
        dx = (moved_by_features(q + [h, 0.0], moves) - m) / h
        dy = (moved_by_features(q + [0.0, h], moves) - m) / h
        det = dx[:, 0] * dy[:, 1] - dy[:, 0] * dx[:, 1]
        det = np.where(np.abs(det) > 1e-6, det, np.copysign(1e-6, det))
        # J = [[dx_x, dy_x], [dx_y, dy_y]] (columns: the derivatives along x and y); J^-1 error
        step = np.stack([dy[:, 1] * e[:, 0] - dy[:, 0] * e[:, 1], -dx[:, 1] * e[:, 0] + dx[:, 0] * e[:, 1]], -1) / det[:, None]
        pending = np.ones(len(active), bool)
        for _ in range(HALVINGS + 1):
            tried = np.flatnonzero(pending)
            trial = q[tried] - step[tried]
            trial_moved = moved_by_features(trial, moves)
            trial_error = trial_moved - goal[active[tried]]
            better = np.hypot(trial_error[:, 0], trial_error[:, 1]) < size[active[tried]]
            kept = active[tried[better]]
            source[kept], moved[kept], error[kept] = trial[better], trial_moved[better], trial_error[better]
            pending[tried[better]] = False
            if not pending.any():
                break
            step[tried[~better]] /= 2
        stuck[active[pending]] = True
    left = np.hypot(error[:, 0], error[:, 1])
    if left.size and left.max() > INVERSE_LOGGED:
        logger.info(
            "child warp: %d grid points left up to %.1f px from where the feature moves put them",
            int((left > INVERSE_LOGGED).sum()),
            float(left.max()),
        )
    return source.reshape(shape)


def strain_extent(
    points: np.ndarray, shape: tuple[int, int], unit: np.ndarray, growing: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(head, border) along each ray `unit` (..., 2, unit vectors) from the strain's origin on an aligned frame of
    `shape` (height, width): the radii within which the child warp's strain is full, and from which it is none.

    The whole face down to the chin (FaceMesh 152) takes the full strain, so the chin rises with the mouth and the lower
    face shortens as a child's does (lengthens, as a child's photo grows older); the fade lies in the neck below it
    (NECK_FADE d). Where the strain faded across the chin instead, the chin stayed while the mouth rose (a longer,
    pointed lower face) and the shadow under the jaw was stretched up over the chin's skin (it read as a beard shadow or
    dirt). Along a ray that meets the frame's edge (less EDGE_MARGIN) sooner, the border is there and the fade at least
    `fade_least` d (NECK_FADE_LEAST; `growing`, a child's photo grown older: more beside the neck), the full strain
    ending before it. Beside the head the full strain ends HEAD_MARGIN d past the face's outline (`outline_radius`), and
    the background fades out beyond it."""
    p = np.asarray(points, np.float64)[:, :2]
    origin = strain_origin(p)
    d = inter_ocular(p)
    height, width = shape
    margin = EDGE_MARGIN * width
    ux, uy = unit[..., 0], unit[..., 1]
    with np.errstate(divide="ignore"):
        tx = np.where(ux > 0, (width - 1 - margin - origin[0]) / ux, np.where(ux < 0, (margin - origin[0]) / ux, np.inf))
        ty = np.where(uy > 0, (height - 1 - margin - origin[1]) / uy, np.where(uy < 0, (margin - origin[1]) / uy, np.inf))
    edge = np.maximum(np.minimum(tx, ty), 1.0)
    chin = max(FULL_STRAIN * d, float(np.hypot(*(p[CHIN] - origin))))
    beside = np.minimum(chin, outline_radius(p, origin, unit) + HEAD_MARGIN * d)
    from_down = np.degrees(np.arccos(np.clip(uy, -1.0, 1.0)))
    full = chin + (beside - chin) * smoothstep((from_down - GROWN_NECK) / (BESIDE_FROM - GROWN_NECK))
    border = np.minimum(full + NECK_FADE * d, edge)
    head = np.clip(np.minimum(full, border - fade_least(unit, growing) * d), 0.0, None)
    return head, np.maximum(border, head + 1.0)


def outline_radius(points: np.ndarray, origin: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """(...) how far the face's outline lies from `origin` along each ray `unit` (..., 2 unit vectors): where the ray leaves
    the convex hull of FaceMesh's oval of `points`, 0 where `origin` lies outside it. The hull, not the oval itself: on
    a face near profile the oval's far side folds in toward the origin (the camera operator's to 0.2 d), and the full
    strain ended inside the face there, jumping back out to the chin's within 15 degrees (the camera beside his chin was
    sheared into a doubled edge at 0)."""
    oval = np.asarray(points, np.float64)[FACE_OVAL, :2] - origin
    hull = cv2.convexHull(oval.astype(np.float32))[:, 0, :].astype(np.float64)
    edges = np.roll(hull, -1, axis=0) - hull
    normals = np.stack([edges[:, 1], -edges[:, 0]], -1)
    normals /= np.maximum(np.hypot(normals[:, 0], normals[:, 1]), 1e-12)[:, None]
    # outward, whichever the winding: away from the hull's middle (read off the origin, an edge's normal flipped where the
    # origin lay within rounding of that edge)
    middle = hull.mean(0)
    normals = np.where(((hull + 0.5 * edges - middle) * normals).sum(-1)[:, None] < 0, -normals, normals)
    offsets = np.maximum((normals * hull).sum(-1), 0.0)  # the origin on an edge (within rounding): 0 that way
    facing = np.tensordot(unit, normals, axes=([-1], [1]))  # (..., edges): how squarely each ray meets each edge's line
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(facing > 1e-12, offsets / facing, np.inf)
    inside = bool(cv2.pointPolygonTest(hull.astype(np.float32), (0.0, 0.0), False) >= 0)
    return reach.min(-1) if inside else np.zeros(np.shape(unit)[:-1])


def fade_least(unit: np.ndarray, growing: bool) -> float | np.ndarray:
    """The least fade (in d) along each ray `unit` (..., 2) where the frame's edge comes first: NECK_FADE_LEAST, and
    `growing` (a child's photo grown older) GROWN_FADE_LEAST away from the neck, blended in smoothly between GROWN_NECK
    and GROWN_BEYOND degrees from straight down (a step would tear the warp between two rays)."""
    if not growing:
        return NECK_FADE_LEAST
    from_down = np.degrees(np.arccos(np.clip(np.asarray(unit, np.float64)[..., 1], -1.0, 1.0)))
    return NECK_FADE_LEAST + (GROWN_FADE_LEAST - NECK_FADE_LEAST) * smoothstep(
        (from_down - GROWN_NECK) / (GROWN_BEYOND - GROWN_NECK)
    )


def neck_stretch_per_strain(points: np.ndarray, shape: tuple[int, int], growing: bool = False) -> float:
    """How much each unit of cardioidal strain stretches the neck toward a child (or squeezes it as a child grows older)
    on an aligned frame of `shape` (height, width; the crop with the photo below it): `_stretch_per_strain` over the rays
    through the neck (NECK_RAYS, from the strain's origin to the chin's height between the jaw's angles)."""
    p = np.asarray(points, np.float64)[:, :2]
    origin = strain_origin(p)
    xs = np.linspace(p[JAW_ANGLES[0], 0], p[JAW_ANGLES[1], 0], NECK_RAYS)
    offset = np.stack([xs - origin[0], np.full(NECK_RAYS, p[CHIN, 1] - origin[1])], -1)
    return _stretch_per_strain(p, shape, offset / np.maximum(np.hypot(offset[:, 0], offset[:, 1]), 1e-12)[:, None], growing)


def frame_squeeze_per_strain(points: np.ndarray, shape: tuple[int, int]) -> float:
    """`_stretch_per_strain` over rays every FRAME_RAY_DEGREES around the strain's origin: the whole frame's, whose
    sides the strain fades out in too (within `fade_least` d there, where the frame's edge comes first), as a child's photo
    grows older."""
    angles = np.radians(np.arange(0.0, 360.0, FRAME_RAY_DEGREES))
    unit = np.stack([np.sin(angles), -np.cos(angles)], -1)
    return _stretch_per_strain(np.asarray(points, np.float64)[:, :2], shape, unit, True)


def _stretch_per_strain(p: np.ndarray, shape: tuple[int, int], unit: np.ndarray, growing: bool) -> float:
    """The largest -g over the rays `unit` ((N, 2) unit vectors from the strain's origin) and their radii, where a ray's
    radial stretch under the faded strain (`faded_strain_radius`) is d r' / d r = 1 + k (1 - cos theta) g(r),
    g = fade + r d fade / d r (linear in k). 0 where no ray is stretched."""
    head, border = strain_extent(p, shape, unit, growing)
    inner, outer = np.atleast_1d(head)[:, None], np.atleast_1d(border)[:, None]
    radius = np.linspace(inner, outer, 256, axis=-1)[:, 0, :]  # each ray's fade, 256 radii (as one ray's linspace)
    landed = faded_strain_radius(radius, np.ones_like(radius), inner, outer)  # 1 + g-weighted: r (1 + fade)
    g = np.diff(landed, axis=1) / np.diff(radius, axis=1) - 1.0
    # 1 - cos theta, theta from straight up
    return float(max(0.0, (-g.min(axis=1) * (1.0 + np.asarray(unit, np.float64)[:, 1])).max()))


def growth_bounds(k: float, points: np.ndarray, shape: tuple[int, int], most: float) -> tuple[float, float]:
    """For a child's photo grown older (`k` > 0): (the strongest strain up to `k` that squeezes the neck at most `most`
    times, `k` where `most` is 0; the strongest that squeezes no ray of the frame past UNFOLDED_SQUEEZE times). The
    squeeze per unit of strain depends on the face and the frame alone: found once per face (every older target of a
    strip from a child's photo asks for it)."""
    neck, frame = memo(
        "growth_per_strain",
        (points, shape),
        lambda: (neck_stretch_per_strain(points, shape, True), frame_squeeze_per_strain(points, shape)),
    )
    bound = 1.0 - 1.0 / most if most else None
    return (
        k if bound is None or k * neck <= bound else bound / neck,
        k if k * frame <= 1.0 - 1.0 / UNFOLDED_SQUEEZE else (1.0 - 1.0 / UNFOLDED_SQUEEZE) / frame,
    )


def bounded_strain(k: float, points: np.ndarray, shape: tuple[int, int], most: float) -> tuple[float, str]:
    """The strain drawn for `k` and why it is weaker than `k`: "" (it is not), "neck" (the neck would be stretched, k < 0
    toward a child, or squeezed, k > 0 a child grown older, more than `most` times: `neck_stretch_per_strain`, a ray's
    radial slope 1 + |k| s toward a child, 1 - k s growing up) or "fold" (growing up, somewhere in the frame would be
    squeezed past UNFOLDED_SQUEEZE times, folding it over: `growth_bounds`, one reading of both); `most` 0 bounds the neck
    by nothing."""
    if not (most == 0 or most >= 1):  # NaN too
        raise ValueError(f"the most the neck may be stretched must be 0 (no limit) or at least 1, got {most}")
    if k == 0 or (k < 0 and most == 0):
        return k, ""
    if k > 0:
        neck, fold = growth_bounds(k, points, shape, most)
        strain = min(neck, fold)
        return strain, "" if strain == k else ("neck" if neck <= fold else "fold")
    per_strain = neck_stretch_per_strain(points, shape)
    return (k, "") if 1.0 + abs(k) * per_strain <= most else (-(most - 1.0) / per_strain, "neck")


def _neck_columns(points: np.ndarray, inside: np.ndarray | None, width: int) -> np.ndarray:
    """(width,) bool: the columns under the neck, between the jaw's angles (JAW_ANGLES) of FaceMesh `points`, that the
    photo holds just under the chin (`inside`: the crop's share in the photo, or None where it holds all of it). A photo
    whose side cuts between the jaw's angles holds the neck in the columns on its own side only: taking the whole span
    there found no neck under the crop, and said the photo ended at the chin."""
    p = np.asarray(points, np.float64)
    jaw = p[JAW_ANGLES, 0]
    columns = np.arange(width)
    span = (columns >= np.floor(jaw.min())) & (columns <= np.ceil(jaw.max()))
    if inside is None:
        return span
    row = int(np.clip(np.floor(p[CHIN, 1]) + 1, 0, len(inside) - 1))
    return span & (inside[row] >= 1.0)


def neck_rows(points: np.ndarray, inside: np.ndarray | None, height: int) -> int:
    """The rows of a frame `height` rows high (the aligned crop, `inside` its share in the photo or None where the photo
    holds all of it, and the rows `photo_below` took under it) down to where the photo stops holding the neck
    (`_neck_columns`): all of them where it holds the neck to the frame's bottom."""
    if inside is None:
        return height
    neck = _neck_columns(points, inside, inside.shape[1])
    if not neck.any():
        return int(np.clip(np.floor(np.asarray(points, np.float64)[CHIN, 1]) + 1, 0, height))
    short = np.flatnonzero(inside[:, neck].min(1) < 1.0)
    below = short[short > np.asarray(points, np.float64)[CHIN, 1]]  # the padding above the face is not the neck's
    return int(below[0]) if len(below) else height


def photo_below(rgb: np.ndarray, matrix: np.ndarray, size: int, points: np.ndarray) -> np.ndarray:
    """(rows, size, 3): the photo under the aligned `size` px crop (`matrix`: photo -> crop), as many rows as the photo
    holds under the neck (`_neck_columns`), up to NECK_ROOM of the crop; where a row runs past the photo's side it is
    padded as the crop is (alignment.pad_neutral). The child warp fades its strain in them. (Rows the photo held across
    the whole width only: Takeo's portrait, which runs on 117 rows under his neck but not past the crop's right edge,
    gave none, and his neck was stretched in the crop's last 30 rows.)"""
    rows = int(round(NECK_ROOM * size))
    frame = cv2.warpAffine(
        np.ones(rgb.shape[:2], np.float32), np.asarray(matrix, np.float64), (size, size + rows), borderValue=0
    )  # the crop's share in the photo, and the frame's continued below it
    neck = _neck_columns(points, frame[:size], size)
    inside = frame[size:]
    short = np.flatnonzero(inside[:, neck].min(1) < 1.0) if neck.any() else np.arange(rows)
    rows = int(short[0]) if len(short) else rows
    if rows == 0:
        return np.zeros((0, size, 3), np.uint8)
    shifted = np.asarray(matrix, np.float64).copy()
    shifted[1, 2] -= size  # the frame continued below the crop
    below = cv2.warpAffine(rgb, shifted, (size, rows), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return pad_neutral(below, inside[:rows], size)


def faded_strain_radius(
    radius: np.ndarray, strain: np.ndarray, head: float | np.ndarray, border: float | np.ndarray
) -> np.ndarray:
    """Where a point at `radius` from the origin lands under a strain factor `strain` (k (1 - cos theta)) that is
    full within `head` and fades (smoothstep) to none at `border`: radius (1 + strain fade)."""
    fade = np.clip((border - radius) / (border - head), 0.0, 1.0)
    return radius * (1.0 + strain * fade * fade * (3 - 2 * fade))


def unstrained(
    target: np.ndarray, origin: np.ndarray, k: float, head: float | np.ndarray, border: float | np.ndarray
) -> np.ndarray:
    """The points (..., 2) that the faded cardioidal strain `k` moves onto `target`. The strain keeps each
    point's angle, so the inverse is one radius per point, found by bisection (the landing radius grows with the
    radius wherever the strain neither folds nor tears the frame: `bounded_strain` keeps a growing child's so). Exact
    where the fade stretches the neck more than twice, which a fixed-point iteration does not follow."""
    offset = np.asarray(target, np.float64) - origin
    radius = np.hypot(offset[..., 0], offset[..., 1])
    cos_theta = np.where(radius > 0, -offset[..., 1] / np.maximum(radius, 1e-12), 1.0)  # up is -y
    strain = k * (1.0 - cos_theta)
    low = np.minimum(radius, radius / (1.0 + strain))
    high = np.maximum(radius, radius / (1.0 + strain))
    for _ in range(30):  # the bracket halves each step: 30 steps take a 300 px bracket below 1e-6 px
        middle = (low + high) / 2
        short = faded_strain_radius(middle, strain, head, border) < radius
        low, high = np.where(short, middle, low), np.where(short, high, middle)
    scale = np.where(radius > 0, (low + high) / 2 / np.maximum(radius, 1e-12), 1.0)
    return origin + offset * scale[..., None]


def child_warp(face: np.ndarray, points: np.ndarray, k: float, scales: ChildScales) -> np.ndarray:
    """The whole head moved to a child's proportions: the feature moves, then cardioidal strain `k` about the
    brows, full down to the chin and fading to no motion in the neck before the frame's edge (`strain_extent`); `k` > 0
    and `scales` over 1 grow a child's head toward an older one's (the chin lowered over the neck), the feature moves
    in steps (`growth_steps`).
    `face` is the aligned crop, or the crop with the photo below it (`photo_below`) so that the neck under the
    raised chin is drawn from the neck rather than from a thin band under the chin. Inverse mapping on a grid an
    eighth of the size (the motion is smooth; engine/core/grids.py): the strain inverted exactly along each ray
    (`unstrained`), the feature moves by Newton's method (`features_inverse`); brought to every pixel and applied in
    one remap."""
    steps, moved = [], np.asarray(points, np.float64)[:, :2]
    for step_scales in growth_steps(scales):  # each step's moves placed on the landmarks the steps before moved
        steps.append(feature_moves(moved, step_scales))
        moved = moved_by_features(moved, steps[-1])
    if k == 0 and not any(np.any(m.scale != 1.0) or np.any(m.shift != 0.0) for m in steps[0]):
        return face.copy()
    height, width = face.shape[:2]
    origin = strain_origin(points)
    step = 8  # the smallest feature move (an eye) spans about 50 px: an 8 px grid follows it
    xs, ys = grid_points((height, width), step)
    target = np.stack([xs, ys], -1)
    offset = target - origin
    radius = np.hypot(offset[..., 0], offset[..., 1])[..., None]
    unit = np.where(radius > 0, offset / np.maximum(radius, 1e-12), np.array([0.0, -1.0]))
    head, border = strain_extent(points, (height, width), unit, k > 0)
    source = unstrained(target, origin, k, head, border)
    for moves in reversed(steps):
        source = features_inverse(source, moves)
    full = every_pixel(source - target, step, (height, width))
    map_x = full[..., 0] + np.arange(width, dtype=np.float32)[None, :]  # each pixel's own column and row, plus the shift
    map_y = full[..., 1] + np.arange(height, dtype=np.float32)[:, None]
    return cv2.remap(face, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def feature_protection(lab: np.ndarray, skin: np.ndarray, d: float, dark: bool = True) -> np.ndarray:
    """(H, W) 0-1: how much each pixel is a feature to keep sharp rather than skin (see PROTECT_CHROMA and
    PROTECT_DARK), measured against the skin around it (a blur of PROTECT_SCALE d), so a broad shadow or a
    ruddy chin stays skin while a frame, a nostril or a lash stands out; grown a little so the feature's
    edges are kept with it."""
    if not (skin > 0.5).any():
        return np.ones(lab.shape[:2], np.float32)
    around = wide_blur(lab, PROTECT_SCALE * d)
    chroma = np.hypot(lab[..., 1] - around[..., 1], lab[..., 2] - around[..., 2])
    by_colour = np.clip((chroma - PROTECT_CHROMA[0]) / (PROTECT_CHROMA[1] - PROTECT_CHROMA[0]), 0.0, 1.0)
    share = lab[..., 0] / np.maximum(around[..., 0], 1.0)
    by_dark = np.clip((PROTECT_DARK[0] - share) / (PROTECT_DARK[0] - PROTECT_DARK[1]), 0.0, 1.0)
    protect = (np.maximum(by_colour, by_dark) if dark else by_colour).astype(np.float32)
    size = max(3, int(round(0.02 * d)) | 1)
    protect = cv2.dilate(protect, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return cv2.GaussianBlur(protect, (0, 0), 0.01 * d + 0.5)


def face_protection(face: np.ndarray, skin: np.ndarray, d: float) -> np.ndarray:
    """`feature_protection` of the RGB `face` (read-only), found once per face and scale: the glasses' search and the
    younger skin's fields both ask it of the same source face. It reads `skin` only to see whether there is any."""
    if not (skin > 0.5).any():
        return np.ones(face.shape[:2], np.float32)
    return memo(
        "feature_protection",
        (face, float(d)),
        lambda: feature_protection(to_lab(face), skin, d),
    )


def nose_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 soft mask of the nose (hull of its FaceMesh points, feathered; read-only: made once per face)."""
    p = np.asarray(points, np.float64)[:, :2]
    return memo("nose_mask", (p, tuple(shape)), lambda: _nose_mask(p, shape))


def fold_zones(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 0-1: within FOLD_ZONE_REACH d of the nasolabial and marionette creases (shape.crease_lines),
    feathered over a third of that."""
    p = np.asarray(points, np.float64)[:, :2]
    return _near_lines([line for line, _ in crease_lines(p).values()], inter_ocular(p), shape)


def ear_sides(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 0-1: within FOLD_ZONE_REACH d of the face's outline beside each ear (EAR_SIDES), feathered over a
    third of that."""
    p = np.asarray(points, np.float64)[:, :2]
    return _near_lines([p[side] for side in EAR_SIDES], inter_ocular(p), shape)


def _near_lines(lines: list[np.ndarray], d: float, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 0-1: within FOLD_ZONE_REACH d of the polylines `lines` (each (N, 2), image coordinates), feathered
    over a third of that."""
    mask = np.zeros(shape, np.uint8)
    for line in lines:
        cv2.polylines(mask, [np.round(line).astype(np.int32)], False, 1, max(1, int(round(2 * FOLD_ZONE_REACH * d))))
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), FOLD_ZONE_REACH * d / 3)


def _nose_mask(p: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return _hull_mask(p, NOSE, shape)


def _hull_mask(p: np.ndarray, indices: list[int], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float32: the hull of the landmarks `indices`, feathered over 0.06 d."""
    mask = np.zeros(shape, np.float32)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(p[indices]).astype(np.int32)), 1.0)
    return cv2.GaussianBlur(mask, (0, 0), 0.06 * inter_ocular(p))


def young_fine_energy(age: float) -> float:
    """The fine band's energy (RMS share of the local lightness, see `fine_energy`) of skin at `age`, along the
    line through FINE_ENERGY_AT, flat below FINE_ENERGY_FLAT_BELOW."""
    if not 0 <= age <= 120:
        raise ValueError(f"age must be between 0 and 120, got {age}")
    (age_a, energy_a), (age_b, energy_b) = FINE_ENERGY_AT
    slope = (energy_b - energy_a) / (age_b - age_a)
    return energy_a + slope * (max(age, FINE_ENERGY_FLAT_BELOW) - age_a)


def fine_energy(lab: np.ndarray, skin: np.ndarray, d: float, protect: np.ndarray | None = None) -> float | None:
    """The RMS of the fine band (what a TEXTURE_SIGMA d blur takes away) as a share of the local lightness, over
    the skin (`skin` > 0.5) off the features `feature_protection` keeps; None where there is no such skin."""
    lightness = lab[..., 0]
    base = cv2.GaussianBlur(lightness, (0, 0), max(0.5, TEXTURE_SIGMA * d))
    protect = feature_protection(lab, skin, d) if protect is None else protect
    inside = (skin > 0.5) & (protect < 0.1)
    if not inside.any():
        return None
    share = (lightness - base)[inside] / np.maximum(base[inside], 1.0)
    return float(np.sqrt(np.mean(share**2)))


def fine_texture_left(source_energy: float | None, target_age: float, amount: float) -> float:
    """The share of the fine band `remove_creases` leaves at `amount` (0-1) so that the skin's fine energy goes
    from the source's (`fine_energy`) to young skin's at `target_age` (`young_fine_energy`), never below
    MIN_TEXTURE_LEFT of the source's, and never more than TEXTURE_LEFT (from looking) is left: a source whose
    measured energy is already at young skin's (often an upscaled photo, whose blur lowers it) still gets the
    looked-at younger skin. TEXTURE_LEFT where the source's energy could not be measured."""
    if source_energy is None or source_energy <= 0 or amount <= 0:
        return TEXTURE_LEFT
    kept = min(max(young_fine_energy(target_age) / source_energy, MIN_TEXTURE_LEFT), 1.0)
    return float(min(max(1.0 - (1.0 - kept) / amount, 0.0), TEXTURE_LEFT))


@dataclass(frozen=True)
class FoldBands:
    """What the younger skin leaves of the bands coarser than the fine texture, at a full amount (`fold_bands`)."""

    fold_left: float = FOLD_LEFT  # the share of the fold band left
    wide_lift: float = 0.0  # the share of the wide band's valleys lifted
    crease_edges_left: float = 1.0  # the share of a filled crease's edges the fine band keeps
    ridges_left: float = 1.0  # the share of the light ridges' height above the skin around them kept


def crease_load(lab: np.ndarray, skin: np.ndarray, d: float, protect: np.ndarray | None = None) -> float | None:
    """How creased the skin is: the mean lift (lightness levels) that `remove_creases`' closing gives the skin
    (`skin` > 0.5) off the features `feature_protection` keeps; None where there is no such skin."""
    protect = feature_protection(lab, skin, d) if protect is None else protect
    inside = (skin > 0.5) & (protect < 0.1)
    if not inside.any():
        return None
    fine_base, closed = crease_closing(lab[..., 0], d)
    return float(np.mean((closed - fine_base)[inside]))


def crease_size(d: float) -> int:
    """The crease closing's structuring element in pixels (odd, at least 3): CREASE_WIDTH d."""
    return max(3, int(round(CREASE_WIDTH * d)) | 1)


def crease_closing(lightness: np.ndarray, d: float) -> tuple[np.ndarray, np.ndarray]:
    """(the lightness without its fine texture, the same with every valley narrower than CREASE_WIDTH d lifted to its
    rims by a grey closing): what `remove_creases` fills and `crease_load` measures."""
    fine_base = cv2.GaussianBlur(lightness, (0, 0), max(0.5, TEXTURE_SIGMA * d))
    size = crease_size(d)
    closed = cv2.morphologyEx(fine_base, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return fine_base, cv2.GaussianBlur(closed, (0, 0), 0.02 * d)  # the closing's flat tops rounded off


def creased_share(load: float) -> float:
    """A crease `load` (`crease_load`) as a share (0-1) of CREASE_LOAD_AT_80's. A load at or below 0 (the closing's
    rounded tops dipping below smooth skin's peaks by more than it fills) is skin without creases to fill: 0."""
    return min(max(load, 0.0) / CREASE_LOAD_AT_80, 1.0)


def fold_bands(taken_back: float, load: float | None = CREASE_LOAD_AT_80) -> FoldBands:
    """The bands' treatment at a full amount (`rejuvenate` moves the crease amount of the way to it) when `taken_back`
    (0-1) of the soft-tissue descent to 80 is taken back (shape.py's descent_share at the source less at the target),
    on skin of crease `load` (`crease_load`): the fold bands from the looked-at younger skin (FOLD_LEFT, nothing more)
    at 0 to YOUNG_FOLD_LEFT and WIDE_FOLD_LIFT at a whole descent taken back, linearly in it times the load's share of
    CREASE_LOAD_AT_80 (at most 1). A filled crease's edges and the ridges between creases are the creases' own relief:
    at a full amount they go to CREASE_EDGES_LEFT and RIDGES_LEFT whatever the descent taken back (times the load's
    share), so the crease amount takes them in step with the creases (from looking: Einstein, read as 51, at 10 kept
    his forehead's creases as a stack of light and dark lines when they went with the third of the descent taken back;
    taken as the larger of the two shares and then by the crease amount again, a partial gap's edges went as its
    square). A load that could not be measured (None): the looked-at younger skin, nothing more."""
    if not 0 <= taken_back <= 1:
        raise ValueError(f"the descent taken back must be between 0 and 1, got {taken_back}")
    if load is None:
        return FoldBands()
    creased = creased_share(load)
    folds = taken_back * creased
    return FoldBands(
        fold_left=FOLD_LEFT + (YOUNG_FOLD_LEFT - FOLD_LEFT) * folds,
        wide_lift=WIDE_FOLD_LIFT * folds,
        crease_edges_left=1.0 + (CREASE_EDGES_LEFT - 1.0) * creased,
        ridges_left=1.0 + (RIDGES_LEFT - 1.0) * creased,
    )


def describe_bands(bands: FoldBands, taken_back: float, load: float | None, creases: float) -> str:
    """What the younger skin did to the bands coarser than the fine texture (`fold_bands` of `taken_back` and `load`,
    `creases` of the way), in one line (the manifest's stage)."""
    if load is None:
        return "left as the younger skin leaves them: the source's crease load could not be measured"
    if bands == FoldBands() or creases == 0:
        if creases > 0:
            return f"left as the younger skin leaves them: the source's skin is not creased (crease load {load:.2f})"
        return "left as the younger skin leaves them: no creases removed"

    def kept(full: float) -> str:  # the share of a band left, `creases` of the way to what a full amount leaves
        return f"{1.0 - creases * (1.0 - full):.0%}"

    return (
        f"fold band kept at {kept(bands.fold_left)} and the wide band's valleys lifted {creases * bands.wide_lift:.0%} of "
        f"their own depth ({taken_back:.0%} of the soft-tissue descent to 80 taken back, {creases:.0%} of the creases "
        f"removed); filled creases' edges kept at {kept(bands.crease_edges_left)} and the ridges between them at "
        f"{kept(bands.ridges_left)} (in step with the creases removed); on skin {creased_share(load):.0%} as creased as an "
        "80-year-old's (Tiddeman et al. 2001: every band toward younger skin)"
    )


def remove_creases(
    lab: np.ndarray,
    skin: np.ndarray,
    d: float,
    amount: float,
    fold_left: np.ndarray | float = FOLD_LEFT,
    protect: np.ndarray | None = None,
    texture_kept: np.ndarray | float = 0.0,
    texture_left: float = TEXTURE_LEFT,
    wide_lift: np.ndarray | float = 0.0,
    crease_edges_left: np.ndarray | float = 1.0,
    ridges_left: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Lightness (H, W float32, 0-255) of the face in `lab` (OpenCV 8-bit Lab, float) with creases and folds
    taken out of the skin at `amount` (0-1); `d` is the inter-ocular distance in pixels.

    `skin` (H, W) 0-1 says where the skin is (eyes, lips and brows already left out). The crease band is
    filled (grey closing: a valley narrower than CREASE_WIDTH d is lifted to its rims), the fold band kept at
    `fold_left` (a number or a per-pixel map) and the fine texture at `texture_left` (all of it where
    `texture_kept`, 0-1, is 1); what is not
    skin-coloured (`feature_protection`, or `protect` where the caller has it) keeps its lightness. `wide_lift` (a
    number or a map, 0-1): the share of the wide band's valleys (darker than the skin's blur at WIDE_FOLD_SIGMA d)
    lifted; `crease_edges_left` (a number or a map): the share of the fine band kept where the closing filled a crease; `ridges_left` (a
    number or a map): the share of a light ridge's height above the skin around it (a blur of RIDGE_SIGMA d) that nothing takes away."""
    lightness = lab[..., 0]
    if amount <= 0:
        return lightness.copy()
    fine_base, closed = crease_closing(lightness, d)
    texture = lightness - fine_base
    size = crease_size(d)
    inside = (skin > 0.5).astype(np.float32)
    broad = masked_blur(closed, inside, FOLD_SIGMA * d)
    texture_share: np.ndarray = np.asarray(texture_left + (1.0 - texture_left) * texture_kept, np.float32)
    creased = np.any(np.asarray(crease_edges_left) < 1.0) or np.any(np.asarray(ridges_left) < 1.0)
    if creased:  # where the closing filled a crease (0-1), grown over the crease's rims
        crease = np.clip((closed - fine_base) / CREASE_EDGE_FILL, 0.0, 1.0)
        filled = crease
        # grown over the crease's rims: the fine band's light halo beside a crease is its edge as much as the dark
        # line in it (cutting the dark half alone left a light line where each crease had been)
        rim = max(3, int(round(CREASE_RIM * d)) | 1)
        filled = cv2.dilate(filled, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (rim, rim)))
        filled = cv2.GaussianBlur(filled, (0, 0), 0.25 * rim)
        filled = filled * filled * (3 - 2 * filled)
        texture_share = texture_share * (1.0 - (1.0 - crease_edges_left) * filled)
    young = broad + fold_left * (closed - broad) + texture_share * texture
    if np.any(np.asarray(wide_lift) > 0):  # the wide band's valleys, where the source shows them, lifted
        wider = masked_blur(broad, inside, WIDE_FOLD_SIGMA * d)
        young = young - wide_lift * np.minimum(broad - wider, 0.0)
    floor = lightness  # folds are filled, not dug: nothing turns much darker than it was ...
    if creased and np.any(np.asarray(ridges_left) < 1.0):  # ... or, between filled creases, than the skin around it
        # less a share of a ridge's height; elsewhere a light patch is the light on smooth skin (a cheek's or the
        # nose's highlight), kept (from looking: on the astronaut at 41 the ridge rule dimmed them)
        around = masked_blur(lightness, inside, RIDGE_SIGMA * d)
        ridge = np.maximum(lightness - around, 0.0)
        among = cv2.dilate(crease, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))  # within a crease's width
        among = cv2.GaussianBlur(among, (0, 0), 0.25 * size)
        floor = lightness - (1.0 - ridges_left) * ridge * among * among * (3 - 2 * among)
    young = np.maximum(young, floor - MAX_DARKEN)
    protect = feature_protection(lab, skin, d) if protect is None else protect
    weight = amount * skin * (1.0 - protect)
    return lightness + weight * (young - lightness)


def crease_amount(source_scores: dict[str, float], target_scores: dict[str, float]) -> float:
    """How much of the source's creases a younger target removes (0-1): the share of the mean zone score
    (0-100 %, the age curves') that the target no longer has. 0 when the target has as many or more."""
    before = float(np.mean(list(source_scores.values()))) if source_scores else 0.0
    after = float(np.mean([target_scores.get(zone, 0.0) for zone in source_scores])) if source_scores else 0.0
    if before <= 0 or after >= before:
        return 0.0
    return 1.0 - after / before


def young_skin_mask(skin: np.ndarray, hair: np.ndarray, brows: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(H, W) float32 0-1: the skin (`skin`: face hull without eyes and lips) without hair and brows (grown a
    little), feathered, where `rejuvenate` works. The neck is left out: the shadow under the jaw is lighting,
    and lifting it drew a pale band under the chin on darker skin (from looking)."""
    d = inter_ocular(points)
    size = max(3, int(round(YOUNG_MASK_GROWTH * d)) | 1)
    kept = cv2.dilate(np.maximum(hair, brows), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    mask = (skin > 0) & (kept == 0)
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), YOUNG_MASK_FEATHER * d)


def young_neck(neck: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(H, W) uint8: the neck's skin below the face's outline that a younger target smooths: `neck`
    (aging.neck_skin) with the gaps narrower than NECK_GAP d between its parts and the face's outline closed, within
    the jaw's angles' columns and below them. Empty when `neck` is (a black-and-white photo, a collar to the chin)."""
    if not neck.any():
        return np.zeros(neck.shape, np.uint8)
    p = np.asarray(points, np.float64)[:, :2]
    hull = face_hull(p, neck.shape)
    size = max(3, int(round(NECK_GAP * inter_ocular(p))) | 1)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    # only below the jaw is kept: the closing is made in that box grown by its reach (the disk's diameter, a dilation
    # then an erosion), within which it is what the whole frame gives
    inside = below_jaw(p, neck.shape)
    box = support_box(inside, 2 * (size // 2))
    filled = np.zeros(neck.shape, np.uint8)
    if box is not None:
        joined = ((neck[box] > 0) | (hull[box] > 0)).astype(np.uint8)
        filled[box] = cv2.morphologyEx(joined, cv2.MORPH_CLOSE, disk) & (hull[box] == 0) & inside[box]
    return (filled | (neck > 0)).astype(np.uint8)


def glasses_lenses(face: np.ndarray, skin: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """(H, W) float32 0-1: where a pair of glasses' lenses lie on the aligned face (RGB uint8), or None when no
    frame is seen. A frame's upper rim is what `feature_protection` keeps in a band above each eye (RIM_BAND),
    crossing RIM_COVER of the columns from the eye's inner corner to RIM_OUTWARD d beyond its outer one; each
    lens is the ellipse under its rim, as wide as the rim found and reaching LENS_BELOW_EYE d below the eye.
    Read-only, found once per face (every younger target of a strip asks for the same face's)."""
    p = np.asarray(points, np.float64)[:, :2]
    return memo("glasses_lenses", (face, skin, p), lambda: _glasses_lenses(face, skin, p))


def _glasses_lenses(face: np.ndarray, skin: np.ndarray, p: np.ndarray) -> np.ndarray | None:
    d = inter_ocular(p)
    rim = face_protection(face, skin, d) > 0.5
    height, width = rim.shape
    lenses = np.zeros((height, width), np.float32)
    centre_x = float(p[[*RIGHT_EYE, *LEFT_EYE], 0].mean())
    for eye in (RIGHT_EYE, LEFT_EYE):
        outline = p[eye]
        outward = 1.0 if outline[:, 0].mean() > centre_x else -1.0
        inner_x = outline[:, 0].min() if outward > 0 else outline[:, 0].max()
        outer_x = (outline[:, 0].max() if outward > 0 else outline[:, 0].min()) + outward * RIM_OUTWARD * d
        x0, x1 = sorted((int(round(inner_x)), int(round(outer_x))))
        top = outline[:, 1].min()
        y0, y1 = int(round(top - RIM_BAND[0] * d)), int(round(top - RIM_BAND[1] * d))
        x0, x1, y0, y1 = max(x0, 0), min(x1, width - 1), max(y0, 0), min(y1, height - 1)
        if x1 <= x0 or y1 <= y0:
            return None
        crossed = rim[y0 : y1 + 1, x0 : x1 + 1].any(axis=0)
        if crossed.mean() < RIM_COVER:
            return None
        rows = np.nonzero(rim[y0 : y1 + 1, x0 : x1 + 1].any(axis=1))[0]
        rim_bottom = y0 + float(rows.max())
        lens_bottom = float(outline[:, 1].mean()) + LENS_BELOW_EYE * d
        columns = np.nonzero(crossed)[0] + x0
        centre = (int(round((columns.min() + columns.max()) / 2)), int(round((rim_bottom + lens_bottom) / 2)))
        axes = (int(round((columns.max() - columns.min()) / 2)), int(round((lens_bottom - rim_bottom) / 2)))
        cv2.ellipse(lenses, centre, axes, 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(lenses, (0, 0), LENS_FEATHER * d)


def where_frame_lies(crop: np.ndarray, lenses: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(H, W) bool: where a pair of glasses' frame lies or may lie on the aligned `crop` (RGB uint8): its rims and bridge
    (`frame_zone` of its `lenses`, `glasses_lenses`, at LENS_RIM d); its arms, within its rows (`frame_rows`): the thin,
    straight, dark lines there (ARM_WIDTH, ARM_LENGTH, ARM_SLOPES, ARM_CONTRAST) joined to the rims, grown by a pixel;
    and on each side of the face the frame's rows within LENS_RIM d of its arm, or all of them where no arm is found.
    The hair's margin inside the face's outline keeps out of it (an arm is as dark as dark hair beside it). Not all the
    frame's rows on a side with its arm found: kept out as a whole, the top of Takeo's dark sideburn, above his frame's
    arm, stayed black below his greyed temple at 70-80, cut by a hard line at the rows' top (looked at 3x)."""
    d = inter_ocular(np.asarray(points, np.float64)[:, :2])
    rims = frame_zone(lenses, LENS_RIM * d) > 0.5
    all_rows = frame_rows(lenses, points)
    rows = np.flatnonzero(all_rows[:, 0])
    if not len(rows):
        return rims
    width = max(3, int(round(ARM_WIDTH * d)) | 1)
    length = max(3, int(round(ARM_LENGTH * d)) | 1)
    # worked out on the frame's rows and as many beyond them as the filters below read: cut at the rows' edge, a brow
    # crossing it became a thin dark line along the cut, joined to the rim (an "arm" at the top of Takeo's frame rows)
    reach = width + length
    top, bottom = max(int(rows[0]) - reach, 0), min(int(rows[-1]) + 1 + reach, crop.shape[0])
    lightness = to_lab(crop[top:bottom])[..., 0].astype(np.float32)
    # dark detail narrower than an arm, in every direction, then what of it runs straight along one of the slopes
    dark = cv2.morphologyEx(lightness, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)))
    straight = np.zeros_like(dark)
    for slope in ARM_SLOPES:
        segment = np.zeros((length, length), np.uint8)
        half = length // 2
        dx, dy = half * np.cos(np.radians(slope)), half * np.sin(np.radians(slope))
        start, end = (int(round(half - dx)), int(round(half - dy))), (int(round(half + dx)), int(round(half + dy)))
        cv2.line(segment, start, end, 1, 1)
        straight = np.maximum(straight, cv2.morphologyEx(dark, cv2.MORPH_OPEN, segment))
    lines = np.zeros(rims.shape, bool)
    lines[top:bottom] = straight > ARM_CONTRAST
    lines &= all_rows
    # beside the lenses, toward the ears, where the arms run: within them a lash line or a lid's crease seen through the
    # lens touches the rim too (on Takeo's and Hopper's most of what was taken for arms lay there)
    columns = np.flatnonzero((lenses > 0.5).any(0))
    xs = np.arange(crop.shape[1])[None, :]
    lines &= ~rims & ((xs < columns[0]) | (xs > columns[-1]))
    arms = joined(lines | rims, rims) & lines
    # on each side, the frame's rows within LENS_RIM d of its arm (the arm runs on under the hair to the ear, and the
    # hair beside it is as dark), or all of them where no arm is found
    frame = rims | (cv2.dilate(arms.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0)
    left = right_of_face(points, crop.shape[:2])[None, :]  # the image's left
    grow = int(round(LENS_RIM * d))
    for side in (left, ~left):
        rows_of_arm = np.flatnonzero((arms & side).any(1))
        kept = all_rows.copy()
        if len(rows_of_arm):
            kept[: max(int(rows_of_arm[0]) - grow, 0)] = False
            kept[int(rows_of_arm[-1]) + grow + 1 :] = False
        frame |= kept & side
    return frame


def frame_rows(lenses: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(H, W) bool: the rows a pair of glasses' frame spans, across the whole width: the rows of its `lenses`
    (`glasses_lenses`) grown by LENS_RIM d above and below (the rim), where the frame's arms run from the lenses to
    the ears beside the face (`where_frame_lies` looks for them there; the brows within these rows lie under the frame)."""
    rows = np.flatnonzero((lenses > 0.5).any(1))
    band = np.zeros(lenses.shape, bool)
    if len(rows):
        grow = LENS_RIM * inter_ocular(np.asarray(points, np.float64)[:, :2])
        band[max(int(rows.min() - grow), 0) : int(rows.max() + grow) + 1] = True
    return band


def rejuvenate(
    face: np.ndarray,
    skin: np.ndarray,
    points: np.ndarray,
    amount: float,
    lenses: np.ndarray | None = None,
    texture_left: float = TEXTURE_LEFT,
    bands: FoldBands = FoldBands(),
    neck: np.ndarray | None = None,
) -> np.ndarray:
    """Younger skin on the aligned face (RGB uint8) at `amount` (0-1): creases and folds removed from the
    lightness (`remove_creases`, the nose's shape kept) and the colour evened (redness along creases and
    blotches blurred into the skin's own colour). `skin` (H, W) 0-1: the skin without eyes, lips, brows, hair.
    `lenses` (H, W) 0-1 (`glasses_lenses`): seen through a lens, only the creases go; the lens's tint, its
    shading and what else shows through it are kept (evening and flattening there turned the lenses milky).
    `texture_left`: the share of the fine band left at full amount (`fine_texture_left`); `bands`: what is left of
    the coarser bands (`fold_bands`; the nose's fold band keeps at least NOSE_FOLD_LEFT, and the wide band is not
    lifted on the nose, whose shading is its shape, nor through a lens). `neck` (H, W) uint8 (`young_neck`): the
    neck's skin below the face, whose crease and fine bands go as the face's do while its fold and wide bands are
    kept (the shadow under the jaw is the light), the face's treatment passing to the neck's over NECK_FEATHER d;
    its colour is not evened."""
    if amount <= 0 or not (skin > 0.5).any():
        return face.copy()
    whole: list[np.ndarray] = []  # the whole face's CIELAB, converted only when a field below is not already kept

    def lab() -> np.ndarray:
        if not whole:
            whole.append(to_lab(face))
        return whole[0]

    # the protection, the nose's folds and the evened colour depend on the face alone (found once per face: every
    # younger target of a strip shares them); the skin at a full amount also on `texture_left`, and each target
    # goes `amount` of the way to it
    p = np.asarray(points, np.float64)[:, :2]
    protect, nose, evened = memo("young_fields", (face, skin, p), lambda: _young_fields(face, lab(), skin, p))
    lens = np.zeros(face.shape[:2], np.float32) if lenses is None else lenses
    d = inter_ocular(p)
    reach, on_neck = skin, np.zeros(face.shape[:2], np.float32)  # where the bands change; how much of it is the neck
    if neck is not None and neck.any():
        reach, on_neck = memo("neck_reach", (skin, neck, d), lambda: _neck_reach(skin, neck, d))
        # on the neck only what is off the skin's colour is a feature (a collar, a necklace): the dark line under the
        # chin is the submental crease's shadow, whose mottle read as a beard when kept
        coloured = memo("colour_protection", (face, skin, d), lambda: feature_protection(lab(), skin, d, dark=False))
        protect = protect + (coloured - protect) * on_neck
    fold_left = bands.fold_left + (max(NOSE_FOLD_LEFT, bands.fold_left) - bands.fold_left) * nose
    fold_left = fold_left + (1.0 - fold_left) * lens  # through a lens the fold band is kept (its shading is the lens's)
    fold_left = fold_left + (1.0 - fold_left) * on_neck  # and on the neck (its shading is the light)
    wide_lift: np.ndarray | float = 0.0
    edges_left: np.ndarray | float = bands.crease_edges_left
    ridges_left: np.ndarray | float = bands.ridges_left
    if bands.wide_lift > 0:
        inner = memo("skin_inner", (skin, d), lambda: _inner(skin, WIDE_EDGE * d))
        wide_lift = bands.wide_lift * inner * (1.0 - nose) * (1.0 - lens) * (1.0 - on_neck)
    if lenses is not None and (bands.crease_edges_left < 1 or bands.ridges_left < 1):
        rim = memo("lens_frame", (lenses, d), lambda: frame_zone(lenses, LENS_RIM * d))
        edges_left = bands.crease_edges_left + (1.0 - bands.crease_edges_left) * rim
        ridges_left = bands.ridges_left + (1.0 - bands.ridges_left) * rim
    full = memo(
        "crease_free",
        (face, skin, p, lenses, texture_left, bands, reach, neck),
        lambda: remove_creases(
            lab(),
            reach,
            inter_ocular(p),
            1.0,
            fold_left,
            protect,
            lens,
            texture_left,
            wide_lift,
            edges_left,
            ridges_left,
        ),
    )
    # nothing changes where `reach` is 0 (the colour only on the skin within it), and every step from here is per
    # pixel: only the box of `reach` is worked on
    box = support_box(reach)
    assert box is not None  # the skin has pixels above 0.5 (checked above), and `reach` holds the skin
    region = face[box]
    part = to_lab(region)
    out = part.copy()
    out[..., 0] += amount * (full[box] - part[..., 0])
    weight = amount * skin[box] * (1.0 - protect[box])
    changed = amount * reach[box] * (1.0 - protect[box])
    for index, channel in enumerate((1, 2)):
        out[..., channel] += weight * (1.0 - lens[box]) * EVEN_COLOUR * (evened[index][box] - part[..., channel])
    result = face.copy()
    result[box] = from_lab(out, region, changed)
    return result


def _neck_reach(skin: np.ndarray, neck: np.ndarray, d: float) -> tuple[np.ndarray, np.ndarray]:
    """(where the younger bands act: the face's `skin` and the `neck` (feathered as `young_skin_mask` feathers the
    face's, no dip where they meet), the neck's share of the treatment: `neck` blurred by NECK_FEATHER d, so the
    face's bands pass to the neck's across the jaw line)."""
    size = max(3, int(round(YOUNG_MASK_GROWTH * d)) | 1)  # grown into the face's skin: the two overlap, then feather
    grown = (cv2.dilate(neck, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0) & (skin > 0.05)
    joined = cv2.GaussianBlur(((neck > 0) | grown).astype(np.float32), (0, 0), YOUNG_MASK_FEATHER * d)
    reach = np.maximum(skin, joined)
    on_neck = cv2.GaussianBlur((neck > 0).astype(np.float32), (0, 0), NECK_FEATHER * d)
    return reach.astype(np.float32), on_neck.astype(np.float32)


def _inner(skin: np.ndarray, reach: float) -> np.ndarray:
    """(H, W) float32 0-1: 0 outside the skin (`skin` > 0.5), rising to 1 at `reach` px inside its outline."""
    distance = cv2.distanceTransform((skin > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    return smoothstep(distance / max(reach, 1.0)).astype(np.float32)


def frame_zone(lenses: np.ndarray, reach: float) -> np.ndarray:
    """(H, W) float32 0-1: where a frame lies around the `lenses` (> 0.5): the hull of both lenses grown by `reach`
    px, less each lens shrunk by as much (its rim and the bridge between them), feathered by a third of that."""
    size = max(3, int(round(2 * reach)) | 1)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    inside = (lenses > 0.5).astype(np.uint8)
    hull = np.zeros_like(inside)
    points = cv2.findNonZero(inside)
    if points is not None:
        cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    band = cv2.dilate(hull, disk).astype(np.float32) - cv2.erode(inside, disk).astype(np.float32)
    return cv2.GaussianBlur(band, (0, 0), max(reach / 3, 0.5))


def _young_fields(
    face: np.ndarray, lab: np.ndarray, skin: np.ndarray, p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`rejuvenate`'s work that depends on the face alone: (the feature protection, by colour alone in the folds' zones
    (`fold_zones`, off the nose and the mouth), the nose's soft mask, the skin's evened a* and b* (2, H, W))."""
    d = inter_ocular(p)
    # `lab` is `face`'s; on the crop, the protection the glasses' search found, if it ran (on the crop with the photo's
    # rows under it, its own)
    protect = face_protection(face, skin, d)
    nose = nose_mask(p, face.shape[:2])
    folds = fold_zones(p, face.shape[:2]) * (1.0 - nose) * (1.0 - _hull_mask(p, OUTER_LIPS, face.shape[:2]))
    folds = np.maximum(folds, ear_sides(p, face.shape[:2]))
    if folds.any():  # a deep crease there is no feature, nor the shadow where an earlobe meets the jaw (FOLD_ZONE_REACH)
        coloured = memo("colour_protection", (face, skin, d), lambda: feature_protection(lab, skin, d, dark=False))
        protect = protect + (coloured - protect) * folds
    inside = (skin > 0.5).astype(np.float32)
    evened = np.stack([masked_blur(lab[..., channel], inside, COLOUR_SIGMA * d) for channel in (1, 2)])
    return protect, nose, evened
