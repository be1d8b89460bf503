"""The active-model check of ``/healthz`` (``settings.HEALTHCHECK_ACTIVE_MODEL``; nplsite/health.py runs it)."""

import os

from django.db import connections

from nplsite.health import CheckResult
from training.artifacts import ArtifactIntegrityError, artifact_file_signature, read_verified_bytes
from training.selectors import get_active_model_version


def check_active_model() -> CheckResult:
    """The active version exists and its artifact is the file its hash was recorded for."""
    try:
        version = get_active_model_version()
    finally:
        connections["default"].close()
    if version is None:
        return CheckResult(False, "no active model version")
    problem = _artifact_problem(version)
    if problem:
        return CheckResult(False, f"{version.name} #{version.pk}: {problem}")
    return CheckResult(True, version.name)


# (artifact path, SHA-256) → stat signature of the file when its bytes last matched that hash.
_verified_artifacts: dict[tuple[str, str], tuple] = {}


def _artifact_problem(version) -> str:
    """Why the active version's artifact is unusable ("" when it is fine), as scoring would find it.

    The file must exist with the recorded size and SHA-256. Hashing is done again only when the
    file's stat signature (inode, size, mtime, ctime) changed since it last matched, so a probe
    every few seconds costs one ``stat``. Names the file, never the server's folders.
    """
    name = os.path.basename(version.artifact_path)
    signature = artifact_file_signature(version.artifact_path)
    if signature is None:
        return f"artifact file {name} is missing"
    if signature[1] != version.artifact_size:
        return f"artifact file {name} is {signature[1]} bytes, {version.artifact_size} recorded"
    key = (version.artifact_path, version.artifact_sha256)
    if _verified_artifacts.get(key) == signature:
        return ""
    try:
        read_verified_bytes(version.artifact_path, version.artifact_sha256, version.artifact_size)
    except ArtifactIntegrityError:
        return f"artifact file {name} does not match its recorded SHA-256"
    _verified_artifacts[key] = signature
    return ""
