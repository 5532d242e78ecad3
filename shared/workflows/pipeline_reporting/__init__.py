"""The weighted Salesforce pipeline for Power BI: by stage, region and expected opening month, in TP_STAGE."""
