"""Reported results from the papers, each under its own protocol and evaluators."""

from __future__ import annotations

from evaluation.records import ResultsRecord

CRADLE2CANE = "Liu et al., From Cradle to Cane: A Two-Pass Framework for High-Fidelity Lifespan Face Aging, NeurIPS 2025, Table 1"
PADA = "PADA: Pluralistic Aging Diffusion Autoencoder (paper summary in this project's papers), reported results"
LDLA = "dos Santos et al., Locally Controlled Face Aging with Latent Diffusion Models, Table 1"
CONFORMAL = "Conformal age estimation project report (UTKFace), adaptive 90 % coverage on the test set"
# The report's conformal experiment (its "Data Splitting" section): 80 % train with 20 % of it held
# out for calibration, 20 % test; its per-group quantiles are taken per 10-year bin of the *true* age.
CONFORMAL_PROTOCOL = "UTKFace 80/20 split, calibration part = 20 % of train, intervals grouped by true age bin"
CONFORMAL_CAVEAT = (
    "Intervals grouped by the true 10-year age bin, which a deployed system cannot know (this hub groups by "
    "the predicted age); the 15 % test split in the same report belongs to its diffusion experiment"
)

# Lifespan paper, Table 1: (method, type, three protocols of (age MAE, identity, image quality, printed HCS),
# inference seconds, training-set size). Targets 0-80 in 5-year steps, 100 faces per gender.
TABLE1 = [
    ("Lifespan", "GAN", (22.07, 79.80, 66.68, 57.40), (27.99, 71.99, 86.03, 42.38), (26.20, 71.14, 69.41, 46.47), 0.95, "70K"),
    ("HRFAE", "GAN", (15.12, 94.32, 62.28, 74.95), (17.77, 77.86, 90.93, 62.19), (19.98, 77.68, 84.49, 60.87), 0.17, "300K"),
    ("SAM", "GAN", (8.42, 81.96, 68.38, 80.42), (6.31, 72.15, 90.70, 77.72), (6.86, 54.87, 87.10, 66.01), 0.39, "70K"),
    ("CUSP", "GAN", (9.59, 85.92, 64.98, 80.67), (7.45, 74.44, 88.06, 77.84), (13.66, 76.89, 81.86, 70.94), 0.24, "30K"),
    ("FADING", "diffusion", (14.47, 86.70, 64.65, 73.52), (7.90, 75.08, 90.02, 77.57), (9.25, 73.33, 88.01, 75.06), 61.26, None),
    ("IPFE", "diffusion", (11.95, 75.14, 63.55, 72.54), (11.67, 69.40, 87.01, 70.01), (12.97, 65.34, 88.03, 66.43), 8.84, None),
    (
        "Cradle2Cane",
        "diffusion",
        (7.47, 81.34, 72.69, 81.33),
        (4.62, 70.29, 92.37, 78.33),
        (5.05, 67.15, 88.92, 75.94),
        0.56,
        "10K",
    ),
]
TABLE1_PROTOCOLS = [
    (
        "celeba-hq-200, targets 0-80 by 5",
        "CelebA-HQ test, 100 faces per gender",
        {"age_estimator": "Face++ API", "identity_model": "Face++ API"},
    ),
    ("celeba-hq-200, targets 0-80 by 5", "CelebA-HQ test, 100 faces per gender", {"judge_model": "Qwen-VL"}),
    (
        "celeba-hq-in-the-wild-200, targets 0-80 by 5",
        "CelebA-HQ in-the-wild test, 100 faces per gender",
        {"judge_model": "Qwen-VL"},
    ),
]
TARGETS_0_80_BY_5 = list(range(0, 81, 5))

HCS_ROUNDING = 0.015  # inputs and outputs are printed to 2 decimals


def lifespan_table1() -> list[ResultsRecord]:
    """Table 1 as reported. HCS is recomputed from each row's age and identity columns; where the
    printed value disagrees beyond rounding, the record says so (the table is then inconsistent)."""
    records = []
    for method, kind, *protocols, seconds, train in TABLE1:
        for (benchmark, input_set, evaluators), (mae, identity, quality, printed_hcs) in zip(TABLE1_PROTOCOLS, protocols):
            records.append(
                ResultsRecord.from_json(
                    {
                        "task": "lifespan",
                        "method": method,
                        "method_type": kind,
                        "provenance": "reported",
                        "citation": CRADLE2CANE,
                        "protocol": {
                            "benchmark": benchmark,
                            "input_set": input_set,
                            "target_ages": TARGETS_0_80_BY_5,
                            "n_images": 3200,
                        },
                        "evaluators": evaluators,
                        "metrics": {"age_mae": mae, "identity": identity, "image_quality": quality, "seconds_per_image": seconds},
                        "hardware": "GPU not named in the paper's table",
                        "train_set_size": train,
                        "date": "2025-06-26",
                        "notes": {"printed_hcs": printed_hcs},
                    }
                )
            )
            record = records[-1]
            hcs = record.metrics["hcs"]
            if hcs is None:  # every row of the table has both columns
                raise ValueError(f"Table 1, {method} on {benchmark}: no age or identity to recompute HCS from")
            if abs(hcs - printed_hcs) > HCS_ROUNDING:
                record.notes["hcs_check"] = (
                    f"the paper prints HCS {printed_hcs:.2f}, but its own age and identity columns "
                    f"give {record.metrics['hcs']:.2f}; the recomputed value is shown"
                )
    return records


def other_seeds() -> list[ResultsRecord]:
    rows = [
        {
            "task": "lifespan",
            "method": "PADA",
            "method_type": "diffusion",
            "citation": PADA,
            "protocol": {"benchmark": "PADA paper protocol (FFHQ-AT)", "input_set": "as reported by PADA"},
            "evaluators": {"age_estimator": "as reported by PADA", "identity_model": "as reported by PADA"},
            "metrics": {"age_mae": 9.19, "identity": 65.16, "fid": 16.71},
            "notes": {"identity_reported_as": 0.6516},
        },
        {
            "task": "zones",
            "method": "LDLA",
            "method_type": "diffusion",
            "citation": LDLA,
            "protocol": {"benchmark": "LDLA high-quality image dataset", "input_set": "as reported by LDLA"},
            "evaluators": {"age_estimator": "ScoreNet (LDLA)"},
            "metrics": {"fid": 35.71, "zone_score_mae": 0.15},
        },
        {
            "task": "zones",
            "method": "AMGAN",
            "method_type": "GAN",
            "citation": LDLA,
            "protocol": {"benchmark": "LDLA high-quality image dataset", "input_set": "as reported by LDLA"},
            "evaluators": {"age_estimator": "ScoreNet (LDLA)"},
            "metrics": {"fid": 45.94, "zone_score_mae": 0.14},
        },
        {
            "task": "age_estimation",
            "method": "MobileNetV2 + Mondrian conformal",
            "method_type": "regression",
            "citation": CONFORMAL,
            "protocol": {"benchmark": CONFORMAL_PROTOCOL, "input_set": "UTKFace test (20 %, 1824 faces)"},
            "evaluators": {},
            "metrics": {"coverage_90": 91.9},
            "notes": {"protocol": CONFORMAL_CAVEAT},
        },
    ]
    return [ResultsRecord.from_json({"provenance": "reported", "date": "2025-01-01", **row}) for row in rows]


def seed_records() -> list[ResultsRecord]:
    return lifespan_table1() + other_seeds()
