"""The sandbox Microsoft Graph: Towne Park's SharePoint Revenue lists, their RSS workbooks, subscriptions
with change notifications, and the mail the hub sends (``service.py`` says which calls are served)."""
