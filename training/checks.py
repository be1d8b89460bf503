"""Start-up check of the training settings: ``TRAINING_CALIBRATION_METHOD`` must be one the model
can calibrate with (:data:`credit.trained_model.CALIBRATION_METHODS`); anything else is refused in
words before a training run could fail on it."""

from django.conf import settings
from django.core import checks

from credit.trained_model import CALIBRATION_METHODS


@checks.register("npl")
def calibration_method_known(app_configs=None, **kwargs) -> list[checks.Error]:
    method = settings.TRAINING_CALIBRATION_METHOD
    if method in CALIBRATION_METHODS:
        return []
    return [
        checks.Error(
            f"TRAINING_CALIBRATION_METHOD is {method!r}, which training cannot calibrate with.",
            hint=f"Set it to one of {', '.join(CALIBRATION_METHODS)} (sigmoid, the default, suits small books).",
            id="training.E001",
        )
    ]
