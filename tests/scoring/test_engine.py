"""The scoring engine and service: active version, switching, failures, reasons, persistence."""

import logging
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.formats import number_format

import scoring.engine
from applicants.generator import generate_applicants
from credit.reasons import REASON_GROUPS
from scoring.engine import ModelArtifactUnavailableError, NoActiveModelError, engine
from scoring.models import Prediction
from scoring.reason_wording import STORED_KEYS, ReasonWording, worded_reasons
from scoring.services import ApplicantDataError, score_applicants
from tests.scoring.conftest import RISKY_APPLICANT, TRAINED_ALGORITHMS
from tests.support import VALID_APPLICANT
from training.artifacts import load_artifact
from training.models import ModelVersion
from training.services import activate_model_version

REASON_TEXT = re.compile(r"^.+: .+; typical .+ — (raises|lowers) risk$")


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


@pytest.fixture
def clock(monkeypatch):
    """The engine's clock, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr("scoring.engine.time.monotonic", lambda: now[0])
    return now


def test_the_process_that_activates_another_version_follows_it_at_once(make_version, clock):
    first = make_version("LogisticRegression")
    second = make_version("XGBClassifier", activate=False)
    before = score_applicants([RISKY_APPLICANT], channel="api")[0]
    activate_model_version(second)  # the clock stands still: no second has passed
    after = score_applicants([RISKY_APPLICANT], channel="api")[0]
    assert before.prediction.model_version_id == first.pk
    assert after.prediction.model_version_id == second.pk
    expected = load_artifact(second).predict_npl_probability(pd.DataFrame([RISKY_APPLICANT]))[0]
    assert after.prediction.npl_probability == pytest.approx(expected, abs=1e-12)
    assert after.prediction.npl_probability != pytest.approx(before.prediction.npl_probability)


def test_another_process_s_activation_is_followed_within_a_second_without_a_query_before(make_version, clock):
    """Another process activates a version: nothing reaches this process but the database row
    (written here without the ORM's signals), read again once the last reading is a second old."""
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
    clock[0] += 0.1
    assert score_applicants([RISKY_APPLICANT], channel="api")[0].prediction.model_version_id == second.pk
    ModelVersion.objects.filter(pk=second.pk).update(is_active=False)
    clock[0] += 1.0
    with pytest.raises(NoActiveModelError):
        score_applicants([RISKY_APPLICANT], channel="api")


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


def shown_direction(recommendation: str) -> str | None:
    """The direction of the reasons an applicant with this recommendation is shown (None: either)."""
    return {"approve": "lowers", "decline": "raises"}.get(recommendation)


@pytest.mark.parametrize("algorithm", TRAINED_ALGORITHMS)
def test_reasons_are_worded_with_the_typical_value_for_every_algorithm(make_version, algorithm):
    make_version(algorithm)
    results = score_applicants([RISKY_APPLICANT, VALID_APPLICANT], channel="api")
    for result, applicant in zip(results, [RISKY_APPLICANT, VALID_APPLICANT], strict=True):
        prediction = result.prediction
        wanted = shown_direction(prediction.recommendation)
        assert all(tuple(reason) == STORED_KEYS for reason in prediction.reasons), "stored as data, not words"
        for reason in worded_reasons(prediction.reasons, prediction.input_attributes):
            assert reason["attribute"] in REASON_GROUPS
            assert REASON_TEXT.match(reason["text"]), reason["text"]
            assert f"{reason['label']}: {reason['value_text']}; typical {reason['typical_text']}" in reason["text"]
            assert reason["value"] == applicant[reason["attribute"]]
            assert reason["direction"] == wanted or wanted is None
    risky = results[0].prediction
    assert risky.recommendation == "decline" and 1 <= len(risky.reasons) <= 3


def test_reason_effect_is_the_change_against_a_typical_applicant(make_version):
    version = make_version("XGBClassifier")
    model = load_artifact(version)
    typical = model.metadata["reference_values"]
    result = score_applicants([RISKY_APPLICANT], channel="api")[0]
    by_attribute = {reason["attribute"]: reason for reason in result.prediction.reasons}
    assert by_attribute, "the risky applicant has reasons"
    for attribute, reason in by_attribute.items():
        changed = dict(RISKY_APPLICANT)
        if attribute == "dp":
            changed["dp"] = round(typical["dp_ratio"] * RISKY_APPLICANT["otr"])
        elif attribute == "otr":
            ratio = RISKY_APPLICANT["dp"] / RISKY_APPLICANT["otr"]
            changed.update(otr=typical["otr"], dp=round(ratio * typical["otr"]))
        else:
            changed[attribute] = typical[attribute]
        assert reason["typical_value"] == changed[attribute]
        own, made_typical = model.predict_npl_probability(pd.DataFrame([RISKY_APPLICANT, changed]))
        assert reason["effect"] == pytest.approx(own - made_typical, abs=1e-4)


def test_down_payment_reason_shows_the_applicant_s_share_beside_the_typical_one(make_version):
    make_version("LogisticRegression")
    typical = engine.loaded_model().references.dp_ratio
    low_dp = {**RISKY_APPLICANT, "dp": 20_000_000}  # 5 % of the price
    prediction = score_applicants([low_dp], channel="api")[0].prediction
    dp = next(reason for reason in prediction.reasons if reason["attribute"] == "dp")
    assert dp["value"] == 20_000_000 and dp["typical_value"] == round(typical * low_dp["otr"])
    typical_percent = number_format(round(typical * 100, 1), decimal_pos=0 if round(typical * 100, 1) % 1 == 0 else 1)
    english = worded_reasons([dp], prediction.input_attributes, "en")[0]
    assert english["text"] == (
        f"Down payment: 5 % of the vehicle price; typical {typical_percent} % of the vehicle price — raises risk"
    )
    indonesian = worded_reasons([dp], prediction.input_attributes, "id")[0]
    assert indonesian["text"].startswith("Uang muka: 5 % dari harga kendaraan; biasanya "), indonesian["text"]


def test_an_approved_applicant_is_shown_what_lowers_the_risk(make_version):
    make_version("LogisticRegression")
    safe = {**VALID_APPLICANT, "monthly_income": 40_000_000, "dp": 140_000_000, "lama_bekerja": 12}
    prediction = score_applicants([safe], channel="api")[0].prediction
    assert prediction.recommendation == "approve"
    assert prediction.reasons and {reason["direction"] for reason in prediction.reasons} == {"lowers"}


def brute_force_reasons(model, applicant: dict, references, recommendation: str) -> list[tuple[str, float]]:
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
    wanted = shown_direction(recommendation)
    shown = [e for e in effects if abs(e[1]) >= 0.01 and (wanted is None or (e[1] > 0) == (wanted == "raises"))]
    return sorted(shown, key=lambda e: -abs(e[1]))[:3]


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
    """The vectorised occlusion (all variants stacked into one model call, ranked for all applicants
    at once) against one model row per variant, ranked in plain Python; alone and in a batch."""
    make_version(algorithm)
    loaded = engine.loaded_model()
    applicants = pd.DataFrame(generate_applicants(12, seed=21))
    batch = engine.score(applicants)
    for i, applicant in enumerate(applicants.to_dict("records")):
        expected = brute_force_reasons(loaded.model, applicant, loaded.references, batch.recommendation[i])
        for scores, row in ((batch, i), (engine.score(pd.DataFrame([applicant])), 0)):
            reasons = scores.reasons[row]
            assert [reason["attribute"] for reason in reasons] == [group for group, _ in expected]
            for reason, (_, log_odds_effect) in zip(reasons, expected, strict=True):
                assert reason["direction"] == ("raises" if log_odds_effect > 0 else "lowers")


@pytest.mark.parametrize("algorithm", ["LogisticRegression", "XGBClassifier"])
def test_large_batches_are_scored_in_chunks_with_the_same_results(make_version, algorithm, monkeypatch):
    make_version(algorithm)
    applicants = pd.DataFrame(generate_applicants(150, seed=22))
    whole = engine.score(applicants)
    monkeypatch.setattr(scoring.engine, "CHUNK_SIZE", 7)
    chunked = engine.score(applicants)
    assert np.abs(chunked.npl_probability - whole.npl_probability).max() <= 1e-12
    assert np.array_equal(chunked.credit_score, whole.credit_score)
    for mine, theirs in zip(chunked.reasons, whole.reasons, strict=True):
        assert [r["attribute"] for r in mine] == [r["attribute"] for r in theirs]
        assert [r["effect"] for r in mine] == pytest.approx([r["effect"] for r in theirs], abs=1e-4)
        assert [(r["value"], r["typical_value"], r["direction"]) for r in mine] == [
            (r["value"], r["typical_value"], r["direction"]) for r in theirs
        ]
    plain = engine.score(applicants, with_reasons=False)
    assert np.abs(plain.npl_probability - whole.npl_probability).max() <= 1e-12 and plain.reasons == [[]] * 150


def test_reasons_are_stored_as_data_and_worded_in_the_reader_s_language(make_version):
    """Whoever scored it and whatever language was active then, a prediction's reasons are data; the
    same stored reasons read in English on an English page and in Indonesian on an Indonesian one."""
    make_version("XGBClassifier")
    with translation.override("id"):
        scored_in_indonesian = score_applicants([RISKY_APPLICANT], channel="api")[0].prediction
    scored_in_english = score_applicants([RISKY_APPLICANT], channel="api")[0].prediction
    stored = Prediction.objects.get(pk=scored_in_indonesian.pk).reasons
    assert stored == Prediction.objects.get(pk=scored_in_english.pk).reasons
    assert stored and all(set(reason) == set(STORED_KEYS) for reason in stored)
    with translation.override("en"):
        english = worded_reasons(stored, RISKY_APPLICANT)
    with translation.override("id"):
        indonesian = worded_reasons(stored, RISKY_APPLICANT)
    assert [r["attribute"] for r in indonesian] == [r["attribute"] for r in english]
    assert "; typical " in english[0]["text"] and "; biasanya " in indonesian[0]["text"], indonesian[0]["text"]
    assert indonesian[0]["text"].endswith(("menaikkan risiko", "menurunkan risiko")), indonesian[0]["text"]


def test_the_engine_s_reasons_are_read_per_applicant(make_version):
    make_version("XGBClassifier")
    scores = engine.score(pd.DataFrame([RISKY_APPLICANT, VALID_APPLICANT]))
    assert len(scores.reasons) == 2
    assert scores.reasons[-1] == scores.reasons[1] and scores.reasons[0:2] == [scores.reasons[0], scores.reasons[1]]
    with pytest.raises(IndexError):
        scores.reasons[2]


def test_reasons_stored_with_words_before_are_worded_again_in_the_reader_s_language():
    """Predictions stored before reasons were data carry English words too: they are ignored."""
    old = {
        "attribute": "tenor",
        "label": "Tenor",
        "value": 48,
        "typical_value": 36,
        "value_text": "48 months",
        "typical_text": "36 months",
        "direction": "raises",
        "effect": 0.0312,
        "text": "Tenor: 48 months; typical 36 months — raises risk",
    }
    category = {"attribute": "pekerjaan", "value": "Wiraswasta", "typical_value": None, "direction": "lowers"}
    category["effect"] = -0.01
    with translation.override("id"):
        tenor, job = worded_reasons([old, category], {"otr": 100_000_000, "dp": 20_000_000})
        average = translation.gettext("the average of all categories")
    assert tenor["text"] == "Tenor: 48 bulan; biasanya 36 bulan — menaikkan risiko", tenor["text"]
    assert job["typical_text"] == average != "the average of all categories"
    assert set(tenor) == {*STORED_KEYS, "label", "value_text", "typical_text", "text"}


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
# Probabilities are the public library call's
# ---------------------------------------------------------------------------------------------


def varied_applicants(count: int, seed: int = 3) -> pd.DataFrame:
    return pd.DataFrame(generate_applicants(count, seed))


@pytest.mark.parametrize("algorithm", TRAINED_ALGORITHMS)
def test_engine_probabilities_are_the_calibrated_classifier_s_for_every_algorithm(make_version, algorithm):
    """Alone, in a batch and with the occlusion variants stacked under the applicants: every
    probability is the model's own ``predict_npl_probability`` on the applicant's own row."""
    model = load_artifact(make_version(algorithm))
    applicants = varied_applicants(300)
    expected = model.predict_npl_probability(applicants)
    assert np.abs(engine.score(applicants).npl_probability - expected).max() <= 1e-12
    assert np.abs(engine.score(applicants, with_reasons=False).npl_probability - expected).max() <= 1e-12
    one = engine.score(applicants.iloc[[7]]).npl_probability[0]
    assert abs(one - expected[7]) <= 1e-12
    # Columns in another order, or extra ones, are selected first; plain columns work too.
    shuffled = applicants[list(reversed(applicants.columns))].assign(extra=1)
    assert np.array_equal(model.predict_npl_probability(shuffled), expected)
    assert np.array_equal(model.predict_npl_probability({k: v.to_numpy() for k, v in applicants.items()}), expected)


@pytest.mark.parametrize("language", ["en", "id"])
def test_reason_amounts_are_written_as_django_number_format_writes_them(language):
    with translation.override(language):
        wording = ReasonWording.of()
        for value in (0, 7, 999, 1_000, 9_295_094, 300_000_000, 12_345_678_901, -1_500_000):
            assert wording.rupiah(value) == "Rp " + number_format(value, decimal_pos=0, force_grouping=True)
        for ratio in [*np.linspace(0, 1, 2001), 0.1249, 0.12551, 1 / 3, 0.19951, 0.2004]:
            percent = round(ratio * 100, 1)
            decimals = 0 if abs(ratio * 100 - round(ratio * 100)) < 0.05 else 1
            assert wording.percent(ratio) == number_format(percent, decimal_pos=decimals)
    with translation.override("en"):
        assert ReasonWording.of().gettext("raises risk") == "raises risk"
    with translation.override("id"):
        assert ReasonWording.of().gettext("raises risk") == translation.gettext("raises risk") != "raises risk"


def test_a_language_s_wording_stays_in_that_language_whatever_is_active_later():
    indonesian = ReasonWording("id")
    assert indonesian.gettext("raises risk") == ReasonWording("id").gettext("raises risk")
    with translation.override("en"):
        assert indonesian.gettext("lowers risk") != "lowers risk"
        assert indonesian.percent(0.125) == "12,5"
    assert ReasonWording("en").percent(0.125) == "12.5"
