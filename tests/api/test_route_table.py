"""The route table the app is indexed from names the operations table's operations, routes and key levels."""

from __future__ import annotations

from shared.api.operations import SERVED_OPERATIONS
from shared.api.routes import SERVED_ROUTES, Route


def test_every_served_operation_has_its_route_in_the_same_order_and_nothing_else() -> None:
    from_operations = tuple(
        Route(operation.operation_id, operation.method, operation.route, operation.auth_level)
        for operation in SERVED_OPERATIONS
    )
    assert SERVED_ROUTES == from_operations
