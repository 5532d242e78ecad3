"""The Functions entry point: checks the settings, then registers each area's blueprint."""

import azure.functions as func

from functions import api, gp, pipeline, syncs
from shared.settings import hub_settings

hub_settings()  # a missing or malformed setting stops the app here, naming the setting

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(pipeline.blueprint)
app.register_functions(syncs.blueprint)
app.register_functions(api.blueprint)
app.register_functions(gp.blueprint)
