"""Signals the training app sends.

``active_version_changed``: sent when a model version was activated or rolled back to. The scoring
engine listens and drops its reading of the active version, so the process that activates scores
with the new version from then on; other processes read the active version again within
``settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS``.

``model_version_registered``: sent inside the transaction that stores a newly trained version, before
it may be activated, with ``version``, ``model`` (its :class:`credit.trained_model.TrainedNplModel`),
``development`` (frames of the applicants it was developed on: everything but the held-out
test applicants) and ``development_scores`` (their out-of-fold NPL probabilities, one each).
Monitoring listens and records the version's reference distribution; an error in a receiver rolls
the registration back.
"""

from django.dispatch import Signal

active_version_changed = Signal()
model_version_registered = Signal()
