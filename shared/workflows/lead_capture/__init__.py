"""Lead capture: web forms and marketing tools post leads to the hub, which files them in Salesforce."""
