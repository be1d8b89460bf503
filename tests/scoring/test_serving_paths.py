"""Issue 24: the quicker paths of a scoring request give exactly what the paths they stand in for give.

- the model: each algorithm's scores through its steps' public calls (``pipeline_scorer``: a
  forest's trees, the scorecard's WoE tables) against the fitted pipeline's own methods;
- the request: the strict reading of an item without building the serializers against the
  serializers' reading, on valid and invalid items;
- the answer: ``PredictionSerializer.to_representation`` against DRF's reading of its declared fields;
- the prediction: one scored applicant is one INSERT in autocommit, stored before the answer.
"""

import copy
import itertools

import numpy as np
import pandas as pd
import pytest
import sklearn
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from applicants.generator import generate_applicants
from credit.trained_model import calibration_scores, pipeline_scorer
from scoring.models import Prediction
from scoring.services import score_applicants
from tests.scoring.conftest import RISKY_APPLICANT, TRAINED_ALGORITHMS
from tests.support import VALID_APPLICANT
from training.artifacts import load_artifact
from web.api.serializers import (
    APP_ID_FIELD,
    ApplicantAttributesSerializer,
    ApplicantCreateSerializer,
    PredictionSerializer,
    ScoreRequestSerializer,
    _accepted_as_sent,
    clean_applicant_input,
)

# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


def applicants_with_edges(model) -> pd.DataFrame:
    """Varied applicants, one with a category the model never saw, one of each kind of extreme."""
    frame = pd.DataFrame(generate_applicants(400, seed=8))
    frame.loc[0, "pekerjaan"] = "Astronaut"
    frame.loc[1, "housing_type"] = ""
    frame.loc[2, ["monthly_income", "dp"]] = [0, 0]
    return frame


@pytest.mark.parametrize("algorithm", TRAINED_ALGORITHMS)
def test_every_algorithm_scores_exactly_as_its_fitted_pipeline(make_version, algorithm):
    model = load_artifact(make_version(algorithm, activate=False))
    applicants = applicants_with_edges(model)
    with sklearn.config_context(assume_finite=True):
        expected = model.calibrator.predict(calibration_scores(model.pipeline, applicants))
    np.testing.assert_array_equal(model.predict_npl_probability(applicants), expected)
    columns = {name: applicants[name].to_numpy() for name in applicants}
    np.testing.assert_array_equal(model.predict_npl_probability(columns), expected)


def test_the_scorecard_keeps_its_weight_of_evidence_tables_and_scores_through_them(make_version):
    model = load_artifact(make_version("CreditScorecard", activate=False))
    scorecard = model.classifier
    assert scorecard.woe_tables_ is not None
    assert scorecard.reads_features(model.encoder.get_feature_names_out())
    # Values exactly at each bin edge and just below it: the library's bins are [a, b).
    base = pd.DataFrame(generate_applicants(1, seed=9))
    features = copy.deepcopy(model.encoder).set_output(transform="default").transform(base)
    rows = []
    for table in scorecard.woe_tables_:
        for edge in getattr(table, "splits", []):
            for value in (edge, np.nextafter(edge, -np.inf), np.nextafter(edge, np.inf)):
                row = features[0].copy()
                row[table.column] = value
                rows.append(row)
    matrix = np.array(rows)
    frame = pd.DataFrame(matrix, columns=model.encoder.get_feature_names_out())
    np.testing.assert_array_equal(scorecard.decision_function_of_features(matrix), scorecard.decision_function(frame))


def test_a_scorecard_fitted_before_it_kept_tables_scores_through_optbinning(make_version):
    model = load_artifact(make_version("CreditScorecard", activate=False))
    del model.classifier.woe_tables_  # as an artifact written before issue 24
    applicants = applicants_with_edges(model)
    with sklearn.config_context(assume_finite=True):
        np.testing.assert_array_equal(
            pipeline_scorer(model.pipeline)(applicants), calibration_scores(model.pipeline, applicants)
        )


def test_the_first_trees_of_a_forest_are_the_smaller_forest_the_same_seed_grows(make_version):
    """What judging a forest on its first trees (credit.model_search.forest_prefix_score) relies on."""
    from sklearn.base import clone

    model = load_artifact(make_version("RandomForestClassifier", activate=False))
    forest = model.classifier
    development = pd.DataFrame(generate_applicants(600, seed=10))
    labels = (np.arange(600) % 4 == 0).astype(int)
    features = model.encoder.transform(development)
    big = clone(forest).set_params(n_estimators=40).fit(features, labels)
    small = clone(forest).set_params(n_estimators=20).fit(features, labels)
    matrix = np.asarray(features, dtype=np.float32)
    first = np.mean([tree.predict_proba(matrix, check_input=False) for tree in big.estimators_[:20]], axis=0)
    np.testing.assert_allclose(first, small.predict_proba(features), rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# The request
# ---------------------------------------------------------------------------------------------


def request_items():
    """Valid items and items that break each rule once (or a few at once)."""
    valid = {**VALID_APPLICANT}
    yield valid
    yield {**RISKY_APPLICANT, APP_ID_FIELD: 12}
    yield {**valid, APP_ID_FIELD: None}
    yield {**valid, APP_ID_FIELD: 12.0}
    yield {**valid, "otr": float(valid["otr"]), "tenor": 24.0}
    for name, bad in itertools.product(
        list(valid),
        [None, "", " ", True, False, 1.5, -1, 10**15, "12", [1], {"a": 1}, "x" * 300, float("inf"), 0],
    ):
        yield {**valid, name: bad}
    for name in valid:
        yield {key: value for key, value in valid.items() if key != name}
    yield {**valid, "dp": valid["otr"]}
    yield {**valid, "dp": valid["otr"] + 1}
    yield {**valid, "unknown": 1}
    yield {**valid, **{f"extra{i}": i for i in range(12)}}
    for app_id in (0, -5, 1.5, "7", True, 2**63, 2**63 - 1, 1):
        yield {**valid, APP_ID_FIELD: app_id}


@pytest.mark.parametrize(
    ("options", "serializer_class"),
    [
        ({}, ScoreRequestSerializer),
        ({"allow_app_id": False}, ApplicantAttributesSerializer),
        ({"require_app_id": True}, ApplicantCreateSerializer),
    ],
)
def test_a_strict_item_is_read_as_the_serializers_read_it(options, serializer_class):
    allow = options.get("allow_app_id", True) or options.get("require_app_id", False)
    accepted_count = 0
    for item in request_items():
        serializer = serializer_class(data=item, context={"lenient": False})
        valid = serializer.is_valid()
        quick = _accepted_as_sent(item, allow_app_id=allow, require_app_id=options.get("require_app_id", False))
        if not valid:
            assert quick is None, item
            continue
        values = dict(serializer.validated_data)
        app_id = values.pop(APP_ID_FIELD, None)
        assert quick is not None, item  # every item the serializers accept is accepted without them
        assert quick == (values, app_id) and list(quick[0]) == list(values), item
        assert [type(v) for v in quick[0].values()] == [type(v) for v in values.values()]
        assert clean_applicant_input(item, **options) == (*quick, {})
        accepted_count += 1
    assert accepted_count >= 3


# ---------------------------------------------------------------------------------------------
# The answer and the stored prediction
# ---------------------------------------------------------------------------------------------


def test_the_answer_is_what_the_declared_fields_give(active_version, analyst):
    from applicants.models import Applicant

    applicant = Applicant.objects.create(app_id=4242, source="api", **VALID_APPLICANT)
    predictions = [
        score_applicants([VALID_APPLICANT], user=analyst, channel="api", applicants=[applicant])[0].prediction,
        score_applicants([RISKY_APPLICANT], channel="web")[0].prediction,
        score_applicants([{**VALID_APPLICANT, "pekerjaan": "PNS"}], user=analyst, channel="batch")[0].prediction,
    ]
    predictions[2].policy_id = None
    predictions[2].outside_training = ["otr", None]
    for prediction in [*predictions, Prediction.objects.get(pk=predictions[0].pk)]:
        serializer = PredictionSerializer(prediction)
        declared = serializers.Serializer.to_representation(serializer, prediction)  # DRF, field by field
        assert serializer.data == declared
        assert list(serializer.data) == list(declared)
    many = PredictionSerializer(predictions, many=True).data
    assert many == [serializers.Serializer.to_representation(PredictionSerializer(p), p) for p in predictions]


@pytest.mark.django_db(transaction=True)  # autocommit, as a web request runs
def test_one_scored_applicant_is_one_insert_stored_before_the_answer(active_version, analyst, settings):
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 60  # however slow the machine, no recheck below
    score_applicants([VALID_APPLICANT], user=analyst, channel="api")  # the active version read once
    with CaptureQueriesContext(connection) as queries:
        result = score_applicants([VALID_APPLICANT], user=analyst, channel="api")[0]
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert statements == ["INSERT"]  # no transaction of its own around it (SQLite would show its BEGIN)
    assert Prediction.objects.get(pk=result.prediction.pk).npl_probability == result.npl_probability
    batch = score_applicants([VALID_APPLICANT, RISKY_APPLICANT], user=analyst, channel="api")
    assert Prediction.objects.filter(pk__in=[r.prediction.pk for r in batch]).count() == 2


def test_a_forest_keeps_fewer_trees_only_where_the_folds_show_no_gain():
    from credit.model_search import Folds, smallest_forest_without_a_gain

    folds = Folds(splits=tuple((np.arange(2), np.arange(2)) for _ in range(5)), per_repeat=5, repeats=1)

    def results(most, twenty):
        table = {f"split{k}_test_roc_auc": [value] for k, value in enumerate(most)}
        table.update({f"split{k}_test_roc_auc_20_trees": [value] for k, value in enumerate(twenty)})
        return table

    most = [0.70, 0.72, 0.68, 0.71, 0.69]
    # The folds disagree about a small gain: 20 trees.
    assert smallest_forest_without_a_gain(results(most, [0.702, 0.715, 0.681, 0.705, 0.692]), 0, (20, 40), folds) == 20
    # Every fold gains a little from 40 trees: 40 (the one-standard-error band of the scores, 0.007, would not see it).
    assert smallest_forest_without_a_gain(results(most, [m - 0.004 for m in most]), 0, (20, 40), folds) == 40
