"""A small Functions app for the local host's tests: one function per behaviour they check.

It is written exactly as an app for Azure is (decorators, ``%SETTING%``
references, a ``context`` parameter) and records what each invocation received
as a JSON line in ``$SAMPLE_OUTPUT_DIR/<function>.jsonl`` for the tests to read.
"""

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

_ticks = 0
_write = threading.Lock()


def _record(function: str, **fields: Any) -> None:
    output = Path(os.environ["SAMPLE_OUTPUT_DIR"])
    with _write, (output / f"{function}.jsonl").open("a", encoding="utf-8") as lines:
        lines.write(json.dumps(fields, default=str) + "\n")


@app.route(route="statements/latest", methods=["GET"])
def latest_statement(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("statement for the latest period")


@app.route(route="operations/restart", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
def restart_operations(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(status_code=202)


@app.route(
    route="sites/{site_id:int}/statements/{month:regex(^\\d{{4}}-\\d{{2}}$)}/{kind:alpha?}",
    methods=["GET"],
    auth_level=func.AuthLevel.ANONYMOUS,
)
def site_statement(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    answer = {
        "method": req.method,
        "url": req.url,
        "route_params": dict(req.route_params),
        "params": dict(req.params),
        "caller": req.headers.get("x-caller"),
        "invocation_id": context.invocation_id,
        "thread_invocation_id": getattr(context.thread_local_storage, "invocation_id", None),
    }
    return func.HttpResponse(json.dumps(answer), mimetype="application/json")


@app.route(route="orders/{order_id:guid}", methods=["POST", "PUT"], auth_level=func.AuthLevel.ANONYMOUS)
async def accept_order(req: func.HttpRequest) -> func.HttpResponse:
    await asyncio.sleep(0)
    order = req.get_json()
    order["id"] = req.route_params["order_id"]
    return func.HttpResponse(
        json.dumps(order),
        status_code=201,
        headers={"Location": f"/api/orders/{order['id']}"},
        mimetype="application/json",
    )


@app.route(route="broken", auth_level=func.AuthLevel.ANONYMOUS)
def broken(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("the billing rule table is empty")


@app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="timer")
def tick(timer: func.TimerRequest, context: func.Context) -> None:
    global _ticks  # noqa: PLW0603 - the test app counts its own runs
    _ticks += 1
    started = time.time()
    if _ticks == 1:
        time.sleep(2.3)  # outlast the next occurrences, so the run after this one is past due
    _record("tick", past_due=timer.past_due, started=started, ended=time.time(), id=context.invocation_id)


@app.timer_trigger(schedule="0 0 3 1 1 *", arg_name="timer", run_on_startup=True)
def nightly_reconcile(timer: func.TimerRequest) -> None:
    _record("nightly_reconcile", past_due=timer.past_due)


@app.service_bus_queue_trigger(arg_name="message", queue_name="%ORDERS_QUEUE%", connection="SampleServiceBus")
def take_order(message: func.ServiceBusMessage, context: func.Context) -> None:
    _record(
        "take_order",
        body=message.get_body().decode(),
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        delivery_count=message.delivery_count,
        enqueued_time_utc=message.enqueued_time_utc,
        application_properties=message.application_properties,
        invocation_id=context.invocation_id,
    )


@app.service_bus_queue_trigger(arg_name="message", queue_name="poison-orders", connection="SampleServiceBus")
def reject_order(message: func.ServiceBusMessage) -> None:
    _record("reject_order", message_id=message.message_id, delivery_count=message.delivery_count)
    raise ValueError(f"order {message.message_id} has no site")


@app.service_bus_queue_trigger(arg_name="message", queue_name="slow-orders", connection="SampleServiceBus")
async def price_order_slowly(message: func.ServiceBusMessage) -> None:
    started = time.time()
    await asyncio.sleep(float(message.application_properties.get("seconds", 1)))
    _record("price_order_slowly", message_id=message.message_id, started=started, ended=time.time())


@app.service_bus_topic_trigger(
    arg_name="message", topic_name="order-events", subscription_name="audit", connection="SampleServiceBus"
)
def audit_order_event(message: func.ServiceBusMessage) -> None:
    _record("audit_order_event", body=message.get_body().decode(), message_id=message.message_id)
