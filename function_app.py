"""The Functions entry point: checks the settings, starts telemetry, then registers each area's blueprint."""

import azure.functions as func

from functions import api, dataverse, gp, pipeline, syncs
from shared.settings import hub_settings
from shared.telemetry.startup import start_telemetry

# A missing or malformed setting stops the app here, naming the setting; telemetry is set up before
# any trigger runs, and not at all (nothing imported) when no exporter is configured.
start_telemetry(hub_settings())

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(pipeline.blueprint)
app.register_functions(syncs.blueprint)
app.register_functions(api.blueprint)
app.register_functions(gp.blueprint)
app.register_functions(dataverse.blueprint)
