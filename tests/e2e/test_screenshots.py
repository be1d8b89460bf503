"""Screenshots of the main pages at a desktop (1280 px) and a phone (390 px) width, for people to look at.

They go to ``artifacts/screenshots/`` (git-ignored). Each page must also fit the width: nothing may
make the page scroll sideways (wide tables scroll inside their own box).
"""

import re

import pytest

from applicants.models import Applicant
from scoring.page_services import score_stored_applicant
from tests.conftest import make_user

from .conftest import Browsing

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WIDTHS = (1280, 390)


def assert_fits_the_width(browsing: Browsing, name: str) -> None:
    overflow = browsing.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} is {overflow}px wider than the window"


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshots_of_the_main_pages(browsing, make_version, page_book, width):
    version = make_version()
    analyst = make_user("ana", "Analyst")
    make_user("mia", "Model admin", is_staff=True)
    applicants = list(Applicant.objects.order_by("-max_dpd", "app_id")[:12])
    for applicant in applicants:
        score_stored_applicant(applicant, user=analyst)
    page = browsing.page
    page.set_viewport_size({"width": width, "height": 900})

    browsing.log_in("ana")
    shots = {
        "dashboard": "/",
        "applicants": "/applicants/",
        "applicant-detail": f"/applicants/{applicants[0].app_id}/",
        "batch": "/batch/",
        "models": "/models/",
        "model-version": f"/models/{version.pk}/",
        "prediction": f"/score/predictions/{applicants[0].predictions.get().pk}/",
    }
    for name, path in shots.items():
        page.goto(browsing.url(path))
        browsing.screenshot(name)
        assert_fits_the_width(browsing, name)

    page.goto(browsing.url("/score/"))
    page.get_by_label("Monthly income (Rp)").fill("9.500.000")
    page.get_by_label("Vehicle price, on the road (Rp)").fill("250.000.000")
    page.get_by_label("Down payment (Rp)").fill("50.000.000")
    page.get_by_label("Tenor (months)").fill("36")
    page.get_by_label("Occupation").select_option("Karyawan Swasta")
    page.get_by_label("Years in current job").fill("6")
    page.get_by_label("Housing").select_option("milik sendiri")
    page.get_by_label("Marital status").select_option("Nikah")
    page.get_by_label("Number of dependants").fill("2")
    page.locator("form.score-form").get_by_role("button", name="Score").click()
    page.locator("#result").wait_for()
    browsing.screenshot("score-result")
    assert_fits_the_width(browsing, "score-result")

    browsing.page.context.clear_cookies()
    browsing.log_in("mia")
    for name, path in {
        "models-model-admin": "/models/",
        "policies": "/policies/",
        "policy-new": "/policies/new/",
    }.items():
        page.goto(browsing.url(path))
        browsing.screenshot(name)
        assert_fits_the_width(browsing, name)
    assert re.search(r"/static/css/app\.css", page.content())
    assert browsing.foreign_requests() == [], "requests left the live server"
