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
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
