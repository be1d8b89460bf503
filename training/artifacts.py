"""Model artifacts on disk: written atomically, recorded with their SHA-256, verified before loading.

An artifact is a joblib file holding one :class:`credit.trained_model.TrainedNplModel` (the fitted,
calibrated pipeline with its encoder, the threshold, the feature names, metadata). It lives in
``settings.MODEL_ARTIFACT_DIR``; the database records its file name, SHA-256 and size.

Unpickling runs code, so :func:`load_artifact` reads the file, checks its size and SHA-256 against
the database record, and only then unpickles those very bytes: a file that was replaced, truncated
or tampered with is refused with :class:`ArtifactIntegrityError`, never loaded.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import joblib
from django.conf import settings

from credit.trained_model import ARTIFACT_FORMAT_VERSION, TrainedNplModel


class ArtifactIntegrityError(Exception):
    """A model artifact is missing, or is not the file that was recorded when it was trained."""


@dataclass(frozen=True)
class StoredArtifact:
    path: str  # file name inside MODEL_ARTIFACT_DIR (what the database stores)
    sha256: str
    size: int


def artifact_dir() -> Path:
    return Path(settings.MODEL_ARTIFACT_DIR)


def resolve_artifact_path(stored_path: str) -> Path:
    """An artifact's file: a bare name is inside ``MODEL_ARTIFACT_DIR``; an absolute path stays as is."""
    path = Path(stored_path)
    return path if path.is_absolute() else artifact_dir() / path


def artifact_file_signature(stored_path: str) -> tuple[int, int, int, int] | None:
    """(inode, size, mtime, ctime) of an artifact's file, or ``None`` when it is missing.

    One ``stat``: a cheap way for a process that verified the file earlier to notice that it was
    deleted, replaced or written to since (any write changes the ctime), and verify it again.
    """
    try:
        # os.path rather than resolve_artifact_path: the same file (an absolute stored path wins the
        # join), without building Path objects on every score.
        stat = os.stat(os.path.join(settings.MODEL_ARTIFACT_DIR, stored_path))
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. a platform that cannot open directories; the file itself is synced
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_artifact_bytes(data: bytes, file_name: str) -> StoredArtifact:
    """Write ``data`` as ``file_name`` in the artifact directory atomically.

    The bytes go to a temporary file in the same directory, are flushed and fsynced, and the file
    is then renamed over the final name with ``os.replace``: a reader sees either no file or the
    whole file, never a partial one, even if the process dies mid-write.
    """
    directory = artifact_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if Path(file_name).name != file_name:
        raise ValueError(f"Artifact file name must be a bare name, got {file_name!r}")
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{file_name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, directory / file_name)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(directory)
    return StoredArtifact(path=file_name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def save_artifact(model: TrainedNplModel, file_stem: str) -> StoredArtifact:
    """Serialise ``model`` with joblib and store it atomically as ``<file_stem>-<sha256[:12]>.joblib``."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    safe_stem = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in file_stem).strip("-.") or "model"
    return write_artifact_bytes(data, f"{safe_stem}-{digest[:12]}.joblib")


def read_verified_bytes(stored_path: str, expected_sha256: str, expected_size: int | None = None) -> bytes:
    """The artifact's bytes, after checking they are the recorded ones; raises ArtifactIntegrityError."""
    path = resolve_artifact_path(stored_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactIntegrityError(f"Model artifact {path.name} is missing: retrain or restore the file.") from None
    except OSError as exc:
        raise ArtifactIntegrityError(
            f"Model artifact {path.name} cannot be read: {exc.strerror or type(exc).__name__}"
        ) from exc
    if expected_size is not None and len(data) != expected_size:
        raise ArtifactIntegrityError(
            f"Model artifact {path.name} is {len(data)} bytes, but {expected_size} were recorded: refusing to load it."
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != (expected_sha256 or "").lower():
        raise ArtifactIntegrityError(
            f"Model artifact {path.name} has SHA-256 {digest}, but {expected_sha256} was recorded: "
            "the file was changed after training; refusing to load it."
        )
    return data


def load_artifact(model_version) -> TrainedNplModel:
    """The :class:`TrainedNplModel` of a ``ModelVersion``, verified against its recorded hash and size."""
    data = read_verified_bytes(model_version.artifact_path, model_version.artifact_sha256, model_version.artifact_size)
    model = joblib.load(io.BytesIO(data))
    if not isinstance(model, TrainedNplModel):
        raise ArtifactIntegrityError(
            f"Model artifact of {model_version} holds a {type(model).__name__}, not a trained NPL model."
        )
    if model.format_version != ARTIFACT_FORMAT_VERSION:
        raise ArtifactIntegrityError(
            f"Model artifact of {model_version} has format {model.format_version}; this version of the "
            f"product reads format {ARTIFACT_FORMAT_VERSION}: train a new version (`python manage.py train`, "
            "or Models → Retrain) and activate it."
        )
    return model
