// Blob storage for the Functions host (AzureWebJobsStorage) and the hub's staged batches, and
// Table storage for its run records, GP posting requests and stream states. Shared keys are off, so only Entra identities with a data role get in; nothing anywhere
// holds a storage key.
param name string
param location string
param tags object
param containerNames array
param tableNames array

@description('The container GP\'s audit trail is written to: write-once under a locked time-based retention policy.')
param auditContainerName string

@description('Days each audit blob stays immutable after it is written.')
param auditRetentionDays int

@description('Blob prefixes (container/path/) deleted this many days after their last change, as { prefix, days }.')
param expiringPrefixes array

@description('Enabled, or Disabled when the account is reached through its private endpoints only.')
param publicNetworkAccess string = 'Enabled'

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: publicNetworkAccess == 'Disabled' ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

// The audit trail proves what the hub sent GP and when (README, "Great Plains"). The hub only ever
// creates its entries (create-if-absent), which a time-based retention policy allows; locking the
// policy is a deliberate admin step after the first deploy (infra/README.md), since a locked policy
// can be extended but never shortened or removed.
resource auditContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: auditContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource auditRetention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: auditContainer
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: auditRetentionDays
    allowProtectedAppendWrites: false
  }
}

// Staged batches and quarantined rows are working copies: the targets hold the data, and the run
// record keeps their counts after the blobs are gone.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        for (expiring, index) in expiringPrefixes: {
          name: 'expire-${index}'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                expiring.prefix
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: expiring.days
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

output name string = account.name
output id string = account.id
output blobServiceUri string = account.properties.primaryEndpoints.blob
output tableServiceUri string = account.properties.primaryEndpoints.table
