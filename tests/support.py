"""Constants and small helpers shared by several test folders."""

import random

# The ModelVersion fields a session-scoped fixture copies from a trained version, so tests can
# store fresh rows that point at the same verified artifact.
VERSION_FIELDS = (
    "name",
    "algorithm",
    "balancing",
    "hyperparameters",
    "threshold",
    "metrics",
    "training_data",
    "artifact_path",
    "artifact_sha256",
    "artifact_size",
)

# What a training run requested from a page, the admin or a command stores besides its own
# parameters: the first decision policy's recall target and score scaling (the settings' defaults).
FIRST_POLICY_TRAINING = {"recall_target": 0.9, "score_scaling": {"base_points": 600.0, "base_odds": 50.0, "pdo": 40.0}}

# A valid, low-risk applicant (the nine attributes as the API takes them).
VALID_APPLICANT = {
    "monthly_income": 15_000_000,
    "housing_type": "milik sendiri",
    "num_of_dependent": 1,
    "lama_bekerja": 8,
    "otr": 150_000_000,
    "status_pernikahan": "Nikah",
    "pekerjaan": "PNS",
    "tenor": 24,
    "dp": 60_000_000,
}


def unused_window_start(period: int) -> int:
    """The start of a rate-limit window (a multiple of ``period`` seconds on the throttle's clock) that no
    earlier run has counted in: counters left in a shared Redis outlive a test run by two periods."""
    return period * random.randrange(10**9, 2 * 10**9)
