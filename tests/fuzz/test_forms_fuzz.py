"""The pages' forms under arbitrary input (Hypothesis): the public report form, the login form, a hazard's
action form and the filters of the queue. Every answer is a page or a redirect with a 2xx, 3xx or 4xx, never a
5xx, whatever text, length or encoding a field holds."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Harness
from tests.api.support import open_hazard
from tests.web.support import add_people, csrf_of, fresh_client, login

EXAMPLES = 40
TEXT = st.text(max_size=300) | st.sampled_from(["", "0", "-1", "1e309", "NaN", "9" * 40, "../../etc", "<script>"])
FIELDS = ("service_code", "description", "compound", "address_string", "lat", "long", "email", "phone", "first_name")
RUN = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def test_the_public_report_form_never_fails(harness: Harness) -> None:
    browser = fresh_client(harness)

    @given(st.fixed_dictionaries({name: TEXT for name in FIELDS}))
    @RUN
    def check(fields: dict[str, str]) -> None:
        answer = browser.post("/report", data=fields, follow_redirects=False)
        assert answer.status_code < 500, (fields, answer.text[:300])

    check()


def test_login_and_the_queue_filters_never_fail(harness: Harness) -> None:
    add_people(harness)
    browser = fresh_client(harness)
    login(browser, "admin")
    stranger = fresh_client(harness)

    @given(TEXT, TEXT, st.dictionaries(st.sampled_from(["status", "kind", "from", "to", "camera", "order", "q"]), TEXT))
    @RUN
    def check(username: str, password: str, filters: dict[str, str]) -> None:
        page = stranger.post("/web/login", data={"username": username, "password": password}, follow_redirects=False)
        assert page.status_code < 500
        queue = browser.get("/web/hazards", params=filters)
        assert queue.status_code < 500, (filters, queue.text[:300])

    check()


def test_hazard_action_forms_never_fail(harness: Harness) -> None:
    add_people(harness)
    hazard = open_hazard(harness)
    browser = fresh_client(harness)
    login(browser, "admin")
    token = csrf_of(browser)

    @given(st.sampled_from(["note", "dismiss", "confirm", "acknowledge", "rectify", "reject"]), TEXT, TEXT)
    @RUN
    def check(action: str, note: str, reason: str) -> None:
        form = {"csrf_token": token, "note": note, "reason": reason, "queue": note}
        answer = browser.post(f"/web/hazards/{hazard}/{action}", data=form, follow_redirects=False)
        assert answer.status_code < 500, (action, note, reason, answer.text[:300])

    check()
