"""Route templates match as ASP.NET Core's do: typed constraints, optional parts, defaults, catch-alls."""

from __future__ import annotations

import pytest

from localdev.functions_host.routes import RouteTemplate, RouteTemplateError


@pytest.mark.parametrize(
    ("template", "path", "expected"),
    [
        ("api/sites/{id:int}", "/api/sites/42", {"id": "42"}),
        ("api/sites/{id:int}", "/api/sites/-7/", {"id": "-7"}),
        ("api/sites/{id:int}", "/api/sites/2147483648", None),
        ("api/sites/{id:long}", "/api/sites/2147483648", {"id": "2147483648"}),
        ("api/sites/{id:int:range(1,99)}", "/api/sites/100", None),
        ("api/sites/{id:min(10)}", "/api/sites/9", None),
        ("api/flags/{on:bool}", "/api/flags/TRUE", {"on": "TRUE"}),
        ("api/rates/{rate:decimal}", "/api/rates/12.50", {"rate": "12.50"}),
        ("api/rates/{rate:double}", "/api/rates/twelve", None),
        (
            "api/runs/{run_id:guid}",
            "/api/runs/{6F9619FF-8B86-D011-B42D-00C04FC964FF}",
            {"run_id": "{6F9619FF-8B86-D011-B42D-00C04FC964FF}"},
        ),
        ("api/days/{day:datetime}", "/api/days/2024-05-31", {"day": "2024-05-31"}),
        ("api/codes/{code:length(3)}", "/api/codes/ABCD", None),
        ("api/codes/{code:minlength(2):maxlength(4)}", "/api/codes/ABC", {"code": "ABC"}),
        ("api/codes/{code:alpha}", "/api/codes/Abc", {"code": "Abc"}),
        ("api/months/{m:regex(^\\d{{4}}-\\d{{2}}$)}", "/api/months/2024-05", {"m": "2024-05"}),
        ("api/months/{m:regex(^\\d{{4}}-\\d{{2}}$)}", "/api/months/24-05", None),
        ("api/reports/{name?}", "/api/reports", {}),
        ("api/reports/{name=summary}", "/api/reports", {"name": "summary"}),
        ("api/files/{*path}", "/api/files/2024/05/gl.csv", {"path": "2024/05/gl.csv"}),
        ("api/files/{name}.{ext}", "/api/files/gl.2024.csv", {"name": "gl.2024", "ext": "csv"}),
        ("api/Health", "/API/health", {}),
        ("api/health", "/api/healthz", None),
    ],
)
def test_a_path_matches_a_template_as_asp_net_core_would(
    template: str, path: str, expected: dict[str, str] | None
) -> None:
    assert RouteTemplate(template).match(path) == expected


def test_literal_segments_take_precedence_over_parameters_and_catch_alls_come_last() -> None:
    templates = ["api/{*rest}", "api/{name}", "api/{id:int}", "api/latest"]
    ordered = sorted((RouteTemplate(t) for t in templates), key=lambda route: route.precedence)
    assert [route.template for route in ordered] == [
        "api/latest",
        "api/{id:int}",
        "api/{name}",
        "api/{*rest}",
    ]


@pytest.mark.parametrize(
    "template",
    ["api/{id:integer}", "api/{*rest}/more", "api/{id}/{ID}", "api/{id", "api/{a}-{b?}", "api/{9lives}"],
)
def test_a_template_asp_net_core_would_reject_is_refused(template: str) -> None:
    with pytest.raises(RouteTemplateError):
        RouteTemplate(template)
