"""Signals the training app sends.

``active_version_changed``: sent when a model version was activated or rolled back to, once as it
happens and again when the transaction commits. The scoring engine listens, so the process that
activates uses the new version at once; other processes read the active version again within
``settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS``.
"""

from django.dispatch import Signal

active_version_changed = Signal()
