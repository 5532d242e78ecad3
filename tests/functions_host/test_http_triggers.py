"""HTTP triggers through the real host process: keys, typed routes, methods, responses and failures."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.functions_host.conftest import FUNCTION_KEY, MASTER_KEY, FunctionsHost, start_host

pytestmark = pytest.mark.timeout(60)

ORDER_ID = "6f9619ff-8b86-d011-b42d-00c04fc964ff"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FunctionsHost]:
    running = start_host(tmp_path_factory.mktemp("http-host"))
    yield running
    running.running.stop()


@pytest.fixture
def client(host: FunctionsHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=host.base_url, timeout=10) as http:
        yield http


def test_a_function_level_route_answers_401_without_a_key(client: httpx.Client) -> None:
    response = client.get("/api/statements/latest")
    assert response.status_code == 401
    assert response.content == b""


def test_a_function_level_route_answers_401_to_a_wrong_key(client: httpx.Client) -> None:
    assert client.get("/api/statements/latest", headers={"x-functions-key": "guessed"}).status_code == 401
    assert client.get("/api/statements/latest", params={"code": "guessed"}).status_code == 401


def test_the_function_key_opens_the_route_in_the_header_or_the_code_parameter(client: httpx.Client) -> None:
    by_header = client.get("/api/statements/latest", headers={"x-functions-key": FUNCTION_KEY})
    by_code = client.get("/api/statements/latest", params={"code": FUNCTION_KEY})
    for response in (by_header, by_code):
        assert response.status_code == 200
        assert response.text == "statement for the latest period"
        assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_the_master_key_opens_function_routes_and_only_it_opens_admin_routes(client: httpx.Client) -> None:
    assert client.get("/api/statements/latest", params={"code": MASTER_KEY}).status_code == 200
    assert client.post("/api/operations/restart", params={"code": FUNCTION_KEY}).status_code == 401
    assert client.post("/api/operations/restart", headers={"x-functions-key": MASTER_KEY}).status_code == 202


def test_an_anonymous_route_binds_typed_route_parameters_query_and_headers(
    client: httpx.Client, host: FunctionsHost
) -> None:
    response = client.get(
        "/api/SITES/12/statements/2024-05/final", params={"view": "summary"}, headers={"x-caller": "flow"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["method"] == "GET"
    assert answer["url"] == f"{host.base_url}/api/SITES/12/statements/2024-05/final?view=summary"
    assert answer["route_params"] == {"site_id": "12", "month": "2024-05", "kind": "final"}
    assert answer["params"] == {"view": "summary"}
    assert answer["caller"] == "flow"
    # The invocation id the app sees is the one the host logs.
    assert answer["invocation_id"] == answer["thread_invocation_id"]
    host.wait_for_log(
        f"Executed 'Functions.site_statement' (Succeeded, Id={answer['invocation_id']}, Duration="
    )


def test_an_optional_route_parameter_may_be_left_out(client: httpx.Client) -> None:
    response = client.get("/api/sites/12/statements/2024-05")
    assert response.status_code == 200
    assert response.json()["route_params"] == {"site_id": "12", "month": "2024-05"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/sites/twelve/statements/2024-05",  # int
        "/api/sites/99999999999/statements/2024-05",  # beyond int32
        "/api/sites/12/statements/May-2024",  # regex
        "/api/sites/12/statements/2024-05/final2",  # alpha
        "/api/sites/12/statements/2024-05/final/extra",  # no such segment
        "/api/orders/not-a-guid",  # guid
        "/api/no-such-function",
        "/statements/latest",  # outside the route prefix
    ],
)
def test_a_path_no_route_matches_is_404(client: httpx.Client, path: str) -> None:
    assert client.get(path, params={"code": MASTER_KEY}).status_code == 404


def test_a_method_the_function_did_not_declare_is_405(client: httpx.Client) -> None:
    response = client.get(f"/api/orders/{ORDER_ID}")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, PUT"
    assert client.delete("/api/sites/12/statements/2024-05").status_code == 405


def test_an_async_function_gets_the_body_and_sets_status_headers_and_mimetype(client: httpx.Client) -> None:
    response = client.post(f"/api/orders/{ORDER_ID.upper()}", json={"site": 12, "amount": "125.50"})
    assert response.status_code == 201
    assert response.headers["location"] == f"/api/orders/{ORDER_ID.upper()}"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"site": 12, "amount": "125.50", "id": ORDER_ID.upper()}


def test_a_function_that_raises_answers_500_and_the_log_names_the_exception(
    client: httpx.Client, host: FunctionsHost
) -> None:
    response = client.get("/api/broken")
    assert response.status_code == 500
    log = host.wait_for_log("Exception: RuntimeError: the billing rule table is empty")
    failed = re.search(r"Executed 'Functions\.broken' \(Failed, Id=([0-9a-f-]+), Duration=\d+ms\)", log)
    assert failed is not None
    uuid.UUID(failed.group(1))
    assert 'function_app.py", line' in log  # the app's own stack, for the developer


def test_the_start_up_log_lists_every_function_with_its_url_schedule_or_queue(host: FunctionsHost) -> None:
    log = host.log()
    assert f"latest_statement: [GET] {host.base_url}/api/statements/latest (auth: function)" in log
    assert f"accept_order: [POST,PUT] {host.base_url}/api/orders/{{order_id:guid}} (auth: anonymous)" in log
    assert "tick: timerTrigger, schedule '*/1 * * * * *' (UTC)" in log
    assert "nightly_reconcile: timerTrigger, schedule '0 0 3 1 1 *' (UTC), runs on startup" in log


def test_an_identity_based_service_bus_connection_puts_only_its_functions_in_error(
    host: FunctionsHost,
) -> None:
    log = host.log()
    for function in ("take_order", "reject_order", "price_order_slowly", "audit_order_event"):
        assert (
            f"The '{function}' function is in error: connection 'SampleServiceBus' is identity-based "
            "(SampleServiceBus__fullyQualifiedNamespace)"
        ) in log


def _status_line(port: int, head: bytes, body: bytes) -> bytes:
    """Send a request's head and the start of its body on a raw socket; the status line that comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head + body)
        return connection.recv(4096).split(b"\r\n", 1)[0]


def test_a_body_over_the_host_limit_is_413_before_it_is_read_or_as_soon_as_it_runs_past(
    functions_host_factory: Callable[..., FunctionsHost],
) -> None:
    host = functions_host_factory({"FUNCTIONS_REQUEST_BODY_SIZE_LIMIT": "1000"})
    route = (
        f"POST /api/orders/{ORDER_ID} HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n".encode()
    )
    # 200 MB declared, 10 bytes sent: the answer comes without the rest, so the host never waited to read it.
    declared = _status_line(host.port, route + b"Content-Length: 209715200\r\n\r\n", b'{"site": 1')
    assert declared == b"HTTP/1.1 413 Request Entity Too Large"
    chunk = b'{"a": "' + b"x" * 1200 + b'"}'
    chunked = _status_line(
        host.port,
        route + b"Transfer-Encoding: chunked\r\n\r\n",
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk),
    )
    assert chunked == b"HTTP/1.1 413 Request Entity Too Large"
    with httpx.Client(base_url=host.base_url, timeout=10) as client:
        assert client.post(f"/api/orders/{ORDER_ID}", json={"site": 12, "amount": "1"}).status_code == 201
