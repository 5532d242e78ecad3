// Every data-plane right the hub needs, granted to its managed identity at the narrowest scope
// that works, plus the one right the person running azd needs to finish the setup by hand.
// Each assignment is named guid(scope, principal, role), so reprovisioning finds it again
// instead of failing on a duplicate.
param identityPrincipalId string

@description('Object id of the person or pipeline running azd; empty grants nothing.')
param deployerPrincipalId string
param storageAccountName string
param serviceBusNamespaceName string

@description('The work queues as main.bicep declares them; hubRoles (send, receive) says what the identity gets on each.')
param queues array

@description('The topic the hub publishes run events to (send only; operators read its subscription).')
param runEventsTopic string
param keyVaultName string
param applicationInsightsName string

// Built-in role definition ids (Azure built-in roles reference).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Owner is the role Microsoft documents for an identity-based AzureWebJobsStorage; the hub's
// staging, state and lease-based locks live in the same account and need no more than that.
resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, identityPrincipalId, roles.storageBlobDataOwner)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Run records, GP posting requests and stream states are entities in the same account's tables.
resource storageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, identityPrincipalId, roles.storageTableDataContributor)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Service Bus rights per entity, not on the namespace: a leaked token of the hub's could then not
// read the run-events subscription or post to a queue the hub never sends to.
resource workQueues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = [
  for queue in queues: {
    parent: serviceBus
    name: queue.name
  }
]

resource queueSenders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queue, index) in queues: if (contains(queue.hubRoles, 'send')) {
    name: guid(workQueues[index].id, identityPrincipalId, roles.serviceBusDataSender)
    scope: workQueues[index]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
      principalId: identityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource queueReceivers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queue, index) in queues: if (contains(queue.hubRoles, 'receive')) {
    name: guid(workQueues[index].id, identityPrincipalId, roles.serviceBusDataReceiver)
    scope: workQueues[index]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
      principalId: identityPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource runEvents 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' existing = {
  parent: serviceBus
  name: runEventsTopic
}

resource topicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(runEvents.id, identityPrincipalId, roles.serviceBusDataSender)
  scope: runEvents
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identityPrincipalId, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// With RBAC-only Key Vault, nobody can set the secret values until someone holds a role here.
resource deployerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(keyVault.id, deployerPrincipalId, roles.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
  }
}
