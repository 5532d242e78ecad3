// The hub's Function App (Python 3.11, Linux) and its plan, running as the user-assigned
// identity with identity-based connections only.
//
// Why a Dedicated Premium v3 (P1v3) plan: the hub reaches the on-premises SQL Servers and
// SmartConnect through App Service Hybrid Connections, which need a Premium or Dedicated plan
// (never Consumption; Flex Consumption support is unconfirmed), and the App Service page documents
// them for Linux apps (PROTOCOLS.md §4.4). Unlike Elastic Premium, a Dedicated plan keeps the app's
// code on the platform's own storage, not an Azure Files share that only a storage key can mount,
// so `azd deploy` (zip deploy with an Oryx remote build) works while the storage account allows no
// shared keys. The host reaches its own storage by identity (AzureWebJobsStorage__*).
//
// Scale: Dedicated plans have no event-driven scale controller, so App Service autoscale rules on
// the plan (below) add an instance when CPU or the work queues' backlog runs high and remove one
// when both are quiet, between minimumInstances and maximumInstances.
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string

@description('Blob endpoint of the storage account, https://<account>.blob.core.windows.net/.')
param blobServiceUri string

@description('Table endpoint of the same account, https://<account>.table.core.windows.net/.')
param tableServiceUri string

@description('Service Bus host name, <namespace>.servicebus.windows.net.')
param serviceBusNamespace string
param keyVaultUri string
param applicationInsightsConnectionString string

@description('The hub\'s own settings (entity names, Dataverse, on-premises hosts), as name: value.')
param hubSettings object

@description('Fewest instances the plan runs; each one opens its own connections to the on-premises servers.')
@minValue(1)
param minimumInstances int

@description('Most instances autoscale may run.')
@minValue(1)
param maximumInstances int

@description('The Service Bus namespace, whose queue depths scale the plan out.')
param serviceBusNamespaceId string

@description('Queues whose backlog adds an instance: a month-end close queues many runs at once.')
param scaleOutQueues array

@description('Subnet for regional VNet integration (main.bicep privateNetworking); empty for none.')
param subnetId string = ''

var platformSettings = {
  FUNCTIONS_EXTENSION_VERSION: '~4'
  FUNCTIONS_WORKER_RUNTIME: 'python'
  AzureWebJobsStorage__blobServiceUri: blobServiceUri
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // `azd deploy` uploads the source; the platform's Oryx build installs requirements.txt for
  // Linux before the new code starts.
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
  ENABLE_ORYX_BUILD: 'true'
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  // Application Insights has local auth off; telemetry is sent with the identity's Entra token
  // (the identity holds Monitoring Metrics Publisher on the component, app/rbac.bicep).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
  // The Python worker hands each invocation the host's trace context, so the hub's spans are
  // children of the host's request (host.json sets "telemetryMode": "OpenTelemetry").
  PYTHON_ENABLE_OPENTELEMETRY: 'true'
  // Service Bus and HTTP invocations share the worker's one thread pool, whose default is the cores
  // plus 4 (6 on two). Six queue triggers at host.json's maxConcurrentCalls of 4 can take 24 threads,
  // and a month-end load left API calls waiting 30 s for one; 32 is the worker's maximum
  // (tests/test_infra.py holds it above the triggers' share).
  PYTHON_THREADPOOL_THREAD_COUNT: '32'
}

// The names shared/settings.py reads; AZURE_CLIENT_ID makes the identity the default for the
// Azure SDK credentials the hub builds itself.
var connectionSettings = {
  AZURE_CLIENT_ID: identityClientId
  StagingStorage__blobServiceUri: blobServiceUri
  StagingStorage__tableServiceUri: tableServiceUri
  StagingStorage__clientId: identityClientId
  ServiceBusConnection__fullyQualifiedNamespace: serviceBusNamespace
  ServiceBusConnection__credential: 'managedidentity'
  ServiceBusConnection__clientId: identityClientId
  KEY_VAULT_URI: keyVaultUri
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: 'P1v3'
    tier: 'PremiumV3'
    capacity: minimumInstances
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the site to deploy the `api` service to by this tag.
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      // With VNet integration, all outbound traffic goes through it, so the private endpoints' DNS applies.
      vnetRouteAllEnabled: !empty(subnetId)
      linuxFxVersion: 'Python|3.11'
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // On a Dedicated plan an idle host stops polling its Service Bus and timer triggers.
      alwaysOn: true
      // App Service calls it every minute on each instance and, with more than one instance,
      // stops routing to one that keeps failing it (anonymous; 503 names the dependency down).
      healthCheckPath: '/api/health'
      appSettings: [
        for setting in items(union(platformSettings, connectionSettings, hubSettings)): {
          name: setting.key
          value: setting.value
        }
      ]
    }
  }
}

// `azd deploy` signs in to the deployment (SCM) site with Entra ID, so the publishing
// user name and password are switched off.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// Out when CPU passes 70 % or a work queue holds more than 500 active messages for 10 minutes;
// in when CPU stays under 30 % for 20 minutes. A 10-minute cool-down keeps a month-end burst from
// flapping the instance count (each change reconnects to the on-premises servers).
var scaleOut = {
  direction: 'Increase'
  type: 'ChangeCount'
  value: '1'
  cooldown: 'PT10M'
}

resource autoscale 'Microsoft.Insights/autoscalesettings@2022-10-01' = {
  name: '${planName}-autoscale'
  location: location
  tags: tags
  properties: {
    enabled: true
    targetResourceUri: plan.id
    profiles: [
      {
        name: 'cpu-and-backlog'
        capacity: {
          minimum: string(minimumInstances)
          maximum: string(maximumInstances)
          default: string(minimumInstances)
        }
        rules: concat(
          [
            {
              metricTrigger: {
                metricName: 'CpuPercentage'
                metricResourceUri: plan.id
                timeGrain: 'PT1M'
                statistic: 'Average'
                timeWindow: 'PT10M'
                timeAggregation: 'Average'
                operator: 'GreaterThan'
                threshold: 70
              }
              scaleAction: scaleOut
            }
            {
              metricTrigger: {
                metricName: 'CpuPercentage'
                metricResourceUri: plan.id
                timeGrain: 'PT1M'
                statistic: 'Average'
                timeWindow: 'PT20M'
                timeAggregation: 'Average'
                operator: 'LessThan'
                threshold: 30
              }
              scaleAction: {
                direction: 'Decrease'
                type: 'ChangeCount'
                value: '1'
                cooldown: 'PT10M'
              }
            }
          ],
          [
            for queue in scaleOutQueues: {
              metricTrigger: {
                metricName: 'ActiveMessages'
                metricNamespace: 'Microsoft.ServiceBus/namespaces'
                metricResourceUri: serviceBusNamespaceId
                dimensions: [
                  {
                    DimensionName: 'EntityName'
                    Operator: 'Equals'
                    Values: [
                      queue
                    ]
                  }
                ]
                timeGrain: 'PT1M'
                statistic: 'Average'
                timeWindow: 'PT10M'
                timeAggregation: 'Average'
                operator: 'GreaterThan'
                threshold: 500
              }
              scaleAction: scaleOut
            }
          ]
        )
      }
    ]
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
