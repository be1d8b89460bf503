"""Artifacts: written atomically, recorded with their hash, refused when they are not what was recorded."""

import hashlib

import pytest

from credit.encoder import APPLICANT_ATTRIBUTES
from credit.trained_model import TrainedNplModel
from training.artifacts import (
    ArtifactIntegrityError,
    load_artifact,
    save_artifact,
    write_artifact_bytes,
)

pytestmark = pytest.mark.django_db


def test_saved_artifact_is_recorded_with_its_hash_and_loads_back(register_version, smoke_search, artifact_dir):
    version = register_version()
    path = artifact_dir / version.artifact_path

    data = path.read_bytes()
    assert version.artifact_sha256 == hashlib.sha256(data).hexdigest()
    assert version.artifact_size == len(data)

    model = load_artifact(version)
    assert isinstance(model, TrainedNplModel)
    assert model.threshold == smoke_search.model.threshold
    assert model.feature_names == smoke_search.model.feature_names
    # The encoder travels inside the artifact: raw attributes in, the same probabilities out.
    applicants = smoke_search.split.test[APPLICANT_ATTRIBUTES]
    assert (model.predict_npl_probability(applicants) == smoke_search.model.predict_npl_probability(applicants)).all()


def test_a_changed_file_is_refused_before_unpickling(register_version, artifact_dir):
    version = register_version()
    path = artifact_dir / version.artifact_path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(ArtifactIntegrityError, match="SHA-256"):
        load_artifact(version)


def test_a_replaced_file_of_another_size_is_refused(register_version, artifact_dir):
    version = register_version()
    (artifact_dir / version.artifact_path).write_bytes(b"not the model")
    with pytest.raises(ArtifactIntegrityError, match="bytes, but"):
        load_artifact(version)


def test_a_missing_file_is_refused_with_a_clear_message(register_version, artifact_dir):
    version = register_version()
    (artifact_dir / version.artifact_path).unlink()
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        load_artifact(version)


def test_a_wrong_recorded_hash_is_refused(register_version):
    version = register_version()
    version.artifact_sha256 = "0" * 64
    with pytest.raises(ArtifactIntegrityError, match="refusing to load"):
        load_artifact(version)


def test_writes_leave_no_temporary_files(smoke_search, artifact_dir):
    first = save_artifact(smoke_search.model, "LogisticRegression-class_weight")
    again = save_artifact(smoke_search.model, "LogisticRegression-class_weight")

    assert again == first  # the same model serialises to the same bytes and the same name
    assert [p.name for p in artifact_dir.iterdir()] == [first.path]


def test_a_failed_write_leaves_the_folder_as_it_was(artifact_dir):
    stored = write_artifact_bytes(b"the first version", "model.joblib")
    # A directory stands where the new file should go: the final rename fails.
    (artifact_dir / "blocked.joblib").mkdir()

    with pytest.raises(OSError):
        write_artifact_bytes(b"x" * 1000, "blocked.joblib")

    assert sorted(p.name for p in artifact_dir.iterdir()) == ["blocked.joblib", "model.joblib"]
    assert (artifact_dir / "blocked.joblib").is_dir()
    assert (artifact_dir / stored.path).read_bytes() == b"the first version"


def test_replacing_a_file_swaps_it_whole(artifact_dir):
    write_artifact_bytes(b"old contents", "model.joblib")
    stored = write_artifact_bytes(b"new contents, longer than the old", "model.joblib")
    assert (artifact_dir / "model.joblib").read_bytes() == b"new contents, longer than the old"
    assert stored.size == len(b"new contents, longer than the old")
    assert [p.name for p in artifact_dir.iterdir()] == ["model.joblib"]


def test_file_names_cannot_leave_the_artifact_folder():
    with pytest.raises(ValueError, match="bare name"):
        write_artifact_bytes(b"x", "../escape.joblib")
