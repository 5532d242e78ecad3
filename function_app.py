"""The Functions entry point: checks the settings, then registers each area's blueprint."""

import azure.functions as func

from functions import (
    api,
    billing,
    dataverse,
    gp,
    leads,
    pipeline,
    revenue_submissions,
    salesforce_reporting,
    syncs,
)
from shared.settings import hub_settings

# A missing or malformed setting stops the app here, naming the setting. Telemetry starts with the
# hub, on the first invocation (functions/app_hub.py).
hub_settings()

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(pipeline.blueprint)
app.register_functions(syncs.blueprint)
app.register_functions(api.blueprint)
app.register_functions(gp.blueprint)
app.register_functions(dataverse.blueprint)
app.register_functions(revenue_submissions.blueprint)
app.register_functions(billing.blueprint)
app.register_functions(leads.blueprint)
app.register_functions(salesforce_reporting.blueprint)
