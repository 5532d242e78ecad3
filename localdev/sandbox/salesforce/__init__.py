"""The sandbox's Salesforce org: OAuth token endpoint, REST query/queryAll, sobjects, composite and limits."""
