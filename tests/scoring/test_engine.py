"""The scoring engine and service: active version, switching, failures, reasons, persistence."""

import copy
import dataclasses
import logging
import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import xgboost
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.formats import number_format
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

import scoring.engine
import training.compiled_trees
from applicants.generator import generate_applicants
from applicants.models import Applicant
from scoring.engine import REASON_GROUPS, ModelArtifactUnavailableError, NoActiveModelError, _Wording, engine
from scoring.models import Prediction
from scoring.services import ApplicantDataError, insert_predictions, score_applicants, score_requests
from tests.support import VALID_APPLICANT
from training.artifacts import load_artifact
from training.compiled_trees import (
    MAX_ROWS,
    compile_forest,
    compile_tree,
    compile_xgboost,
    few_rows_npl_probability,
    forest_tree_sums,
)
from training.models import ModelVersion
from training.services import activate_model_version

from .conftest import RISKY_APPLICANT, TRAINED_ALGORITHMS

REASON_TEXT = re.compile(r"^.+ — (raises|lowers) risk$")


def test_scores_are_calibrated_probabilities_of_the_active_version(active_version):
    results = score_applicants([VALID_APPLICANT, RISKY_APPLICANT], channel="api")
    model = load_artifact(active_version)
    expected = model.predict_npl_probability(pd.DataFrame([VALID_APPLICANT, RISKY_APPLICANT]))
    assert [r.prediction.npl_probability for r in results] == pytest.approx(list(expected))
    for result in results:
        prediction = result.prediction
        assert prediction.pk is not None and prediction.model_version_id == active_version.pk
        assert prediction.is_npl == (prediction.npl_probability >= active_version.threshold)
        assert prediction.threshold == active_version.threshold
        assert 300 <= prediction.credit_score <= 850
        assert prediction.risk_grade in "ABCDE"
        assert prediction.recommendation in ("approve", "review", "decline")
    safe, risky = (r.prediction for r in results)
    assert safe.npl_probability < risky.npl_probability and safe.credit_score > risky.credit_score
    financed = RISKY_APPLICANT["otr"] - RISKY_APPLICANT["dp"]
    assert risky.expected_loss == round(risky.npl_probability * 0.45 * financed)


def test_every_score_is_stored_with_its_input_user_and_channel(active_version, analyst):
    score_applicants([VALID_APPLICANT], user=analyst, channel="web")
    stored = Prediction.objects.get()
    assert stored.input_attributes == VALID_APPLICANT
    assert stored.user == analyst and stored.channel == "web" and stored.applicant is None
    assert len(stored.reasons) <= 3


def test_batch_scores_equal_single_scores(active_version):
    many = [VALID_APPLICANT, RISKY_APPLICANT] * 30
    batch = score_applicants(many, channel="batch")
    single = score_applicants([RISKY_APPLICANT], channel="api")[0]
    assert batch[1].prediction.npl_probability == pytest.approx(single.prediction.npl_probability)
    assert batch[1].prediction.reasons == single.prediction.reasons
    assert Prediction.objects.filter(channel="batch").count() == 60


def test_a_batch_is_stored_as_bulk_create_stores_it(active_version, analyst):
    """insert_predictions writes the rows itself; they must read back as bulk_create's do."""
    items = [
        {**applicant, "app_id": 7_000 + i}
        for i, applicant in enumerate(pd.DataFrame(generate_applicants(25, seed=30)).to_dict("records"))
    ]
    results = score_requests(items[:5], user=analyst, channel="api") + score_applicants(
        [{k: v for k, v in item.items() if k != "app_id"} for item in items[5:]], channel="batch"
    )
    ours = [result.prediction for result in results]
    assert len({p.pk for p in ours}) == 25 and all(p.pk and not p._state.adding for p in ours)
    copies = [copy.copy(p) for p in ours]
    for prediction in copies:
        prediction.pk = None
        prediction._state.adding = True
    Prediction.objects.bulk_create(copies)
    fields = [f.attname for f in Prediction._meta.concrete_fields if f.attname not in ("id", "created_at")]
    stored = {row["id"]: row for row in Prediction.objects.values("id", "created_at", *fields)}
    for mine, theirs in zip(ours, copies, strict=True):
        assert {f: stored[mine.pk][f] for f in fields} == {f: stored[theirs.pk][f] for f in fields}
        assert {f: stored[mine.pk][f] for f in fields} == {f: getattr(mine, f) for f in fields}
        assert stored[mine.pk]["created_at"] == mine.created_at
    assert stored[ours[0].pk]["applicant_id"] is not None and stored[ours[0].pk]["user_id"] == analyst.pk
    # Many statements (7 rows each): every instance still gets the id of its own row.
    more = [copy.copy(p) for p in ours]
    for prediction in more:
        prediction.pk, prediction.npl_probability = None, prediction.npl_probability / 2
    insert_predictions(more, rows_per_statement=7)
    for prediction in more:
        assert Prediction.objects.get(pk=prediction.pk).npl_probability == prediction.npl_probability
    # Only new rows; an unsaved applicant is refused as bulk_create refuses it, and nothing is stored.
    count = Prediction.objects.count()
    with pytest.raises(ValueError, match="already have ids"):
        insert_predictions(more)
    valid, unsaved = copy.copy(ours[1]), copy.copy(ours[0])
    valid.pk, unsaved.pk, unsaved.applicant = None, None, Applicant(app_id=99_999, **VALID_APPLICANT)
    with pytest.raises(ValueError, match="unsaved related object"):
        insert_predictions([valid, unsaved])
    assert Prediction.objects.count() == count


def test_invalid_applicant_stores_nothing(active_version):
    bad = {**VALID_APPLICANT, "dp": VALID_APPLICANT["otr"] + 1}
    with pytest.raises(ApplicantDataError) as caught:
        score_applicants([VALID_APPLICANT, bad], channel="api")
    assert list(caught.value.errors) == [1] and "dp" in caught.value.errors[1]
    assert not Prediction.objects.exists()


def test_an_unknown_channel_is_a_programming_error_and_stores_nothing(active_version):
    with pytest.raises(ValueError, match="Unknown channel 'fax'; expected one of web, api, batch"):
        score_applicants([VALID_APPLICANT], channel="fax")
    assert not Prediction.objects.exists()


def test_no_active_model_is_a_specific_error(db):
    with pytest.raises(NoActiveModelError, match="No model version is active"):
        score_applicants([VALID_APPLICANT], channel="api")
    assert not Prediction.objects.exists()


def test_activating_another_version_is_followed_without_restart(make_version, settings):
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 60  # at once, not by the recheck
    first = make_version("LogisticRegression")
    second = make_version("XGBClassifier", activate=False)
    before = score_applicants([RISKY_APPLICANT], channel="api")[0]
    activate_model_version(second)
    after = score_applicants([RISKY_APPLICANT], channel="api")[0]
    assert before.prediction.model_version_id == first.pk
    assert after.prediction.model_version_id == second.pk
    expected = load_artifact(second).predict_npl_probability(pd.DataFrame([RISKY_APPLICANT]))[0]
    assert after.prediction.npl_probability == pytest.approx(expected)
    assert after.prediction.npl_probability != pytest.approx(before.prediction.npl_probability)


def test_another_process_s_activation_is_followed_within_the_recheck_time(make_version, monkeypatch, settings):
    """Another process activates a version: nothing reaches this process but the database row
    (written here without the ORM's signals), read again once the last reading is older than
    SCORING_ACTIVE_VERSION_RECHECK_SECONDS, without a query before then."""
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 1.0
    clock = [1000.0]
    monkeypatch.setattr("scoring.engine.time.monotonic", lambda: clock[0])
    first = make_version("LogisticRegression")
    second = make_version("XGBClassifier", activate=False)
    assert score_applicants([RISKY_APPLICANT], channel="api")[0].prediction.model_version_id == first.pk
    ModelVersion.objects.filter(pk=first.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=second.pk).update(is_active=True)
    clock[0] += 0.9
    with CaptureQueriesContext(connection) as queries:
        within = score_applicants([RISKY_APPLICANT], channel="api")[0]
    assert within.prediction.model_version_id == first.pk
    assert not any("is_active" in query["sql"] for query in queries.captured_queries)
    clock[0] += 0.2
    after = score_applicants([RISKY_APPLICANT], channel="api")[0]
    assert after.prediction.model_version_id == second.pk
    ModelVersion.objects.filter(pk=second.pk).update(is_active=False)
    clock[0] += 1.1
    with pytest.raises(NoActiveModelError):
        score_applicants([RISKY_APPLICANT], channel="api")


def test_a_version_saved_in_this_process_is_followed_at_once(make_version, settings):
    """Saving (or deleting) a ModelVersion here, as the admin or a fixture does, drops the engine's
    reading whatever the recheck time."""
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 60
    first = make_version("LogisticRegression")
    second = make_version("XGBClassifier", activate=False)
    assert score_applicants([RISKY_APPLICANT], channel="api")[0].prediction.model_version_id == first.pk
    ModelVersion.objects.filter(pk=first.pk).update(is_active=False)
    second.is_active = True
    second.save(update_fields=["is_active"])
    assert score_applicants([RISKY_APPLICANT], channel="api")[0].prediction.model_version_id == second.pk


def test_a_recheck_time_of_zero_reads_the_active_version_on_every_score(make_version, settings):
    settings.SCORING_ACTIVE_VERSION_RECHECK_SECONDS = 0
    first = make_version("LogisticRegression")
    second = make_version("XGBClassifier", activate=False)
    score_applicants([RISKY_APPLICANT], channel="api")
    ModelVersion.objects.filter(pk=first.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=second.pk).update(is_active=True)
    assert score_applicants([RISKY_APPLICANT], channel="api")[0].prediction.model_version_id == second.pk


def test_altered_artifact_is_refused_and_logged(make_version, artifact_folder, caplog):
    original = make_version("LogisticRegression", activate=False)
    copy_name = f"tampered-{original.pk}-{id(caplog)}.joblib"
    shutil.copyfile(artifact_folder / original.artifact_path, artifact_folder / copy_name)
    version = make_version("LogisticRegression", artifact_path=copy_name)  # verified intact, then activated
    data = bytearray((artifact_folder / copy_name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (artifact_folder / copy_name).write_bytes(bytes(data))
    with (
        caplog.at_level(logging.ERROR, logger="scoring.engine"),
        pytest.raises(ModelArtifactUnavailableError, match=f"#{version.pk} cannot be used"),
    ):
        score_applicants([VALID_APPLICANT], channel="api")
    assert any("SHA-256" in record.getMessage() for record in caplog.records)
    assert not Prediction.objects.exists()


@pytest.mark.parametrize("algorithm", TRAINED_ALGORITHMS)
def test_reasons_are_worded_and_ranked_for_every_algorithm(make_version, algorithm):
    make_version(algorithm)
    result = score_applicants([RISKY_APPLICANT], channel="api")[0]
    reasons = result.prediction.reasons
    assert 1 <= len(reasons) <= 3
    for reason in reasons:
        assert reason["attribute"] in REASON_GROUPS
        assert REASON_TEXT.match(reason["text"]), reason["text"]
        assert reason["direction"] in ("raises", "lowers")
        assert reason["value"] == RISKY_APPLICANT[reason["attribute"]]
    directions = [reason["direction"] for reason in reasons]
    assert directions == sorted(directions, key=lambda d: d != "raises")  # raising reasons first
    assert directions[0] == "raises"  # this applicant is riskier than a typical one somewhere


def test_reason_effect_is_the_change_against_a_typical_applicant(make_version):
    version = make_version("XGBClassifier")
    model = load_artifact(version)
    typical = model.metadata["reference_values"]
    result = score_applicants([RISKY_APPLICANT], channel="api")[0]
    by_attribute = {reason["attribute"]: reason for reason in result.prediction.reasons}
    assert by_attribute, "the risky applicant has reasons"
    attribute, reason = next(iter(by_attribute.items()))
    changed = dict(RISKY_APPLICANT)
    if attribute == "dp":
        changed["dp"] = round(typical["dp_ratio"] * RISKY_APPLICANT["otr"])
    elif attribute == "otr":
        ratio = RISKY_APPLICANT["dp"] / RISKY_APPLICANT["otr"]
        changed.update(otr=typical["otr"], dp=round(ratio * typical["otr"]))
    else:
        changed[attribute] = typical[attribute]
    own, made_typical = model.predict_npl_probability(pd.DataFrame([RISKY_APPLICANT, changed]))
    assert reason["effect"] == pytest.approx(own - made_typical, abs=1e-4)


def test_down_payment_reason_reads_as_a_share_of_the_price(make_version):
    make_version("KNeighborsClassifier")
    low_dp = {**RISKY_APPLICANT, "tenor": 36, "dp": 10_000_000, "otr": 200_000_000}
    reasons = score_applicants([low_dp], channel="api")[0].prediction.reasons
    dp_reasons = [reason for reason in reasons if reason["attribute"] == "dp"]
    if dp_reasons:  # the model finds a 5 % down payment risky
        assert dp_reasons[0]["text"].startswith("Down payment is 5 % of the vehicle price (low)")


def brute_force_reasons(model, applicant: dict, references) -> list[tuple[str, float]]:
    """(group, log-odds effect) of every reason, straight from the definition in scoring.engine's
    docstring: each group made typical in a row of its own, scored by the model, ranked."""
    rows = [applicant]
    for group in REASON_GROUPS:
        for variant in brute_force_typical(applicant, group, references):
            rows.append(variant[0])
    probabilities = iter(model.predict_npl_probability(pd.DataFrame(rows)))
    own = next(probabilities)

    def log_odds(p):
        p = min(max(p, 1e-9), 1 - 1e-9)
        return np.log(p) - np.log1p(-p)

    effects = []
    for group in REASON_GROUPS:
        typical = sum(weight * next(probabilities) for _, weight in brute_force_typical(applicant, group, references))
        effects.append((group, log_odds(own) - log_odds(typical)))
    raising = sorted([e for e in effects if e[1] >= 0.01], key=lambda e: -e[1])
    lowering = sorted([e for e in effects if e[1] <= -0.01], key=lambda e: e[1])
    return (raising + lowering)[:3]


def brute_force_typical(applicant: dict, group: str, ref) -> list[tuple[dict, float]]:
    if group == "dp":
        return [({**applicant, "dp": round(ref.dp_ratio * applicant["otr"])}, 1.0)]
    if group == "otr":
        ratio = applicant["dp"] / applicant["otr"]
        return [({**applicant, "otr": ref.otr, "dp": round(ratio * ref.otr)}, 1.0)]
    if group in ref.categories:
        return [({**applicant, group: category}, weight) for category, weight in ref.categories[group]]
    return [({**applicant, group: getattr(ref, group)}, 1.0)]


@pytest.mark.parametrize("algorithm", ["XGBClassifier", "RandomForestClassifier"])
def test_reasons_are_the_ones_the_definition_gives(make_version, algorithm):
    """The vectorised occlusion (variants built in feature space, ranked for all applicants at once)
    against one model row per variant, ranked in plain Python; alone and in a batch."""
    make_version(algorithm)
    loaded = engine.loaded_model()
    applicants = pd.DataFrame(generate_applicants(12, seed=21))
    batch = engine.score(applicants)
    for i, applicant in enumerate(applicants.to_dict("records")):
        expected = brute_force_reasons(loaded.model, applicant, loaded.references)
        for scores, row in ((batch, i), (engine.score(pd.DataFrame([applicant])), 0)):
            reasons = scores.reasons[row]
            assert [reason["attribute"] for reason in reasons] == [group for group, _ in expected]
            for reason, (_, log_odds_effect) in zip(reasons, expected, strict=True):
                assert reason["direction"] == ("raises" if log_odds_effect > 0 else "lowers")


@pytest.mark.parametrize("algorithm", ["LogisticRegression", "XGBClassifier"])
def test_large_batches_are_scored_in_chunks_with_the_same_results(make_version, algorithm, monkeypatch):
    """A large batch is scored in chunks, and each variant only for the applicants it changes; a
    small chunk scores every variant row. Both must give the same scores and reasons."""
    make_version(algorithm)
    applicants = pd.DataFrame(generate_applicants(150, seed=22))
    assert len(applicants) >= scoring.engine.SKIP_UNCHANGED_FROM
    assert (applicants["tenor"] == engine.loaded_model().references.tenor).any()  # some rows are left out
    whole = engine.score(applicants)
    monkeypatch.setattr(scoring.engine, "CHUNK_SIZE", 7)
    chunked = engine.score(applicants)  # the last chunk (3 applicants, 30 rows) takes XGBoost's compiled trees
    assert np.abs(chunked.npl_probability - whole.npl_probability).max() <= 1e-12
    assert np.array_equal(chunked.credit_score, whole.credit_score)
    for mine, theirs in zip(chunked.reasons, whole.reasons, strict=True):
        assert [r["attribute"] for r in mine] == [r["attribute"] for r in theirs]
        assert [r["effect"] for r in mine] == pytest.approx([r["effect"] for r in theirs], abs=1e-4)
        assert [r["text"] for r in mine] == [r["text"] for r in theirs]
    plain = engine.score(applicants, with_reasons=False)
    # Without the variants the model multiplies a smaller matrix: the same up to BLAS rounding.
    assert np.abs(plain.npl_probability - whole.npl_probability).max() <= 1e-12 and plain.reasons == [[]] * 150


def test_reasons_are_worded_in_the_language_of_the_scoring_call(make_version):
    make_version("XGBClassifier")
    with translation.override("id"):
        scores = engine.score(pd.DataFrame([RISKY_APPLICANT, VALID_APPLICANT]))
    english = engine.score(pd.DataFrame([RISKY_APPLICANT, VALID_APPLICANT]))
    assert len(scores.reasons) == 2
    indonesian = scores.reasons[0]  # read after the Indonesian block ended
    assert [r["attribute"] for r in indonesian] == [r["attribute"] for r in english.reasons[0]]
    assert indonesian[0]["text"] != english.reasons[0][0]["text"]
    assert indonesian[0]["text"].endswith(("menaikkan risiko", "menurunkan risiko")), indonesian[0]["text"]
    assert scores.reasons[-1] == scores.reasons[1] and scores.reasons[0:2] == [scores.reasons[0], scores.reasons[1]]
    with pytest.raises(IndexError):
        scores.reasons[2]


def test_compiled_xgboost_trees_give_xgboost_s_probabilities(make_version):
    model = load_artifact(make_version("XGBClassifier", activate=False))
    classifier = model.classifier
    compiled = compile_xgboost(classifier)
    assert compiled is not None and compiled.depth >= 1
    features = model.encoder.transform(varied_applicants(5000, seed=23))
    native = classifier.predict_proba(features)[:, 1]
    assert np.array_equal(compiled.npl_probability(features), native)  # bit for bit
    few = features[:MAX_ROWS]
    assert np.array_equal(few_rows_npl_probability(classifier, few), compiled.npl_probability(few))
    assert few_rows_npl_probability(classifier, features) is None  # many rows: left to XGBoost itself
    missing = few.copy()
    missing[0, 0] = np.nan  # XGBoost's default directions decide: left to XGBoost
    assert few_rows_npl_probability(classifier, missing) is None
    # Through the model: a few applicants take the compiled trees, and get CalibratedClassifierCV's
    # probabilities exactly (a threshold is some validation applicant's exact probability).
    applicants = varied_applicants(MAX_ROWS, seed=24)
    assert np.array_equal(model.predict_npl_probability(applicants), model.calibrated.predict_proba(applicants)[:, 1])


@pytest.mark.parametrize(
    ("algorithm", "compile_trees", "library"),
    [
        ("RandomForestClassifier", compile_forest, forest_tree_sums),  # the tree-by-tree sums
        ("DecisionTreeClassifier", compile_tree, lambda tree, rows: tree.predict_proba(rows)[:, 1]),
    ],
)
def test_compiled_scikit_learn_trees_give_scikit_learn_s_probabilities(make_version, algorithm, compile_trees, library):
    model = load_artifact(make_version(algorithm, activate=False))
    classifier = model.classifier
    compiled = compile_trees(classifier)
    assert compiled is not None and compiled.kind == "forest" and compiled.depth >= 1
    rows = model.encoder.transform(varied_applicants(3000, seed=26)).astype(np.float32)
    assert np.array_equal(compiled.npl_probability(rows), library(classifier, rows))  # bit for bit
    # A few applicants, through the compiled trees when they are the faster way: still exactly
    # CalibratedClassifierCV's probabilities.
    applicants = varied_applicants(10, seed=27)
    assert np.array_equal(model.predict_npl_probability(applicants), model.calibrated.predict_proba(applicants)[:, 1])


def test_compiled_trees_of_leaves_only_give_one_probability_per_row():
    """Trees that never split (every tree a single leaf): no traversal step, still a row per input row."""
    rng = np.random.default_rng(28)
    features, labels = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    stumps = xgboost.XGBClassifier(n_estimators=4, gamma=1e9, tree_method="exact").fit(features, labels)
    compiled = compile_xgboost(stumps)
    assert compiled is not None and compiled.depth == 0
    few = features[:5].astype(np.float32)
    assert np.array_equal(compiled.npl_probability(few), stumps.predict_proba(few)[:, 1])


def test_compiled_trees_that_would_differ_from_xgboost_are_not_used(make_version, monkeypatch, caplog):
    model = load_artifact(make_version("XGBClassifier", activate=False))
    assert compile_xgboost(model.classifier) is not None
    monkeypatch.setattr(training.compiled_trees, "_expf", lambda x: math.exp(x) * (1 + 1e-6))
    with caplog.at_level(logging.WARNING, logger="training.compiled_trees"):
        assert compile_xgboost(model.classifier) is None
    assert "differ" in caplog.text


def test_xgboost_shapes_the_compiled_trees_do_not_cover_are_left_to_xgboost(make_version):
    model = load_artifact(make_version("XGBClassifier", activate=False))
    stopped_early = copy.deepcopy(model.classifier)
    stopped_early.get_booster().set_attr(best_iteration="3")
    assert compile_xgboost(stopped_early) is None
    three_classes = xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(
        np.arange(30, dtype=float).reshape(15, 2), np.arange(15) % 3
    )
    assert compile_xgboost(three_classes) is None


@pytest.mark.parametrize("algorithm", ["XGBClassifier", "RandomForestClassifier"])
def test_prediction_threads_do_not_change_the_probabilities(make_version, algorithm):
    model = copy.deepcopy(load_artifact(make_version(algorithm, activate=False)))
    applicants = {name: values.to_numpy() for name, values in varied_applicants(9000, seed=25).items()}
    model.use_prediction_threads(1)
    one_thread = model.predict_npl_probability(applicants)
    model.use_prediction_threads(2)
    assert np.array_equal(model.predict_npl_probability(applicants), one_thread)


def test_engine_caches_the_loaded_artifact(active_version):
    first = engine.loaded_model()
    score_applicants([VALID_APPLICANT], channel="api")
    assert engine.loaded_model() is first
    engine.clear_cache()
    assert engine.loaded_model() is not first


def test_model_admin_reads_the_audit_trail_in_the_admin(model_admin_client, active_version):
    prediction = score_applicants([VALID_APPLICANT], channel="web")[0].prediction
    listing = model_admin_client.get("/admin/scoring/prediction/")
    assert listing.status_code == 200 and str(prediction.pk) in listing.content.decode()
    assert model_admin_client.get(f"/admin/scoring/prediction/{prediction.pk}/change/").status_code == 200
    assert model_admin_client.post(f"/admin/scoring/prediction/{prediction.pk}/delete/").status_code == 403
    assert Prediction.objects.filter(pk=prediction.pk).exists()


# ---------------------------------------------------------------------------------------------
# The model's direct probability path (TrainedNplModel.predict_npl_probability)
# ---------------------------------------------------------------------------------------------


def varied_applicants(count: int, seed: int = 3) -> pd.DataFrame:
    return pd.DataFrame(generate_applicants(count, seed))


@pytest.mark.parametrize("algorithm", TRAINED_ALGORITHMS)
def test_direct_probabilities_equal_calibrated_classifier_for_every_algorithm(make_version, algorithm):
    model = load_artifact(make_version(algorithm, activate=False))
    applicants = varied_applicants(300)
    direct = model.predict_npl_probability(applicants)
    assert np.array_equal(direct, model.calibrated.predict_proba(applicants)[:, 1])
    # Columns in another order, or extra ones, are selected first; plain columns (the engine's) work too.
    shuffled = applicants[list(reversed(applicants.columns))].assign(extra=1)
    assert np.array_equal(model.predict_npl_probability(shuffled), direct)
    assert np.array_equal(model.predict_npl_probability({k: v.to_numpy() for k, v in applicants.items()}), direct)


def test_direct_probabilities_equal_isotonic_calibration(make_version):
    model = load_artifact(make_version("XGBClassifier", activate=False))
    applicants = varied_applicants(400, seed=4)
    labels = (np.random.default_rng(5).uniform(size=400) < model.predict_npl_probability(applicants)).astype(int)
    isotonic = CalibratedClassifierCV(FrozenEstimator(model.pipeline), method="isotonic").fit(applicants, labels)
    model = dataclasses.replace(model, calibrated=isotonic)
    assert model._single_binary_calibrator() is not None
    assert np.array_equal(model.predict_npl_probability(applicants), isotonic.predict_proba(applicants)[:, 1])


def test_other_calibrations_go_through_calibrated_classifier(make_version):
    model = load_artifact(make_version("LogisticRegression", activate=False))
    applicants = varied_applicants(200, seed=6)
    ensemble = copy.deepcopy(model.calibrated)
    second = copy.deepcopy(ensemble.calibrated_classifiers_[0])
    second.calibrators[0].a_ *= 2  # a different second calibration: the average is what counts
    ensemble.calibrated_classifiers_.append(second)
    model = dataclasses.replace(model, calibrated=ensemble)
    assert model._single_binary_calibrator() is None
    expected = ensemble.predict_proba(applicants)[:, 1]
    assert np.array_equal(model.predict_npl_probability(applicants), expected)
    assert np.array_equal(model.predict_npl_probability({k: v.to_numpy() for k, v in applicants.items()}), expected)


@pytest.mark.parametrize("language", ["en", "id"])
def test_reason_amounts_are_written_as_django_number_format_writes_them(language):
    with translation.override(language):
        wording = _Wording.active()
        for value in (0, 7, 999, 1_000, 9_295_094, 300_000_000, 12_345_678_901, -1_500_000):
            assert wording.rupiah(value) == "Rp " + number_format(value, decimal_pos=0, force_grouping=True)
        for ratio in [*np.linspace(0, 1, 2001), 0.1249, 0.12551, 1 / 3, 0.19951, 0.2004]:
            percent = round(ratio * 100, 1)
            decimals = 0 if abs(ratio * 100 - round(ratio * 100)) < 0.05 else 1
            assert wording.percent(ratio) == number_format(percent, decimal_pos=decimals)
    with translation.override("en"):
        assert _Wording.active().gettext("raises risk") == "raises risk"
    with translation.override("id"):
        assert _Wording.active().gettext("raises risk") == translation.gettext("raises risk") != "raises risk"


def test_a_language_s_wording_stays_in_that_language_whatever_is_active_later():
    indonesian = _Wording("id")
    assert indonesian.gettext("raises risk") == _Wording("id").gettext("raises risk")
    with translation.override("en"):
        assert indonesian.gettext("lowers risk") != "lowers risk"
        assert indonesian.percent(0.125) == "12,5"
    assert _Wording("en").percent(0.125) == "12.5"
