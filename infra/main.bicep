// The Towne Park Integration Hub in Azure: one resource group holding the Function App and
// everything it reaches, with one user-assigned identity and no connection strings.
// `azd provision` deploys this file; each module declares one concern.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds the resource names and tags every resource.')
param environmentName string

@minLength(1)
@description('Azure region for every resource.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of whoever runs azd (AZURE_PRINCIPAL_ID). Gets the right to set Key Vault secret values; leave empty to grant nothing.')
param principalId string = ''

@minLength(1)
@description('Dataverse environment URL, e.g. https://contoso.crm.dynamics.com.')
param dataverseUrl string

@description('The Salesforce org\'s My Domain URL (https://<domain>.my.salesforce.com); empty: no Salesforce streams.')
param salesforceUrl string = ''

@description('The Salesforce connected app\'s consumer key (client credentials flow).')
param salesforceClientId string = ''

@minLength(1)
@description('Entra tenant of the app registration the hub signs in to Dataverse as.')
param dataverseTenantId string

@minLength(1)
@description('Client id of that app registration (an application user in the Dataverse environment).')
param dataverseClientId string

@description('Host name of the EDW SQL Server as the Function App sees it through its hybrid connection.')
param edwSqlHost string = 'EDW-NODE-01'

@description('SQL Server login the hub reads TP_EDW, TP_LEGION and TP_STAGE with (password: Key Vault secret edw-sql-password)')
param edwSqlLogin string = 'svc-integration-hub'

@description('eOne SmartConnect on the GP application server (scheme, host, port), reached through its hybrid connection; the SOAP path is GP_SMARTCONNECT_PATH.')
param gpSmartConnectUrl string = 'http://p-gp18-app2:5556'

@description('GP company databases as a SQLAlchemy URL with a {company} placeholder, e.g. mssql+pymssql://svc-integration-hub@<gp-sql-host>:1433/{company} (password: Key Vault secret gp-sql-password). Empty leaves GP posting off; add the host:1433 to onPremisesEndpoints too.')
param gpSqlUrl string = ''

@description('On-premises host:port pairs the Function App reaches through App Service Hybrid Connections; one Relay hybrid connection each.')
param onPremisesEndpoints array = [
  'EDW-NODE-01:1433'
  'p-gp18-app2:5556'
]

@description('Address that receives the hub\'s alerts; leave empty to have alerts only in the portal.')
param operationsEmail string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var stagingContainer = 'hub-staging'
var stateContainer = 'hub-state'
// shared/settings.py names the state tables <prefix>Runs, <prefix>Postings, <prefix>Streams.
var stateTablePrefix = 'hub'
var queues = [
  {
    name: 'sync-requests'
    maxDeliveryCount: 10
  }
  {
    name: 'batch-loads'
    maxDeliveryCount: 5
  }
  {
    name: 'gp-postings'
    maxDeliveryCount: 5
  }
  {
    name: 'dataverse-events'
    maxDeliveryCount: 5
  }
  {
    name: 'lead-captures'
    maxDeliveryCount: 5
  }
]
var runEventsTopic = 'run-events'

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    containerNames: [
      stagingContainer
      stateContainer
    ]
    tableNames: [
      '${stateTablePrefix}Runs'
      '${stateTablePrefix}Postings'
      '${stateTablePrefix}Streams'
    ]
  }
}

module serviceBus 'core/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    name: 'sb-${resourceToken}'
    location: location
    tags: tags
    queues: queues
    topicName: runEventsTopic
    subscriptionName: 'operations'
    dataverseEventsQueue: queues[3].name
  }
}

module keyVault 'core/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitor 'core/monitor.bicep' = {
  name: 'monitor'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module relay 'core/relay.bicep' = {
  name: 'relay'
  scope: rg
  params: {
    name: 'relay-${resourceToken}'
    location: location
    tags: tags
    endpoints: onPremisesEndpoints
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    identityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    storageAccountName: storage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitor.outputs.applicationInsightsName
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  // The host starts as soon as the site exists; its roles must already be in place.
  dependsOn: [
    rbac
  ]
  params: {
    name: 'func-api-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobServiceUri: storage.outputs.blobServiceUri
    tableServiceUri: storage.outputs.tableServiceUri
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    keyVaultUri: keyVault.outputs.uri
    applicationInsightsConnectionString: monitor.outputs.applicationInsightsConnectionString
    hubSettings: union({
      STAGING_CONTAINER: stagingContainer
      STATE_CONTAINER: stateContainer
      STATE_TABLE_PREFIX: stateTablePrefix
      SYNC_REQUESTS_QUEUE: queues[0].name
      BATCH_LOADS_QUEUE: queues[1].name
      GP_POSTINGS_QUEUE: queues[2].name
      DATAVERSE_EVENTS_QUEUE: queues[3].name
      LEAD_CAPTURES_QUEUE: queues[4].name
      RUN_EVENTS_TOPIC: runEventsTopic
      DATAVERSE_URL: dataverseUrl
      DATAVERSE_COLLATION: 'CI_AI'
      DATAVERSE_TENANT_ID: dataverseTenantId
      DATAVERSE_CLIENT_ID: dataverseClientId
      // The SQL login's password is the Key Vault secret edw-sql-password, read through the SecretStore.
      EDW_SQL_URL: 'mssql+pymssql://${edwSqlLogin}@${edwSqlHost}:1433/TP_EDW'
      SQL_QUERY_TIMEOUT_SECONDS: '300'
      WAGE_RATE_DIFFERENTIAL_PAY: 'dollars_only'
      MASTER_CUSTOMER_SITES_SCHEDULE: '0 0 3 * * *'
      USER_ROLES_AND_SITES_SCHEDULE: '0 0 7 * * *'
      JOB_CODES_SCHEDULE: '0 30 7 * * *'
      WAGE_RATES_SCHEDULE: '0 0 */4 * * *'
      BILLABLE_EXPENSE_BUDGETS_SCHEDULE: '0 0 8 * * *'
      SHIFT_CHANGES_SCHEDULE: '0 */5 * * * *'
      USER_ACCESS_CHANGES_SCHEDULE: '0 */2 * * * *'
      MASTER_SITE_CHANGES_SCHEDULE: '0 */5 * * * *'
      // Off until Towne Park's DBAs enable change tracking (and snapshot isolation) on each table.
      CHANGE_TRACKING_SHIFT_ENTITY: 'false'
      CHANGE_TRACKING_WORKDAY_RLS_BISECURITY: 'false'
      CHANGE_TRACKING_MASTER_NON_FINANCIAL: 'false'
      GP_SMARTCONNECT_PATH: '/SmartConnect.asmx'
      GP_BATCH_ID_STYLE: 'today'
      GP_SERIALISE_PER_COMPANY: 'true'
      GP_SWEEP_SCHEDULE: '0 */15 * * * *'
      WATCHDOG_SCHEDULE: '0 */5 * * * *'
      RETRY_FIRST_DELAY_SECONDS: '10'
      RETRY_MAX_DELAY_SECONDS: '300'
      RETRY_BUDGET_MINUTES: '60'
      GP_COMPANIES: 'TOWNE,ENC,UPP'
      GP_PAYMENT_STATUS_SCHEDULE: '0 20 * * * *'
      SALESFORCE_PIPELINE_SCHEDULE: '0 10 * * * *'
      SALESFORCE_API_SHARE: '0.5'
    }, empty(gpSqlUrl) ? {} : {
      // GP posting turns on only with both: the hub checks GP's tables before any retry.
      GP_SMARTCONNECT_URL: gpSmartConnectUrl
      GP_SQL_URL: gpSqlUrl
    }, empty(salesforceUrl) ? {} : {
      // The connected app's consumer secret is the Key Vault secret salesforce-client-secret.
      SALESFORCE_URL: salesforceUrl
      SALESFORCE_CLIENT_ID: salesforceClientId
    })
  }
}

module hybridConnections 'app/hybrid-connections.bicep' = {
  name: 'hybrid-connections'
  scope: rg
  params: {
    functionAppName: api.outputs.name
    relayNamespaceName: relay.outputs.name
    hybridConnections: relay.outputs.hybridConnections
    sendKeyName: relay.outputs.sendKeyName
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    serviceBusNamespaceName: serviceBus.outputs.name
    queueNames: [for queue in queues: queue.name]
    applicationInsightsName: monitor.outputs.applicationInsightsName
    operationsEmail: operationsEmail
    healthUrl: '${api.outputs.uri}/api/health'
  }
}

module diagnostics 'app/diagnostics.bicep' = {
  name: 'diagnostics'
  scope: rg
  params: {
    workspaceId: monitor.outputs.workspaceId
    serviceBusNamespaceName: serviceBus.outputs.name
    functionAppName: api.outputs.name
  }
}

module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsName: monitor.outputs.applicationInsightsName
    serviceBusNamespaceName: serviceBus.outputs.name
  }
}

// azd loads these outputs into hook and script environments, so none is named like a setting
// the hub or the Azure SDK reads (AZURE_CLIENT_ID, KEY_VAULT_URI, ...): a local run must not be
// steered to the Azure resources or the app's identity by them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output API_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_RELAY_NAMESPACE string = relay.outputs.name
