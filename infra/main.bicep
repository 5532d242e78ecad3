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

@description('Host name of the SQL Server that holds the GP company databases, as the Function App sees it through its hybrid connection. Empty leaves GP posting off (GP_SMARTCONNECT_URL and GP_SQL_URL unset).')
param gpSqlHost string = ''

@description('The SharePoint Revenue lists the RSS deposit check watches, as <site-id>/<list-id> separated by ";" (Graph ids). Empty leaves revenue submissions off.')
param rssRevenueLists string = ''

@description('The mailbox RSS rejections are sent from through Graph sendMail (the app registration needs Mail.Send).')
param rssMailbox string = ''

@description('SQL Server login the hub reads the GP company databases with (password: Key Vault secret gp-sql-password).')
param gpSqlLogin string = 'svc-integration-hub'

@description('Further on-premises host:port pairs to reach through App Service Hybrid Connections; the EDW, SmartConnect and GP SQL endpoints are added from the parameters above.')
param extraOnPremisesEndpoints array = []

@minLength(1)
@description('Client id of the API\'s Entra app registration (API_ENTRA_CLIENT_ID): Power Automate\'s connector and operators call /api/v1 with its tokens and app roles. Production is never function-key-only.')
param apiEntraClientId string

@description('Tenant of that app registration (API_ENTRA_TENANT_ID); empty is the deployment\'s own tenant.')
param apiEntraTenantId string = ''

@minValue(1)
@description('Days a staged batch (hub-staging/batches/) is kept before the lifecycle rule deletes it; a run loads its batches within minutes, so this only bounds what an investigation can re-read.')
param stagedBatchDays int = 14

@minValue(1)
@description('Days quarantined rows (hub-staging/quarantine/) are kept for an operator to read and fix at the source.')
param quarantineDays int = 90

@minValue(1)
@description('Days each GP audit-trail entry (container hub-audit) stays immutable: no one, the hub included, can change or delete it before then.')
param auditRetentionDays int = 2555

@description('Put Storage, Service Bus and Key Vault behind private endpoints in a new VNet, with the Function App integrated into it and their public access off. Service Bus private endpoints need the Premium tier, so this also makes the namespace Premium.')
param privateNetworking bool = false

@description('Address space of that VNet (only with privateNetworking).')
param vnetAddressPrefix string = '10.40.0.0/24'

@minValue(1)
@description('Fewest instances the plan runs.')
param minimumInstances int = 1

@minValue(1)
@description('Most instances autoscale may add when CPU or the work queues run high; each opens its own connections to the on-premises servers.')
param maximumInstances int = 3

@description('Address that receives the hub\'s alerts; leave empty to have alerts only in the portal.')
param operationsEmail string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var stagingContainer = 'hub-staging'
var stateContainer = 'hub-state'
var auditContainer = 'hub-audit'
var edwSqlEndpoint = '${edwSqlHost}:1433'
var gpSqlEndpoint = empty(gpSqlHost) ? '' : '${gpSqlHost}:1433'
var smartConnectEndpoint = replace(replace(gpSmartConnectUrl, 'https://', ''), 'http://', '')
var onPremisesEndpoints = union([edwSqlEndpoint, smartConnectEndpoint], empty(gpSqlEndpoint) ? [] : [gpSqlEndpoint], extraOnPremisesEndpoints)
// shared/settings.py names the state tables <prefix>Runs, <prefix>Postings, <prefix>Streams, <prefix>Budgets.
var stateTablePrefix = 'hub'
// hubRoles: what the hub's identity may do on each queue, and nothing on the others. It receives
// from every work queue (a trigger each) and sends to each too: the API and the engine queue work,
// and a retry is the same message sent back to its own queue, scheduled.
var queues = [
  {
    name: 'sync-requests'
    maxDeliveryCount: 10
    hubRoles: ['send', 'receive']
  }
  {
    name: 'batch-loads'
    maxDeliveryCount: 5
    hubRoles: ['send', 'receive']
  }
  {
    name: 'gp-postings'
    maxDeliveryCount: 5
    hubRoles: ['send', 'receive']
  }
  {
    name: 'dataverse-events'
    maxDeliveryCount: 5
    hubRoles: ['send', 'receive']
  }
  {
    name: 'rss-submissions'
    maxDeliveryCount: 5
    hubRoles: ['send', 'receive']
  }
  {
    name: 'lead-captures'
    maxDeliveryCount: 5
    hubRoles: ['send', 'receive']
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
    auditContainerName: auditContainer
    auditRetentionDays: auditRetentionDays
    expiringPrefixes: [
      {
        prefix: '${stagingContainer}/batches/'
        days: stagedBatchDays
      }
      {
        prefix: '${stagingContainer}/quarantine/'
        days: quarantineDays
      }
    ]
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    tableNames: [
      '${stateTablePrefix}Runs'
      '${stateTablePrefix}Postings'
      '${stateTablePrefix}Streams'
      '${stateTablePrefix}Budgets'
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
    premium: privateNetworking
  }
}

module keyVault 'core/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
  }
}

module network 'core/network.bicep' = if (privateNetworking) {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-${resourceToken}'
    location: location
    tags: tags
    addressPrefix: vnetAddressPrefix
    storageAccountId: storage.outputs.id
    serviceBusNamespaceId: serviceBus.outputs.id
    keyVaultId: keyVault.outputs.id
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
    queues: queues
    runEventsTopic: runEventsTopic
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
    subnetId: privateNetworking ? network.outputs.appSubnetId : ''
    minimumInstances: minimumInstances
    maximumInstances: maximumInstances
    serviceBusNamespaceId: serviceBus.outputs.id
    scaleOutQueues: [queues[0].name, queues[1].name]
    hubSettings: union({
      STAGING_CONTAINER: stagingContainer
      STATE_CONTAINER: stateContainer
      AUDIT_CONTAINER: auditContainer
      API_ENTRA_CLIENT_ID: apiEntraClientId
      API_ENTRA_TENANT_ID: empty(apiEntraTenantId) ? tenant().tenantId : apiEntraTenantId
      STATE_TABLE_PREFIX: stateTablePrefix
      SYNC_REQUESTS_QUEUE: queues[0].name
      BATCH_LOADS_QUEUE: queues[1].name
      GP_POSTINGS_QUEUE: queues[2].name
      DATAVERSE_EVENTS_QUEUE: queues[3].name
      RSS_SUBMISSIONS_QUEUE: queues[4].name
      LEAD_CAPTURES_QUEUE: queues[5].name
      RUN_EVENTS_TOPIC: runEventsTopic
      DATAVERSE_URL: dataverseUrl
      DATAVERSE_COLLATION: 'CI_AI'
      DATAVERSE_TENANT_ID: dataverseTenantId
      DATAVERSE_CLIENT_ID: dataverseClientId
      // The SQL login's password is the Key Vault secret edw-sql-password, read through the SecretStore.
      EDW_SQL_URL: 'mssql+pymssql://${edwSqlLogin}@${edwSqlHost}:1433/TP_EDW'
      SQL_QUERY_TIMEOUT_SECONDS: '300'
      WAGE_RATE_DIFFERENTIAL_PAY: 'dollars_only'
      ACTUALS_REREAD_DAYS: '3'
      BUDGET_FIXED_FROM: '01-01'
      MASTER_CUSTOMER_SITES_SCHEDULE: '0 0 3 * * *'
      USER_ROLES_AND_SITES_SCHEDULE: '0 0 7 * * *'
      JOB_CODES_SCHEDULE: '0 30 7 * * *'
      WAGE_RATES_SCHEDULE: '0 0 */4 * * *'
      BILLABLE_EXPENSE_BUDGETS_SCHEDULE: '0 0 8 * * *'
      GL_ACTUALS_SCHEDULE: '0 0 9 * * *'
      PAYROLL_ACTUALS_SCHEDULE: '0 0 4 * * *'
      STATISTICS_ACTUALS_SCHEDULE: '0 30 4 * * *'
      BUDGET_MONTHLY_SCHEDULE: '0 15 8 * * *'
      DAILY_BUDGET_BASELINE_SCHEDULE: '0 30 8 * * *'
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
      BILLING_RECONCILIATION_SCHEDULE: '0 0 12 6 * *'
      BILLING_REPORTING_SCHEDULE: '0 50 * * * *'
      SALESFORCE_PIPELINE_REPORTING_SCHEDULE: '0 25 * * * *'
      WATCHDOG_SCHEDULE: '0 */5 * * * *'
      RETRY_FIRST_DELAY_SECONDS: '10'
      RETRY_MAX_DELAY_SECONDS: '300'
      RETRY_BUDGET_MINUTES: '60'
      GP_COMPANIES: 'TOWNE,ENC,UPP'
      GP_PAYMENT_STATUS_SCHEDULE: '0 20 * * * *'
      // The RSS timers' schedules are read as %SETTING%, so they are set even while RSS is off.
      RSS_SUBSCRIPTIONS_SCHEDULE: '0 0 8 * * *'
      RSS_SWEEP_SCHEDULE: '0 */15 * * * *'
      GP_CUSTOMERS_SCHEDULE: '0 40 2 * * *'
      SALESFORCE_PIPELINE_SCHEDULE: '0 10 * * * *'
      SALESFORCE_API_SHARE: '0.5'
      SALESFORCE_BULK_THRESHOLD: '10000'
    }, empty(gpSqlHost) ? {} : {
      // GP posting turns on only with both: the hub checks GP's tables before any retry.
      GP_SMARTCONNECT_URL: gpSmartConnectUrl
      // The login's password is the Key Vault secret gp-sql-password; {company} is filled per company.
      GP_SQL_URL: 'mssql+pymssql://${gpSqlLogin}@${gpSqlEndpoint}/{company}'
    }, empty(rssRevenueLists) ? {} : {
      // Graph calls the webhook on the app's own host name; clientState is Key Vault secret rss-webhook-secret.
      RSS_REVENUE_LISTS: rssRevenueLists
      RSS_MAILBOX: rssMailbox
      RSS_NOTIFICATION_URL: 'https://func-api-${resourceToken}.azurewebsites.net/api/graph/notifications'
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
