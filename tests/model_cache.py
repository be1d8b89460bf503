"""One on-disk cache of generated loan books and trained models, shared by every test folder and every
pytest-xdist worker of a session (and by later sessions while the code they depend on is unchanged).

An entry is a folder ``settings.DATA_DIR / "test-cache" / <name>-<key>`` holding the files it made
(loan books, model artifacts) and ``entry.json`` (what the fixtures need: ModelVersion field dicts,
leaderboards, reference distributions). Its key is a hash of

- the source text of every production ``*.py`` file (everything outside ``tests/``, wherever it
  lives, so moving a module changes nothing but the key) and the pinned requirements, and
- the entry's name and parameters (book size, seed, date, profile, algorithms…),

so a change to the generator, the training code or a library version makes new entries (old ones are
never reused; delete the folder to reclaim the space).

Safe for parallel workers: each key has a lock file (``fcntl.flock``); the first worker to take it
builds the entry in a temporary folder and renames it into place, the others wait and then read it.
Different keys are built at the same time by different workers. :func:`cached_entries` takes the keys
of several entries and builds whichever is not locked by another worker first, so two workers that
need the same six models train three each.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Folders whose files never change a generated book or a trained model.
_NOT_HASHED = {"tests", "benchmarks", "docs", "data", "static", "staticfiles", "templates", "locale", "artifacts"}
ENTRY_FILE = "entry.json"


@cache
def source_hash() -> str:
    """SHA-256 of every production ``*.py`` file (path and text) and the pinned requirements."""
    digest = hashlib.sha256()
    files = []
    for path in PROJECT_DIR.rglob("*.py"):
        relative = path.relative_to(PROJECT_DIR)
        top = relative.parts[0]
        if len(relative.parts) > 1 and (top in _NOT_HASHED or top.startswith(".") or "node_modules" in relative.parts):
            continue
        files.append(relative)
    for name in ("requirements.txt",):
        if (PROJECT_DIR / name).is_file():
            files.append(Path(name))
    for relative in sorted(files, key=str):
        digest.update(str(relative).encode() + b"\0")
        digest.update((PROJECT_DIR / relative).read_bytes() + b"\0")
    # Settings that change what training makes (they may come from the environment).
    training_settings = {name: repr(getattr(settings, name)) for name in dir(settings) if name.startswith("TRAINING_")}
    training_settings["MODEL_PROMOTION_RULE"] = repr(settings.MODEL_PROMOTION_RULE)
    digest.update(json.dumps(training_settings, sort_keys=True).encode())
    return digest.hexdigest()


def cache_root() -> Path:
    root = Path(settings.DATA_DIR) / "test-cache"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _json_default(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {value!r}")


@dataclass(frozen=True)
class Entry:
    """A built cache entry: its folder (read-only for the tests: copy files out before changing them)
    and the JSON its builder returned."""

    folder: Path
    data: dict

    def path(self, name: str) -> Path:
        return self.folder / name


@dataclass(frozen=True)
class Spec:
    """What to cache: ``build(folder)`` writes its files into ``folder`` and returns JSON-able data."""

    name: str
    parameters: dict
    build: Callable[[Path], dict]

    @property
    def key(self) -> str:
        text = json.dumps(
            {"name": self.name, "parameters": self.parameters, "source": source_hash()},
            sort_keys=True,
            default=_json_default,
        )
        return f"{self.name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"

    @property
    def folder(self) -> Path:
        return cache_root() / self.key


def _read(folder: Path) -> Entry | None:
    entry_file = folder / ENTRY_FILE
    if not entry_file.is_file():
        return None
    return Entry(folder, json.loads(entry_file.read_text()))


def _build_locked(spec: Spec) -> Entry:
    """Build ``spec`` (its lock is held): in a temporary folder, renamed into place when complete."""
    existing = _read(spec.folder)
    if existing is not None:
        return existing
    if spec.folder.exists():  # a leftover without entry.json (an interrupted rename cannot leave one)
        shutil.rmtree(spec.folder)
    temporary = Path(tempfile.mkdtemp(prefix=f".{spec.key}-", dir=cache_root()))
    try:
        data = spec.build(temporary)
        (temporary / ENTRY_FILE).write_text(json.dumps(data, default=_json_default, sort_keys=True))
        os.rename(temporary, spec.folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return _read(spec.folder)


@contextlib.contextmanager
def _lock(spec: Spec, *, blocking: bool):
    """Hold the key's lock (yields True), or yield False at once if another process holds it and
    ``blocking`` is off."""
    with open(cache_root() / f"{spec.key}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached(spec: Spec) -> Entry:
    """The entry of ``spec``: read from the cache, or built now (once across parallel workers)."""
    entry = _read(spec.folder)
    if entry is not None:
        return entry
    with _lock(spec, blocking=True):
        return _build_locked(spec)


def cached_entries(specs: list[Spec], *, prepare: Callable[[], None] | None = None) -> list[Entry]:
    """The entries of several specs, in order. Builds first what no other worker is building
    (``prepare()`` runs once before the first build here, e.g. to import the book the builds train on),
    then waits for the rest."""
    entries: dict[int, Entry] = {}
    prepared = False
    while len(entries) < len(specs):
        progressed = False
        for index, spec in enumerate(specs):
            if index in entries:
                continue
            entry = _read(spec.folder)
            if entry is None:
                with _lock(spec, blocking=False) as held:
                    if not held:
                        continue
                    if _read(spec.folder) is None and prepare is not None and not prepared:
                        prepare()
                        prepared = True
                    entry = _build_locked(spec)
            entries[index] = entry
            progressed = True
        if not progressed:  # every remaining entry is being built by another worker
            time.sleep(0.5)
    return [entries[index] for index in range(len(specs))]


def copy_artifacts(entry: Entry, destination: Path) -> None:
    """Copy the model artifacts of ``entry`` (its ``artifacts/`` folder) into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for artifact in (entry.folder / "artifacts").iterdir():
        target = destination / artifact.name
        if not target.exists():
            shutil.copyfile(artifact, target)


def cached_loan_book(
    applicants: int, seed: int, as_of: date, *, shift: str | None = None, **arguments
) -> tuple[Path, Path]:
    """``(loans.csv, truth.csv)`` of ``write_loan_book(applicants, seed, as_of, shift=…, **arguments)``
    (``first_app_id``, ``book_as_of``), generated once. Read-only: copy before changing."""
    from applicants.generator import parse_shift, write_loan_book

    def build(folder: Path) -> dict:
        write_loan_book(
            folder / "loans.csv",
            folder / "truth.csv",
            applicants,
            seed=seed,
            as_of=as_of,
            shift=parse_shift(shift) if shift else None,
            **arguments,
        )
        return {}

    parameters = {"applicants": applicants, "seed": seed, "as_of": as_of, "shift": shift, **arguments}
    entry = cached(Spec("book", parameters, build))
    return entry.path("loans.csv"), entry.path("truth.csv")


# The ModelVersion fields a session fixture copies from a trained version, so tests can store fresh
# rows that point at the same verified artifact (tests.support.VERSION_FIELDS).
def training_spec(
    name: str,
    *,
    book: dict,
    profile: str,
    algorithms: tuple[str, ...],
    balancings: tuple[str, ...] = ("class_weight",),
    seed: int = 7,
    source: str = "",
) -> Spec:
    """A model trained through ``training.services.train_model_version`` on the imported ``book``
    (``{"applicants", "seed", "as_of"}`` of :func:`cached_loan_book`, already imported by the caller)
    with ``narrowed_profile(profile, algorithms, balancings)``, as the only version (no champion): the
    entry holds its artifact (``artifacts/``) and ``{"fields", "leaderboard", "validation", "reference"}``
    (``validation``: the version's validation record, ``training.models.VersionValidation``'s fields)."""

    def build(folder: Path) -> dict:
        from django.db import transaction
        from django.test import override_settings

        from credit.model_search import narrowed_profile
        from monitoring.models import ReferenceDistribution
        from tests.support import VERSION_FIELDS
        from training.models import TrainingRun, VersionValidation
        from training.services import train_model_version

        with override_settings(MODEL_ARTIFACT_DIR=folder / "artifacts"), transaction.atomic():
            run = TrainingRun.objects.create(parameters={"profile": profile, "source": source or name})
            narrowed = narrowed_profile(profile, algorithms=algorithms, balancings=balancings)
            version = train_model_version(run, profile=narrowed, as_of=book["as_of"], seed=seed)
            run.refresh_from_db()
            stored = ReferenceDistribution.objects.filter(model_version=version).first()
            validation = VersionValidation.objects.get(model_version=version)
            data = {
                "fields": {field: getattr(version, field) for field in VERSION_FIELDS},
                "leaderboard": run.leaderboard,
                "validation": {
                    "test_predictions": validation.test_predictions,
                    "figures": validation.figures,
                    "scorecard": validation.scorecard,
                },
                "reference": None
                if stored is None
                else {
                    "applicants": stored.applicants,
                    "attributes": stored.attributes,
                    "score": stored.score,
                    "source": stored.source,
                },
            }
            transaction.set_rollback(True)  # every version is trained as the first: no champion
        return data

    parameters = {
        "book": book,
        "profile": profile,
        "algorithms": list(algorithms),
        "balancings": list(balancings),
        "seed": seed,
        "source": source,
    }
    return Spec(name, parameters, build)


def trained_models(django_db_blocker, specs: list[Spec], book: dict) -> list[Entry]:
    """The entries of ``training_spec``s that all train on ``book``: read from the cache, or trained on
    the test database (the book imported in a transaction that is rolled back, so the database is left
    as it was)."""
    from django.db import connection, transaction

    from applicants.services import import_loan_file

    loans, _ = cached_loan_book(book["applicants"], book["seed"], book["as_of"])
    with django_db_blocker.unblock(), transaction.atomic():
        # Only ever on the test database (a session sets it up only for tests that use `db`).
        assert "test" in str(connection.settings_dict["NAME"]), connection.settings_dict["NAME"]
        entries = cached_entries(specs, prepare=lambda: import_loan_file(loans, as_of=book["as_of"]))
        transaction.set_rollback(True)
    return entries
