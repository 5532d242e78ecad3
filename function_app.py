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
from shared.settings_at_start import check_settings_at_start

# A missing setting or a malformed timer schedule stops the app here, naming the setting. The full
# settings (pydantic), telemetry and the hub come with the first invocation (functions/app_hub.py).
check_settings_at_start()

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
