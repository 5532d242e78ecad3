"""The hub's ``/api/v1``: what Power Platform calls, kept free of any web framework.

``functions/api.py`` turns each Functions HTTP request into an ``ApiRequest``
and hands it here; everything that decides the answer (who the caller is,
what they may do, validation, problem details, audit, the OpenAPI document)
lives in this package so it can be tested without a host.
"""
