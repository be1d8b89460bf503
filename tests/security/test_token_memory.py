"""Issue 24: a verified API token is remembered per process for API_AUTH_CACHE_SECONDS (at most 1 s),
and access taken away is refused at once in the process that took it, within that time in any other.

"Another process" is played here by changes that send no signal to this one (SQL updates and
deletes); tests/foundation/test_web_server.py does the same against a real gunicorn.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from knox.models import AuthToken

from nplsite import authentication
from nplsite.roles import ANALYST
from nplsite.tokens import issue_api_token, revoke_api_tokens
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

ACTIVE = "/api/v1/models/active"  # 404 without an active model: authenticated and in a role


class Clock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch, settings):
    settings.API_AUTH_CACHE_SECONDS = 1
    clock = Clock()
    monkeypatch.setattr(authentication, "time", clock)
    return clock


@pytest.fixture
def ana(db):
    return make_user("ana", ANALYST)


def status(key: str) -> int:
    return Client(HTTP_AUTHORIZATION=f"Token {key}").get(ACTIVE).status_code


def queries_of(key: str) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert status(key) == 404
    return len(captured.captured_queries)


def test_a_checked_token_is_remembered_for_at_most_the_setting(clock, ana):
    _, key = issue_api_token(ana)
    assert queries_of(key) == 4  # knox's two, the roles, the active version
    clock.now += 0.9
    assert queries_of(key) == 1  # the active version only: the token check is remembered
    clock.now += 0.2  # 1.1 s after the check: checked again
    assert queries_of(key) == 4


def test_the_setting_zero_checks_every_request(clock, settings, ana):
    settings.API_AUTH_CACHE_SECONDS = 0
    _, key = issue_api_token(ana)
    assert queries_of(key) == 4 and queries_of(key) == 4


@pytest.mark.parametrize(
    "revoke",
    [
        pytest.param(lambda user, token: revoke_api_tokens(user), id="tokens revoked"),
        pytest.param(lambda user, token: token.delete(), id="one token deleted"),
        pytest.param(lambda user, token: (user.set_password("Another-Horse-43"), user.save()), id="password changed"),
        pytest.param(lambda user, token: (setattr(user, "is_active", False), user.save()), id="deactivated"),
    ],
)
def test_revoked_in_this_process_is_refused_at_once(clock, ana, revoke):
    token, key = issue_api_token(ana)
    assert status(key) == 404
    revoke(ana, token)
    assert status(key) == 401  # the same instant on this process's clock


def test_a_role_taken_away_in_this_process_is_refused_at_once(clock, ana):
    _, key = issue_api_token(ana)
    assert status(key) == 404
    ana.groups.clear()
    assert status(key) == 403
    ana.groups.add(Group.objects.get(name=ANALYST))
    assert status(key) == 404
    Group.objects.get(name=ANALYST).user_set.remove(ana)  # from the other side
    assert status(key) == 403


def test_revoked_in_another_process_is_refused_within_the_setting(clock, ana):
    """No signal reaches this process: its memory of the token runs out after at most a second."""
    token, key = issue_api_token(ana)
    assert status(key) == 404
    table = connection.ops.quote_name(AuthToken._meta.db_table)
    with connection.cursor() as cursor:  # no signal reaches this process: as another process's delete
        cursor.execute(f"DELETE FROM {table} WHERE digest = %s", [token.digest])  # noqa: S608 (a model's table)
    clock.now += 0.5
    assert status(key) == 404  # still remembered: what the setting allows, and no longer
    clock.now += 0.5
    assert status(key) == 401


def test_deactivated_in_another_process_is_refused_within_the_setting(clock, ana):
    _, key = issue_api_token(ana)
    assert status(key) == 404
    type(ana).objects.filter(pk=ana.pk).update(is_active=False)  # no signal
    clock.now += 1.0
    assert status(key) == 401


def test_a_failed_token_is_never_remembered(clock, ana):
    token, key = issue_api_token(ana)
    wrong = key[:-4] + ("0000" if not key.endswith("0000") else "1111")
    assert status(wrong) == 401
    assert authentication.memory.get(token.digest) is None
    assert status(key) == 404 and authentication.memory.get(token.digest) is not None


def test_each_request_gets_its_own_copy_of_the_user(clock, ana):
    from rest_framework.test import APIRequestFactory

    _, key = issue_api_token(ana)
    check = authentication.CachedTokenAuthentication()
    factory = APIRequestFactory()
    first = check.authenticate(factory.get(ACTIVE, HTTP_AUTHORIZATION=f"Token {key}"))[0]
    second = check.authenticate(factory.get(ACTIVE, HTTP_AUTHORIZATION=f"Token {key}"))[0]
    assert first == second and first is not second and first.pk == ana.pk
    first.first_name = "changed"
    assert second.first_name != "changed"
