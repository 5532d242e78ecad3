// The vault that holds the hub's passwords and client secrets. Access is by Azure RBAC only
// (no access policies), and soft delete with purge protection keeps a deleted secret
// recoverable for 90 days.
//
// The hub reads these secrets by name (shared/platform/secrets.py); their values are set out of
// band, never in a template, so a redeploy cannot overwrite or reveal them:
//   dataverse-client-secret, edw-sql-password, gp-sql-password
param name string
param location string
param tags object

@description('Enabled, or Disabled when the vault is reached through its private endpoint only.')
param publicNetworkAccess string = 'Enabled'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      defaultAction: publicNetworkAccess == 'Disabled' ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
