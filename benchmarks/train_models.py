"""Benchmark the model search on a generated loan book, against the generator's oracle.

    .venv/bin/python benchmarks/train_models.py --profile quick
    .venv/bin/python benchmarks/train_models.py --profile full

Generates a book of 10,000 applicants (seed 7) with ``applicants.generator``, builds the training
frame the way ``applicants.selectors.labelled_applicants_frame`` gives it (attributes per
applicant, labels from ``credit.labelling.label_installments``; no database), runs
``credit.model_search.search_best_model`` and prints:

- the time of every candidate (algorithm × balancing) and of the whole search;
- the cross-validated leaderboard (mean ± standard error of ROC AUC), the chosen and the best mean;
- the chosen model's test recall (target ≥ 0.90) and test precision at its out-of-fold-chosen
  threshold;
- the ORACLE's precision at the recall the model delivered, on the same test applicants: the
  generator's true NPL probabilities ranked, with the threshold chosen on the test applicants
  themselves (hindsight), and the ratio model / oracle (target ≥ 0.95). For context also the
  oracle's precision at recall ≥ 0.90 and the model's own hindsight precision there.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# The pipeline words its progress through Django's translation machinery, which reads the settings:
# a development run, like `make run`.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nplsite.settings")
os.environ.setdefault("DEBUG", "1")

import pandas as pd  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from applicants.generator import simulate_loan_book  # noqa: E402
from credit.encoder import APPLICANT_ATTRIBUTES  # noqa: E402
from credit.labelling import label_installments  # noqa: E402
from credit.model_search import (  # noqa: E402
    DEFAULT_RECALL_MARGIN_SE,
    PROFILES,
    choose_threshold,
    features_and_labels,
    search_best_model,
)

RECALL_TARGET = 0.90
RATIO_TARGET = 0.95


def labelled_frame(installments: pd.DataFrame, as_of: date) -> pd.DataFrame:
    first = installments.sort_values(["app_id", "due_date"]).groupby("app_id", as_index=False).first()
    frame = first[["app_id", *APPLICANT_ATTRIBUTES]].copy()
    for column in ("housing_type", "status_pernikahan", "pekerjaan"):
        frame[column] = frame[column].astype(str).astype(object)
    frame["disbursement_date"] = first["due_date"]
    return frame.merge(label_installments(installments, as_of), on="app_id")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--applicants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7, help="seed of the loan book and of the search")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2024, 6, 30))
    parser.add_argument("--recall-margin-se", type=float, default=DEFAULT_RECALL_MARGIN_SE)
    args = parser.parse_args()

    started = time.perf_counter()
    installments, truth = simulate_loan_book(args.applicants, args.seed, args.as_of)
    frame = labelled_frame(installments, args.as_of)
    prepared = time.perf_counter() - started
    print(
        f"Loan book: {len(frame)} applicants, {int(frame['is_npl'].sum())} NPL ({frame['is_npl'].mean():.1%}), "
        f"{len(installments)} installments, as of {args.as_of} — generated and labelled in {prepared:.1f} s"
    )

    result = search_best_model(
        frame, profile=args.profile, seed=args.seed, recall_target=RECALL_TARGET, recall_margin_se=args.recall_margin_se
    )

    print(f"\nProfile {args.profile}: {PROFILES[args.profile].description}")
    print(f"{'candidate':42} {'seconds':>8} {'CV ROC AUC ± SE':>17} {'CV prec@rec':>11}")
    for row in result.leaderboard():
        mark = (" *" if row["chosen"] else "") + (" (best mean)" if row["best_mean"] else "")
        if row["error"]:
            print(f"{row['name'] + mark:42} {row['fit_seconds']:8.2f}  failed: {row['error']}")
            continue
        print(
            f"{row['name'] + mark:42} {row['fit_seconds']:8.2f} {row['cv_mean']:9.3f} ± {row['cv_se']:.3f} "
            f"{row['cv_precision_at_recall']:11.3f}"
        )
    candidate_seconds = sum(row["fit_seconds"] for row in result.leaderboard())
    print(f"Candidates: {candidate_seconds:.1f} s; whole search (incl. calibration and test): {result.seconds:.1f} s")

    test = result.split.test.merge(truth, on="app_id", how="left")
    X_test, y_test = features_and_labels(result.split.test)
    metrics = result.test_metrics
    oracle = choose_threshold(test["is_npl"].astype(int), test["true_npl_probability"], RECALL_TARGET)
    oracle_same_recall = choose_threshold(test["is_npl"].astype(int), test["true_npl_probability"], metrics["recall"])
    hindsight = choose_threshold(y_test, result.model.predict_npl_probability(X_test), RECALL_TARGET)
    ratio = metrics["precision"] / oracle_same_recall.precision if oracle_same_recall.precision else float("nan")

    print(f"\nChosen: {result.model.name} {result.model.hyperparameters}")
    print(
        f"  threshold {result.model.threshold:.4f} (chosen out of fold at recall ≥ "
        f"{result.out_of_fold_metrics['selection_recall']:.3f} = target + {args.recall_margin_se:g} SE, "
        f"on {result.out_of_fold_metrics['applicants']} pooled out-of-fold predictions)"
    )
    print(
        f"  TEST ({metrics['applicants']} applicants, {metrics['npl']} NPL): recall {metrics['recall']:.4f} "
        f"[target ≥ {RECALL_TARGET:.2f}: {'PASS' if metrics['recall'] >= RECALL_TARGET else 'FAIL'}], "
        f"precision {metrics['precision']:.4f}, ROC AUC {metrics['roc_auc']:.4f}, PR AUC {metrics['pr_auc']:.4f}, "
        f"Brier {metrics['brier']:.4f}"
    )
    print(
        f"  ORACLE precision at the recall the model delivered ({metrics['recall']:.4f}): "
        f"{oracle_same_recall.precision:.4f}; oracle ROC AUC "
        f"{roc_auc_score(test['is_npl'], test['true_npl_probability']):.4f}"
    )
    verdict = "PASS" if ratio >= RATIO_TARGET else "FAIL"
    print(f"  ratio model / oracle at the delivered recall: {ratio:.3f} [target ≥ {RATIO_TARGET:.2f}: {verdict}]")
    print(
        f"  context: oracle precision at recall ≥ {RECALL_TARGET:.2f}: {oracle.precision:.4f}; the model's own "
        f"hindsight precision at recall ≥ {RECALL_TARGET:.2f} on test: {hindsight.precision:.4f} "
        f"(ratio {hindsight.precision / oracle.precision:.3f})"
    )
    print(f"Total wall time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
