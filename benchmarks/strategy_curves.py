"""Cost of the strategy curves a Model admin sees before changing the decision policy.

Usage::

    .venv/bin/python benchmarks/strategy_curves.py [--applicants 10000] [--repeats 5]

Self-contained: a fresh SQLite database and artifact folder in a temporary directory (your data
folder is not touched), a generated loan book imported, one model trained (XGBoost, class weights,
quick profile). Then, each timed ``--repeats`` times, the calls taking turns so that the shared
machine's changes of speed touch them alike (medians in milliseconds):

- **labelling** — ``labelled_applicants_frame(as_of)`` alone: what training itself reads; the
  baseline, since the strategy must label the book as of the version's date to rebuild its test
  applicants;
- **test applicants** — ``strategy.test_applicants()``: that labelling, the test applicants picked
  out, and the engine's probabilities for them (no reasons, nothing stored);
- **curves** — ``strategy.curve`` on those applicants: the scorecard's decisions at every approve
  cut-off from 300 to 850 (111 points);
- **preview page** — ``POST /policies/new/`` with ``action=preview`` through Django's WSGI handler
  (test client), everything the Model admin waits for, beside **the policy list page** (``GET
  /policies/``) as the cost of any page.

There is no target in the issue; the figures say what a preview costs as a book grows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from benchmark_setup import setup_django  # noqa: E402 (a module beside this script)


def timed_together(functions: dict, repeats: int) -> dict[str, float]:
    """Median milliseconds of each function, the functions taking turns call by call (after one warm-up)."""
    for function in functions.values():
        function()
    samples = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            started = time.perf_counter()
            function()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=10_000, help="size of the generated loan book")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls of each (default 5)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="npl-strategy-"))
    setup_django(
        workdir,
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        STATIC_ROOT=str(workdir / "static"),  # production pages need the collected files' manifest
    )
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    from applicants.generator import write_loan_book
    from applicants.selectors import labelled_applicants_frame
    from applicants.services import import_loan_file
    from credit import strategy as credit_strategy
    from credit.model_search import narrowed_profile
    from nplsite.roles import MODEL_ADMIN
    from scoring import strategy
    from scoring.policies import POLICY_FIELDS, policy_parameters
    from scoring.policy_services import ensure_active_policy
    from training.models import TrainingRun
    from training.services import train_model_version

    print(f"Setting up in {workdir} …", file=sys.stderr)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    as_of = date(2024, 6, 30)
    write_loan_book(workdir / "book.csv", workdir / "truth.csv", args.applicants, seed=1, as_of=as_of)
    import_loan_file(workdir / "book.csv", as_of=as_of)
    profile = narrowed_profile("quick", algorithms=("XGBClassifier",), balancings=("class_weight",))
    version = train_model_version(TrainingRun.objects.create(parameters={"source": "benchmark"}), profile=profile)
    admin = get_user_model().objects.create_user("bench-admin", password=None, is_staff=True)
    admin.groups.add(Group.objects.get(name=MODEL_ADMIN))
    client = Client()
    client.force_login(admin)
    policy = ensure_active_policy()
    parameters = policy_parameters(policy)
    proposal = {name: str(getattr(policy, name)) for name in POLICY_FIELDS}
    proposal.update({"approve_min_score": "600", "action": "preview"})
    applicants = strategy.test_applicants()
    assert client.post("/policies/new/", proposal).status_code == 200

    medians = timed_together(
        {
            "labelling": lambda: labelled_applicants_frame(as_of=as_of),
            "test applicants": strategy.test_applicants,
            "curves": lambda: credit_strategy.curve(applicants, parameters),
            "preview page": lambda: client.post("/policies/new/", proposal),
            "policy list page": lambda: client.get("/policies/"),
        },
        args.repeats,
    )
    load = os.getloadavg()[0]
    print(
        f"Loan book: {args.applicants} applicants; model {version.name}; "
        f"{len(applicants)} test applicants ({'exactly the test split' if applicants.exact else 'NOT exact'}); "
        f"load average {load:.1f}"
    )
    baseline = medians["labelling"]
    for name, value in medians.items():
        print(f"  {name:<18} {value:9.1f} ms   {value / baseline:5.2f} × labelling")


if __name__ == "__main__":
    main()
