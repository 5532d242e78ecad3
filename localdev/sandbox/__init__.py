"""Sandbox Entra ID and Dataverse: test doubles that speak Microsoft's documented protocols over HTTPS.

One process serves both, so the hub signs in with MSAL exactly as it does
against ``login.microsoftonline.com`` and then calls the Dataverse Web API v9.2
exactly as it does against ``{org}.crm.dynamics.com``; only the URLs differ.
"""
