"""The steps a training run reports, worded once, stored in English and shown in the reader's language.

A run's ``current_step`` and log are written by the worker, in no particular person's language, and
read later by people in theirs. So each step is a :class:`Step`: an English template with named
placeholders, marked for translation. The worker stores ``step.text(**values)`` (English, as the log
keeps it); a page shows :func:`translated_step` of the stored text, which recognises the template it
came from and renders the translation with the same values. A stored text that matches no template
(an older wording) is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def gettext_noop(text: str) -> str:
    """Marks ``text`` for translation (``makemessages`` collects it); the web layer translates it when shown."""
    return text


PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class Step:
    """One step's English template, e.g. ``"Chose %(name)s"``."""

    def __init__(self, template: str):
        self.template = template
        parts = PLACEHOLDER.split(template)  # literal, name, literal, name, …, literal
        pattern = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts))
        self.pattern = re.compile(pattern + r"\Z", re.DOTALL)

    def text(self, **values) -> str:
        """The step as stored: English, with the values filled in."""
        return self.template % values

    def translate(self, stored: str, gettext: Callable[[str], str]) -> str | None:
        """``stored`` translated by ``gettext`` (the reader's language), or None when it is not this step."""
        match = self.pattern.match(stored)
        if match is None:
            return None
        return gettext(self.template) % match.groupdict()


WAITING = Step(gettext_noop("Waiting for a worker"))
LOADING = Step(gettext_noop("Loading labelled applicants"))
LOADING_AS_OF = Step(gettext_noop("Loading labelled applicants as of %(as_of)s"))
SPLITTING = Step(gettext_noop("Holding out the test applicants"))
CANDIDATE = Step(gettext_noop("Candidate %(number)s/%(total)s: %(algorithm)s with %(balancing)s"))
SEARCHING_ON_WORKERS = Step(
    gettext_noop("Searching %(candidates)s candidates on %(folds)s folds: %(fits)s tasks for the workers")
)
FITS_DONE = Step(gettext_noop("%(done)s of %(fits)s candidate-fold tasks done on the workers"))
CALIBRATING = Step(gettext_noop("Calibrating %(name)s out of fold and refitting it on every development applicant"))
TESTING = Step(gettext_noop("Testing %(name)s on the untouched test applicants"))
CHOSE = Step(gettext_noop("Chose %(name)s"))
COMPARING = Step(gettext_noop("Comparing with the active version on the same test applicants"))
SAVING = Step(gettext_noop("Saving the model artifact"))
DONE_ACTIVATED = Step(gettext_noop("Done: %(name)s #%(pk)s activated"))
DONE_INACTIVE = Step(gettext_noop("Done: %(name)s #%(pk)s registered inactive"))
FAILED = Step(gettext_noop("Failed"))

STEPS = (
    WAITING,
    LOADING,
    LOADING_AS_OF,
    SPLITTING,
    CANDIDATE,
    SEARCHING_ON_WORKERS,
    FITS_DONE,
    CALIBRATING,
    TESTING,
    CHOSE,
    COMPARING,
    SAVING,
    DONE_ACTIVATED,
    DONE_INACTIVE,
    FAILED,
)


def translated_step(stored: str, gettext: Callable[[str], str]) -> str:
    """A stored step translated by ``gettext`` (unchanged when no template matches it)."""
    for step in STEPS:
        translated = step.translate(stored, gettext)
        if translated is not None:
            return translated
    return stored
