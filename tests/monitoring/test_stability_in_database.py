"""Issue 25: on PostgreSQL the database counts a period into its stability bins, and each closed day once
(``monitoring.daily_counts``); the figures are the ones the Python path (what SQLite runs) gives on the
same rows, number for number."""

from datetime import datetime, time

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.generator import generate_applicants
from monitoring.models import ReferenceDistribution, StabilityDay, StabilityDayCount
from monitoring.selectors import counts_in_database
from monitoring.services import compute_monitoring_figures, stability_figures
from scoring.models import Prediction
from scoring.services import score_applicants
from tests.support import VALID_APPLICANT

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database counts the bins on PostgreSQL only (SQLite: Python)"
)


def stored_copy(prediction: Prediction, **changes) -> Prediction:
    """Another stored prediction like ``prediction`` with other inputs or probability: rows the
    scoring service would never write (missing or odd inputs), which a report must still read alike."""
    fields = {
        field.name: getattr(prediction, field.name)
        for field in Prediction._meta.concrete_fields
        if field.name not in ("id", "created_at")
    }
    return Prediction.objects.create(**{**fields, "applicant": None, **changes})


def book_with_edge_cases(version) -> None:
    """500 generated applicants scored by ``version``, and stored rows on every edge the bins have:
    values equal to a bin edge, below and above the training range, no income (capped ratios), no
    amount financed (ratios 0 or undefined), missing attributes and a category never seen."""
    generated = pd.DataFrame(generate_applicants(500, seed=25))[list(ATTRIBUTE_FIELDS)].astype(object)
    rows = [
        {name: getattr(value, "item", lambda v=value: v)() for name, value in row.items()}
        for row in generated.to_dict("records")
    ]
    for i in range(0, len(rows), 7):  # tenors on a bin edge
        rows[i]["tenor"] = 24
    score_applicants(rows, channel=Prediction.Channel.API)
    template = Prediction.objects.filter(model_version=version).first()
    reference = ReferenceDistribution.objects.get(model_version=version)
    income, score = reference.attributes["monthly_income"], reference.score
    edge_cases = [
        {**VALID_APPLICANT, "monthly_income": int(income["edges"][3])},  # on an edge
        {**VALID_APPLICANT, "monthly_income": 0},  # no income: installment and loan ratios at their caps
        {**VALID_APPLICANT, "monthly_income": 0, "dp": VALID_APPLICANT["otr"]},  # nothing financed, no income
        {**VALID_APPLICANT, "dp": VALID_APPLICANT["otr"]},  # nothing financed: ratios 0, down payment 1
        {**VALID_APPLICANT, "monthly_income": int(income["maximum"]) * 10},  # above the training range
        {**VALID_APPLICANT, "monthly_income": 1},  # below it
        {**VALID_APPLICANT, "pekerjaan": "Astronaut"},  # a category never seen
        {key: value for key, value in VALID_APPLICANT.items() if key not in ("otr", "housing_type")},  # missing
    ]
    for attributes in edge_cases:
        stored_copy(template, input_attributes=attributes)
    for probability in (score["edges"][0], score["edges"][5], score["minimum"], 0.0, 1.0):
        stored_copy(template, npl_probability=probability)


@needs_postgresql
def test_the_database_counts_the_bins_the_python_path_counts(monitored_version):
    book_with_edge_cases(monitored_version)
    today = timezone.localdate()
    assert counts_in_database()

    in_database = stability_figures(monitored_version, today, today, None, in_database=True)
    in_python = stability_figures(monitored_version, today, today, None, in_database=False)

    assert in_database == in_python
    assert in_database["predictions"] == 500 + 8 + 5
    features = in_database["features"]
    # The edge cases were counted (the comparison is not between two empty reports).
    assert features["otr"]["missing"] == 1 and features["monthly_income"]["outside_share"] > 0
    assert features["pekerjaan"]["bins"]["period"][-1] > 0  # the unseen category's bin
    # Undefined: no income and nothing to pay; no vehicle price.
    assert features["installment_to_income"]["missing"] == 2
    assert in_database["score"]["count"] == 513
    # Every bin of the score, counted per bin (not only in total).
    assert in_database["score"]["bins"] == in_python["score"]["bins"]


@needs_postgresql
def test_a_channel_and_the_whole_report_agree_on_both_paths(monitored_version):
    book_with_edge_cases(monitored_version)
    today = timezone.localdate()
    for channel in (Prediction.Channel.API, Prediction.Channel.WEB):
        assert stability_figures(monitored_version, today, today, channel, in_database=True) == stability_figures(
            monitored_version, today, today, channel, in_database=False
        )
    # The report itself takes the database's path on PostgreSQL.
    figures, _, _ = compute_monitoring_figures(monitored_version, today, today)
    assert figures["stability"] == stability_figures(monitored_version, today, today, None, in_database=False)


def spread_over_days(version, days: int) -> list:
    """The version's predictions moved onto the ``days`` days before today and today, in turn (10:00
    local time); the days, oldest first."""
    today = timezone.localdate()
    spread = [today - timezone.timedelta(days=offset) for offset in range(days, -1, -1)]
    predictions = list(Prediction.objects.filter(model_version=version).order_by("id"))
    for index, prediction in enumerate(predictions):
        day = spread[index % len(spread)]
        prediction.created_at = timezone.make_aware(datetime.combine(day, time(10)))
    Prediction.objects.bulk_update(predictions, ["created_at"], batch_size=500)
    return spread


def counting_queries(queries) -> int:
    """How many of the captured queries read predictions into bins (the one pass over the rows)."""
    return sum("jsonb_to_record" in query["sql"] for query in queries.captured_queries)


@needs_postgresql
def test_closed_days_are_counted_once_and_then_added_up_as_the_rows_would_be(monitored_version):
    book_with_edge_cases(monitored_version)
    days = spread_over_days(monitored_version, 3)
    start, yesterday, today = days[0], days[-2], days[-1]

    with CaptureQueriesContext(connection) as first_queries:
        first = stability_figures(monitored_version, start, today, None, in_database=True)
    assert first == stability_figures(monitored_version, start, today, None, in_database=False)
    assert first["predictions"] == 513 and counting_queries(first_queries) == 2  # the closed days, today live
    counted = StabilityDay.objects.filter(model_version=monitored_version)
    assert sorted(counted.values_list("day", flat=True)) == days[:-1]  # today is not closed: never stored
    stored = {day.pk: day.counted_at for day in counted}

    # The closed days again, and one of them alone: read from the stored counts, not from the rows.
    with CaptureQueriesContext(connection) as later_queries:
        closed = stability_figures(monitored_version, start, yesterday, None, in_database=True)
        one_day = stability_figures(monitored_version, yesterday, yesterday, None, in_database=True)
    assert counting_queries(later_queries) == 0
    assert closed == stability_figures(monitored_version, start, yesterday, None, in_database=False)
    assert one_day == stability_figures(monitored_version, yesterday, yesterday, None, in_database=False)
    assert 0 < one_day["predictions"] < closed["predictions"] < first["predictions"]
    assert {day.pk: day.counted_at for day in counted.all()} == stored  # nothing counted twice
    for channel in (Prediction.Channel.API, Prediction.Channel.WEB):  # a channel's figures from its own counts
        assert stability_figures(monitored_version, start, today, channel, in_database=True) == stability_figures(
            monitored_version, start, today, channel, in_database=False
        )


@needs_postgresql
def test_a_day_with_no_prediction_is_stored_as_counted_and_other_bins_count_the_days_again(monitored_version):
    book_with_edge_cases(monitored_version)
    days = spread_over_days(monitored_version, 2)
    start, yesterday = days[0] - timezone.timedelta(days=5), days[-2]
    stability_figures(monitored_version, start, yesterday, None, in_database=True)
    assert StabilityDay.objects.filter(model_version=monitored_version).count() == 7  # five of them empty
    with CaptureQueriesContext(connection) as queries:
        stability_figures(monitored_version, start, yesterday, None, in_database=True)
    assert counting_queries(queries) == 0

    # The version's reference distribution is computed again with other edges: other bins, other counts.
    reference = ReferenceDistribution.objects.get(model_version=monitored_version)
    income = reference.attributes["monthly_income"]
    income["edges"] = [edge * 1.01 for edge in income["edges"]]
    reference.save(update_fields=["attributes"])
    with CaptureQueriesContext(connection) as queries:
        rebinned = stability_figures(monitored_version, start, yesterday, None, in_database=True)
    assert counting_queries(queries) == 1
    assert rebinned == stability_figures(monitored_version, start, yesterday, None, in_database=False)
    assert StabilityDay.objects.filter(model_version=monitored_version).values("bins").distinct().count() == 2


@needs_postgresql
def test_two_reports_counting_the_same_days_at_once_store_them_once(monitored_version):
    """Another report stores the days between this one's look for them and its own insert: the unique
    keys keep one set of counts, and both reports read the same figures."""
    book_with_edge_cases(monitored_version)
    days = spread_over_days(monitored_version, 2)
    start, yesterday = days[0], days[-2]
    other = {}

    def another_report_meanwhile(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not other and sql.startswith("SELECT") and '"monitoring_stabilityday"' in sql:
            other["started"] = True  # the other report's own queries pass through here too
            other["figures"] = stability_figures(monitored_version, start, yesterday, None, in_database=True)
        return result

    with connection.execute_wrapper(another_report_meanwhile):
        this = stability_figures(monitored_version, start, yesterday, None, in_database=True)
    assert other["figures"] == this == stability_figures(monitored_version, start, yesterday, None, in_database=False)
    counted = StabilityDay.objects.filter(model_version=monitored_version)
    assert sorted(counted.values_list("day", flat=True)) == days[:-1]  # each day once
    rows = StabilityDayCount.objects.filter(stability_day__in=counted)
    assert rows.count() == rows.values("stability_day", "channel", "feature", "bin").distinct().count()
