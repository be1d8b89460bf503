"""Fault: the active model's artifact file is deleted or altered while the site runs.

Once the process reads the active version again (within a second; it then compares the file's
``stat`` signature with the verified one), scoring answers 503 with a message naming the version
and logs the file; ``/healthz`` reports the active model down at once; activating a version with
a good artifact restores both — in this very process, which had the damaged artifact loaded and
cached before the damage.
"""

import logging

import pytest

from scoring.models import Prediction
from tests.support import VALID_APPLICANT
from training.services import activate_model_version

pytestmark = pytest.mark.django_db(transaction=True)  # /healthz checks on connections of its own

SCORE = "/api/v1/score"


def _damage(path, how: str) -> None:
    if how == "deleted":
        path.unlink()
    else:  # one byte flipped in the middle: same size, different SHA-256
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["deleted", "altered"])
def test_a_damaged_active_artifact_is_503_and_unhealthy_until_a_good_version_is_activated(
    how, analyst_api, make_version, artifact_folder, client, caplog, monkeypatch
):
    clock = [1000.0]
    monkeypatch.setattr("scoring.engine.time.monotonic", lambda: clock[0])
    good = make_version(f"reliability-good-{how}.joblib", activate=False)
    active = make_version(f"reliability-active-{how}.joblib")
    assert analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code == 200  # loaded and cached
    assert client.get("/healthz").json()["active_model"] == {"ok": True, "detail": active.name}

    _damage(artifact_folder / active.artifact_path, how)
    clock[0] += 0.5  # within the second the active version is not read again: the verified model scores
    assert analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code == 200
    clock[0] += 0.5  # a second on: the file is compared with the one verified, and refused
    with caplog.at_level(logging.ERROR, logger="scoring.engine"):
        response = analyst_api.post(SCORE, VALID_APPLICANT, format="json")
    health = client.get("/healthz")

    assert response.status_code == 503
    detail = response.json()["detail"]
    assert f"#{active.pk} cannot be used" in detail and "integrity check" in detail
    assert str(artifact_folder) not in detail  # no server paths in answers
    logged = [r.getMessage() for r in caplog.records if r.name == "scoring.engine" and r.levelno == logging.ERROR]
    assert any(active.artifact_path in message for message in logged), logged
    assert Prediction.objects.count() == 2  # nothing stored for the refused request
    assert health.status_code == 503
    model_check = health.json()["active_model"]
    assert model_check["ok"] is False
    assert active.artifact_path in model_check["detail"]
    assert ("missing" if how == "deleted" else "does not match its recorded SHA-256") in model_check["detail"]
    assert str(artifact_folder) not in health.content.decode()

    activate_model_version(good)

    assert analyst_api.post(SCORE, VALID_APPLICANT, format="json").status_code == 200
    assert client.get("/healthz").json()["active_model"] == {"ok": True, "detail": good.name}
    assert Prediction.objects.filter(model_version=good).count() == 1


def test_a_damaged_version_cannot_be_activated(make_version, artifact_folder):
    from training.services import ModelActivationError

    damaged = make_version("reliability-damaged-candidate.joblib", activate=False)
    _damage(artifact_folder / damaged.artifact_path, "altered")
    with pytest.raises(ModelActivationError, match="SHA-256"):
        activate_model_version(damaged)
