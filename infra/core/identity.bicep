// The one identity the Function App uses for everything: storage, Service Bus, Key Vault and
// telemetry. A user-assigned identity outlives the app, so role assignments survive re-creating
// the site.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
