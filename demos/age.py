"""Tab "Age estimation": every face's age, a calibrated (or plainly uncalibrated) interval, and gender."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import cv2
import gradio as gr
import numpy as np

from demos.common import (
    SliderField,
    cleared_by_new_photo,
    image_files,
    loader_notes_on_refusal,
    main_action,
    notice,
    open_photo,
    photo_input,
    user_errors,
    warn,
)
from engine.core.limits import AGE_CONCURRENCY, CONFIDENCE_PERCENT
from engine.tasks import estimate as task
from engine.tasks.estimate import AgeAnalysis, FaceAge

logger = logging.getLogger(__name__)

TITLE = "Age estimation"
API_NAME = "estimate_age"
MAX_PLOTS = 6
COLUMNS = ["face", "age", "interval", "confidence", "gender", "p(female)"]


def package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec and spec.origin else Path("/nonexistent")


def example_portraits() -> list[str]:
    """Public-domain portraits that ship inside installed packages."""
    candidates = [  # found without importing either package (matplotlib alone takes 0.2 s)
        package_folder("skimage") / "data" / "astronaut.png",
        package_folder("matplotlib") / "mpl-data" / "sample_data" / "grace_hopper.jpg",
    ]
    return [str(path) for path in candidates if path.is_file()]


def draw_faces(rgb: np.ndarray, faces: list[FaceAge]) -> np.ndarray:
    """The photo with each face boxed and numbered as in the table."""
    canvas = rgb.copy()
    thickness = max(2, round(max(rgb.shape[:2]) / 300))
    for face in faces:
        x0, y0, x1, y1 = (int(round(v)) for v in face.box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (255, 200, 0), thickness)
        label = f"{face.index}: {face.age_text if face.at_cap else f'{face.age:.0f}'}"
        scale = thickness * 0.4
        (w, h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = max(0, y0 - h - 2 * thickness)
        cv2.rectangle(canvas, (x0, top), (x0 + w + 2 * thickness, top + h + 2 * thickness), (255, 200, 0), -1)
        cv2.putText(canvas, label, (x0 + thickness, top + h + thickness), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness)
    return canvas


def distribution_plot(faces: list[FaceAge]):
    """Predicted age distribution of each face, with its calibrated interval shaded (none when uncalibrated)."""
    import matplotlib  # noqa: PLC0415 - matplotlib loads only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - matplotlib loads only when a plot is drawn

    shown = faces[:MAX_PLOTS]
    figure, axes = plt.subplots(len(shown), 1, figsize=(7.5, 1.9 * len(shown)), squeeze=False)
    for axis, face in zip(axes[:, 0], shown):
        axis.bar(face.ages, face.distribution, width=1.0, color="#4c72b0", label="estimator's distribution")
        if face.interval is not None:
            lo, hi = face.interval
            axis.axvspan(
                lo,
                face.top_age + 1 if hi is None else hi,
                color="#dd8452",
                alpha=0.3,
                label=f"{face.confidence:.0%} calibrated interval {face.interval_text}",
            )
        axis.axvline(face.age, color="black", linewidth=1, label=f"age {face.age_text}")
        axis.set(xlim=(0, 81), ylabel=f"face {face.index}")
        # beside the plot, not over it: inside, it hid the bars of an old face (Grace Hopper's, at 80)
        axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    axes[-1, 0].set_xlabel("age (years)")
    figure.tight_layout()
    plt.close(figure)
    return figure


def badge(analysis: AgeAnalysis) -> str:
    gender = ""
    if analysis.faces:
        face = analysis.faces[0]
        # to three figures: a calibration's threshold of 0.0125 showed as 0.01
        gender = f" Gender: female when p(female) \u2265 {face.gender_threshold:.3g}, {face.gender_threshold_from}."
    if analysis.calibrated:
        return f"**Calibrated** intervals: {analysis.calibration}. Estimator: `{analysis.estimator}`.{gender}"
    return (
        f"**Uncalibrated: no interval.** The estimator's own spread is overconfident on real faces, so it is not "
        f"shown as a confidence interval. {analysis.calibration[0].upper()}{analysis.calibration[1:]}. "
        f"Estimator: `{analysis.estimator}`.{gender}"
    )


def estimate(photo: str | None, confidence_percent: float):
    """Main action (API `/estimate_age`): photo path and confidence in percent ->
    boxed photo, calibration badge, table, distribution plot, JSON per face."""
    with user_errors():
        confidence = CONFIDENCE_PERCENT.check(confidence_percent, "confidence")
        image = open_photo(photo)
        with loader_notes_on_refusal(image):
            analysis = task.estimate(task.EstimateRequest(image.rgb, round(confidence) / 100.0))
    warn(analysis.warnings)
    if len(analysis.faces) > MAX_PLOTS:
        notice(gr.Warning, f"{len(analysis.faces)} faces given an age; plots show the largest {MAX_PLOTS}, the table shows all.")
    rows = [
        [f.index, f.age_text, f.interval_text, f"{f.confidence:.0%}" if f.interval else "-", f.gender, round(f.p_female, 3)]
        for f in analysis.faces
    ]
    name = image.name
    return (
        image_files("faces", draw_faces(image.rgb, analysis.faces))[0],
        badge(analysis),
        rows,
        distribution_plot(analysis.faces),
        [face.to_json(name, image.scale) for face in analysis.faces],
    )


def build() -> None:
    with gr.Row():
        with gr.Column():
            photo = photo_input()
            confidence = SliderField(
                CONFIDENCE_PERCENT.low,
                CONFIDENCE_PERCENT.high,
                value=90,
                step=1,
                label="Interval confidence (%)",
                # without a calibration it changes nothing on the page, which looked broken: it says why
                info="how often the calibrated interval holds the true age; without a calibration no interval is given",
            )
            run = gr.Button("Estimate age", variant="primary")
            gr.Examples(example_portraits(), inputs=photo, label="Public-domain portraits")
        with gr.Column():
            boxed = gr.Image(label="Faces", interactive=False, height=360)
            calibration = gr.Markdown()
            table = gr.Dataframe(headers=COLUMNS, label="Per face", interactive=False)
            # the estimator's own spread is overconfident (README): the label says so where the bars are shown, which were
            # the only uncertainty an uncalibrated page showed (up to 0.89 of the probability on one age)
            plot = gr.Plot(label="The estimator's own age distribution (overconfident: not a confidence interval)")
            details = gr.JSON(label="JSON", open=False)
    history = cleared_by_new_photo(photo, [boxed, calibration, table, plot, details])
    run.click(
        history.shown_while_current(estimate),
        [photo, confidence],
        [boxed, calibration, table, plot, details],
        api_name=API_NAME,
        concurrency_limit=AGE_CONCURRENCY,
        **main_action(boxed),
    )
