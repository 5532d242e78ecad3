"""Microsoft Graph: SharePoint list items and their delta, drive item content, subscriptions, and mail."""
