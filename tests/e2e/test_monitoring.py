"""A model's monitoring in a real browser: the dashboard's alert leads to the version's monitoring page."""

import pandas as pd
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from applicants.attributes import ATTRIBUTE_FIELDS
from applicants.generator import parse_shift, write_loan_book
from applicants.models import Applicant
from applicants.services import import_loan_file
from monitoring.services import record_reference_distribution, write_monitoring_report
from scoring.models import Prediction
from scoring.services import score_applicants
from tests.conftest import make_user
from tests.e2e.conftest import BOOK_AS_OF
from training.artifacts import load_artifact

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SHIFTED_APPLICANTS = 300
FIRST_SHIFTED_APP_ID = 100_001


@pytest.fixture
def shifted_period(make_version, retrain_book, tmp_path):
    """The active version's reference from a generated book, and a shifted book scored by it today."""
    version = make_version()
    development = pd.DataFrame(list(Applicant.objects.values(*ATTRIBUTE_FIELDS)))
    record_reference_distribution(version, load_artifact(version), [development])
    book = tmp_path / "shifted.csv"
    write_loan_book(
        book,
        tmp_path / "shifted_truth.csv",
        SHIFTED_APPLICANTS,
        seed=12,
        as_of=BOOK_AS_OF,
        first_app_id=FIRST_SHIFTED_APP_ID,
        shift=parse_shift("income=-0.4,otr=+0.3,pekerjaan=Buruh:+0.3"),
    )
    import_loan_file(book, as_of=BOOK_AS_OF)
    shifted = list(Applicant.objects.filter(app_id__gte=FIRST_SHIFTED_APP_ID))
    score_applicants(
        [{field: getattr(applicant, field) for field in ATTRIBUTE_FIELDS} for applicant in shifted],
        channel=Prediction.Channel.BATCH,
        applicants=shifted,
    )
    today = timezone.localdate()
    return write_monitoring_report(version, today, today)


def test_analyst_opens_the_monitoring_report_from_the_dashboard_alert(browsing, shifted_period):
    make_user("ana", "Analyst")
    page = browsing.page
    assert shifted_period.status == "alert"

    browsing.log_in("ana")
    notice = page.locator(".monitoring-notice")
    expect(notice).to_contain_text("Model monitoring alert")
    expect(notice).to_contain_text("moved: population stability index")
    notice.get_by_role("link", name="Open the monitoring report").click()

    page.wait_for_url(browsing.url(f"/monitoring/{shifted_period.model_version_id}/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Monitoring of")
    alerts = page.locator("#alerts li")
    expect(alerts.first).to_contain_text("Alert:")
    expect(page.locator("#alerts")).to_contain_text("Monthly income (Rp) moved")
    expect(page.get_by_role("img", name="Stability index per input")).to_be_visible()
    expect(page.get_by_role("img", name="Score distribution")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Occupation")).to_contain_text("shifted")
    assert browsing.requests and browsing.foreign_requests() == []
