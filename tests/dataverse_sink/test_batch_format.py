"""The $batch wire format against Microsoft's published examples."""

from __future__ import annotations

import pytest

from shared.connectors.dataverse.batch import (
    BatchFormatError,
    BatchOperation,
    build_batch,
    parse_batch_response,
)

# The answer to a batch with a change set, as "Execute batch operations using the Web API" shows it.
DOCS_CHANGESET_ANSWER = """\
--batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f
Content-Type: multipart/mixed; boundary=changesetresponse_64cc3fff-023a-45b0-b29d-df21583ffa15

--changesetresponse_64cc3fff-023a-45b0-b29d-df21583ffa15
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

HTTP/1.1 204 No Content
OData-Version: 4.0
Location: [Organization Uri]/api/data/v9.2/tasks(e73ffc82-e292-ed11-aad1-000d3a9933c9)
OData-EntityId: [Organization Uri]/api/data/v9.2/tasks(e73ffc82-e292-ed11-aad1-000d3a9933c9)


--changesetresponse_64cc3fff-023a-45b0-b29d-df21583ffa15
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

HTTP/1.1 204 No Content
OData-Version: 4.0
Location: [Organization Uri]/api/data/v9.2/tasks(e83ffc82-e292-ed11-aad1-000d3a9933c9)
OData-EntityId: [Organization Uri]/api/data/v9.2/tasks(e83ffc82-e292-ed11-aad1-000d3a9933c9)


--changesetresponse_64cc3fff-023a-45b0-b29d-df21583ffa15--
--batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 200 OK
Content-Type: application/json; odata.metadata=minimal; odata.streaming=true
OData-Version: 4.0

{
  "@odata.context": "[Organization Uri]/api/data/v9.2/$metadata#tasks(subject)",
  "value": [{"@odata.etag": "W/\\"77181173\\"", "subject": "Task 1 in batch"}]
}
--batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f--
"""

# The continue-on-error answer from the same page: a 400 part, then a 204 part.
DOCS_CONTINUE_ON_ERROR_ANSWER = """\
--batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 400 Bad Request
REQ_ID: de4c5227-4a28-4ebd-8ced-3392ece1697b
Content-Type: application/json; odata.metadata=minimal
OData-Version: 4.0

{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the 'subject' attribute \
of the 'task' entity exceeded the maximum allowed length of '200'."}}
--batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 204 No Content
OData-Version: 4.0
Location: [Organization Uri]/api/data/v9.2/tasks(aed2ae8b-3c94-ed11-aad1-000d3a9933c9)
OData-EntityId: [Organization Uri]/api/data/v9.2/tasks(aed2ae8b-3c94-ed11-aad1-000d3a9933c9)


--batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139--
"""


def test_builds_the_request_body_microsoft_shows() -> None:
    content_type, body = build_batch(
        [
            BatchOperation(
                "PATCH",
                "https://org.crm.dynamics.com/api/data/v9.2/bs_jobcodes(bs_jobcode='VALET')",
                {"If-None-Match": "*"},
                b'{"bs_jobtitle":"Valet Attendant"}',
            ),
            BatchOperation(
                "DELETE", "https://org.crm.dynamics.com/api/data/v9.2/bs_jobcodes(bs_jobcode='OLD')"
            ),
        ],
        boundary="batch_AAA123",
    )
    assert content_type == 'multipart/mixed; boundary="batch_AAA123"'
    assert body.decode() == (
        "--batch_AAA123\r\n"
        "Content-Type: application/http\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "\r\n"
        "PATCH https://org.crm.dynamics.com/api/data/v9.2/bs_jobcodes(bs_jobcode='VALET') HTTP/1.1\r\n"
        "If-None-Match: *\r\n"
        "Content-Type: application/json; type=entry\r\n"
        "\r\n"
        '{"bs_jobtitle":"Valet Attendant"}\r\n'
        "--batch_AAA123\r\n"
        "Content-Type: application/http\r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "\r\n"
        "DELETE https://org.crm.dynamics.com/api/data/v9.2/bs_jobcodes(bs_jobcode='OLD') HTTP/1.1\r\n"
        "\r\n"
        "\r\n"
        "--batch_AAA123--\r\n"
    )


def test_refuses_an_empty_or_oversized_batch() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_batch([])
    too_many = [BatchOperation("DELETE", f"https://o/api/data/v9.2/x({i})") for i in range(1001)]
    with pytest.raises(ValueError, match="at most 1000"):
        build_batch(too_many)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_reads_a_change_set_answer_in_order(newline: str) -> None:
    body = DOCS_CHANGESET_ANSWER.replace("\n", newline).encode()
    answers = parse_batch_response(
        "multipart/mixed; boundary=batchresponse_f27ef42d-51b0-4685-bac9-f468f844de2f", body
    )
    assert [answer.status for answer in answers] == [204, 204, 200]
    entity_id = "[Organization Uri]/api/data/v9.2/tasks(e73ffc82-e292-ed11-aad1-000d3a9933c9)"
    assert answers[0].header("OData-EntityId") == entity_id
    assert answers[0].body == b""
    assert b'"Task 1 in batch"' in answers[2].body


def test_reads_a_continue_on_error_answer() -> None:
    body = DOCS_CONTINUE_ON_ERROR_ANSWER.replace("\n", "\r\n").encode()
    answers = parse_batch_response(
        'multipart/mixed; boundary="batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139"', body
    )
    assert [answer.status for answer in answers] == [400, 204]
    assert answers[0].header("content-type") == "application/json; odata.metadata=minimal"
    assert b"0x80044331" in answers[0].body


def test_an_answer_that_never_closes_is_refused() -> None:
    truncated = DOCS_CONTINUE_ON_ERROR_ANSWER.rsplit("--batchresponse", 1)[0].encode()
    with pytest.raises(BatchFormatError, match="never closes"):
        parse_batch_response(
            "multipart/mixed; boundary=batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139", truncated
        )


def test_an_answer_without_a_boundary_is_refused() -> None:
    with pytest.raises(BatchFormatError, match="no boundary"):
        parse_batch_response("multipart/mixed", b"")
