"""Population stability on PostgreSQL from counts kept per closed day: a report over a long period
reads each day's predictions once, ever.

A day is *closed* once it is over (local time): nothing is scored into it any more, and the
predictions it holds never change (each is written once with its first-of-version mark). The first
report that covers a closed day counts it into the version's bins (``StabilityDay`` and its
``StabilityDayCount`` rows, per channel, feature and bin: a few hundred rows a day) in the same one
pass over the rows that counts a period (``monitoring.selectors.daily_stability_counts``); every later
report adds up the stored counts. Today (still open) is counted live. The daily scheduled report
therefore counts one new day each morning, and a report over two years reads about 730 × a few
hundred rows instead of every prediction.

The counts are keyed by a fingerprint of the bins (the reference distribution's edges and categories,
and the features counted): when those change, the days are counted again into the new bins. SQLite
keeps the path that reads the rows (``monitoring.selectors.period_chunks``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from monitoring.models import StabilityDay, StabilityDayCount
from monitoring.selectors import add_bin_counts, daily_stability_counts, empty_bin_counts, period_stability_counts
from training.models import ModelVersion


def bins_fingerprint(references: dict[str, dict]) -> str:
    """A digest of the bins the counts are made in: the features and their reference distributions."""
    return hashlib.sha256(json.dumps(references, sort_keys=True, default=str).encode()).hexdigest()


def stability_counts(
    version: ModelVersion, start: date, end: date, channel: str | None, references: dict[str, dict]
) -> tuple[int, dict[str, dict]]:
    """What :func:`monitoring.selectors.period_stability_counts` gives for the period, made from the
    stored counts of its closed days (counting the days not counted yet first) and a live count of
    the days not closed yet."""
    today = timezone.localdate()
    last_closed = min(end, today - timedelta(days=1))
    counts = empty_bin_counts(references)
    applications = 0
    if start <= last_closed:
        fingerprint = bins_fingerprint(references)
        count_closed_days(version, start, last_closed, references, fingerprint)
        stored = StabilityDayCount.objects.filter(
            stability_day__model_version=version,
            stability_day__bins=fingerprint,
            stability_day__day__range=(start, last_closed),
        )
        if channel:
            stored = stored.filter(channel=channel)
        rows = (
            stored.values("feature", "bin")
            .annotate(n=Sum("count"), outside_n=Sum("outside"), total=Sum("value_sum"))
            .values_list("feature", "bin", "n", "outside_n", "total")
        )
        applications, counts = add_bin_counts(counts, [row for row in rows if row[0] in counts])
    if end > last_closed:
        first_open = max(start, last_closed + timedelta(days=1))
        live, counts = period_stability_counts(version, first_open, end, channel, references, counts)
        applications += live
    return applications, counts


def count_closed_days(
    version: ModelVersion, first: date, last: date, references: dict[str, dict], fingerprint: str
) -> int:
    """Count and store the days from ``first`` to ``last`` (closed days) that are not counted into
    these bins yet; how many were. One pass over the predictions of the span of days missing; a day
    with no prediction is stored too (with no counts), so it is not looked at again. Two reports
    counting the same day at once store it once (the unique keys; both counted the same rows)."""
    done = set(
        StabilityDay.objects.filter(model_version=version, bins=fingerprint, day__range=(first, last)).values_list(
            "day", flat=True
        )
    )
    missing = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    missing = [day for day in missing if day not in done]
    if not missing:
        return 0
    rows = daily_stability_counts(version, missing[0], missing[-1], references)
    wanted = set(missing)
    with transaction.atomic():
        StabilityDay.objects.bulk_create(
            [StabilityDay(model_version=version, bins=fingerprint, day=day) for day in missing], ignore_conflicts=True
        )
        days = dict(
            StabilityDay.objects.filter(model_version=version, bins=fingerprint, day__in=missing).values_list(
                "day", "id"
            )
        )
        StabilityDayCount.objects.bulk_create(
            [
                StabilityDayCount(
                    stability_day_id=days[day],
                    channel=channel,
                    feature=feature,
                    bin=bin_,
                    count=n,
                    outside=outside,
                    value_sum=value_sum,
                )
                for day, channel, feature, bin_, n, outside, value_sum in rows
                if day in wanted
            ],
            batch_size=5_000,
            ignore_conflicts=True,
        )
    return len(missing)
