"""Strategy curves: what an approve cut-off would do, on the active model version's test applicants.

**Which applicants.** The test split of the active version's training run: applicants it never saw
in training or validation. Their ids are not stored as such; the version stores the date its labels
are from (``training_data["as_of"]``) and a SHA-256 of the sorted test ids
(``training_data["test_app_ids_sha256"]``), and its artifact lists the applicants it saw
(``metadata["seen_app_ids"]``). The test applicants are therefore rebuilt as the applicants
labelled as of that date that the version did not see, and the digest says whether they are exactly
the test split (``exact``); after later imports added applicants with history before that date, they
are the unseen labelled applicants instead, and the page says so. NPL outcomes are their labels as
of that date.

**Which probabilities.** The test probabilities are not stored, so the applicants are scored through
the scoring engine (:meth:`scoring.engine.ScoringEngine.score`, without reasons and without storing
predictions): the same probabilities and NPL flags a request for those applicants gets. Each
point of a curve (:mod:`credit.strategy`) is :func:`credit.scorecard.decide` for every applicant under
the policy with that approve cut-off — the rule the engine applies, not a second copy of it. They are labelled and
scored again on every request (nothing kept between requests, so a later import or activation is
always reflected): one labelling of the book as of that date and one engine call without reasons.

**Back-test on realised applicants**, where there are outcomes: applicants the active version
scored (stored predictions, the latest per applicant) that now carry an NPL label and that the
version did not see in training or validation. Their probabilities and NPL flags are the stored
predictions' — what the engine returned — and the outcome is the applicant's current label.
:func:`realised_applicants` returns ``None`` while there are none (or none of them is NPL).

**What a curve says**, for each approve cut-off (the credit score from which an applicant the model
does not flag NPL is approved; the decline probability and the rest of the policy as proposed):
the approval rate, the NPL rate among the approved, the share of NPL applicants not approved
(caught: declined or sent to review), and the expected loss (PD × LGD × amount financed, in rupiah)
of the approved and of the rest (avoided).
"""

from __future__ import annotations

from datetime import date

import numpy as np
from django.utils.translation import gettext

from applicants.selectors import labelled_applicants_frame
from credit.attributes import ATTRIBUTE_FIELDS
from credit.model_search import applicant_ids_digest
from credit.scorecard import ScorecardParameters
from credit.strategy import Comparison, ScoredApplicants, compare_on
from scoring.engine import engine
from scoring.models import Prediction


class StrategyUnavailableError(Exception):
    """The active version's test applicants cannot be rebuilt; the message says why."""


def test_applicants() -> ScoredApplicants:
    """The active version's test applicants with the engine's probabilities (see the module docstring).

    Raises :class:`scoring.engine.ScoringUnavailableError` without a usable active version and
    :class:`StrategyUnavailableError` when its test applicants cannot be rebuilt.
    """
    loaded = engine.loaded_model()
    version = loaded.model_version
    seen = loaded.model.metadata.get("seen_app_ids")
    as_of_text = (version.training_data or {}).get("as_of")
    if seen is None:
        raise StrategyUnavailableError(
            gettext("Model version #%(id)s does not record which applicants it was trained on: retrain to see curves.")
            % {"id": version.pk}
        )
    as_of = date.fromisoformat(as_of_text) if as_of_text else None
    frame = labelled_applicants_frame(as_of=as_of)
    frame = frame[~frame["app_id"].isin(set(seen))] if len(frame) else frame
    if frame.empty or not frame["is_npl"].any():
        raise StrategyUnavailableError(
            gettext(
                "The test applicants of model version #%(id)s are no longer stored (or none of them is NPL): "
                "import the loan book it was trained on, or retrain."
            )
            % {"id": version.pk}
        )
    scores = engine.score(frame[list(ATTRIBUTE_FIELDS)], with_reasons=False)
    return ScoredApplicants(
        model_version=scores.model_version,
        app_ids=frame["app_id"].to_numpy(np.int64),
        otr=frame["otr"].to_numpy(np.int64),
        dp=frame["dp"].to_numpy(np.int64),
        monthly_income=frame["monthly_income"].to_numpy(np.int64),
        tenor=frame["tenor"].to_numpy(np.int64),
        is_npl_outcome=frame["is_npl"].to_numpy(bool),
        npl_probability=scores.npl_probability,
        flagged_npl=scores.is_npl,
        exact=applicant_ids_digest(frame["app_id"]) == (version.training_data or {}).get("test_app_ids_sha256"),
        as_of=as_of,
    )


def realised_applicants() -> ScoredApplicants | None:
    """The active version's scored applicants whose outcome is now known (see the module docstring)."""
    loaded = engine.loaded_model()
    seen = set(loaded.model.metadata.get("seen_app_ids") or [])
    rows = (
        Prediction.objects.filter(model_version_id=loaded.model_version.pk, applicant__is_npl__isnull=False)
        .order_by("applicant_id", "-created_at", "-id")
        .values_list(
            "applicant_id", "applicant__app_id", "applicant__is_npl", "npl_probability", "is_npl", "input_attributes"
        )
    )
    latest = {}
    for applicant_id, app_id, outcome, probability, flagged, attributes in rows.iterator(chunk_size=5000):
        if applicant_id not in latest and app_id not in seen:
            latest[applicant_id] = (
                app_id,
                outcome,
                probability,
                flagged,
                *(attributes[name] for name in ("otr", "dp", "monthly_income", "tenor")),
            )
    if not latest or not any(row[1] for row in latest.values()):
        return None
    app_ids, outcomes, probabilities, flags, otr, dp, monthly_income, tenor = zip(*latest.values(), strict=True)
    return ScoredApplicants(
        model_version=loaded.model_version,
        app_ids=np.array(app_ids, dtype=np.int64),
        otr=np.array(otr, dtype=np.int64),
        dp=np.array(dp, dtype=np.int64),
        monthly_income=np.array(monthly_income, dtype=np.int64),
        tenor=np.array(tenor, dtype=np.int64),
        is_npl_outcome=np.array(outcomes, dtype=bool),
        npl_probability=np.array(probabilities, dtype=np.float64),
        flagged_npl=np.array(flags, dtype=bool),
        exact=False,
        as_of=None,
    )


def compare(active: ScorecardParameters, proposed: ScorecardParameters) -> Comparison:
    """The proposed policy beside the active one on the active version's test applicants (and its
    realised applicants, where there are outcomes)."""
    return compare_on(test_applicants(), realised_applicants(), active, proposed)
