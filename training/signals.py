"""Signals the training app sends.

``active_version_changed``: sent when a model version was activated or rolled back to. The scoring
engine listens and drops its reading of the active version, so the process that activates scores
with the new version from then on; other processes read the active version again within
``settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS``.
"""

from django.dispatch import Signal

active_version_changed = Signal()
