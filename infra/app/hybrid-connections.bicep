// Links each Relay hybrid connection to the Function App, so the app can open TCP to the
// on-premises host:port by its plain name. App Service authenticates to Relay with a Send key
// (there is no managed-identity option for Hybrid Connections); the key is read here at deploy
// time and goes straight into the site's configuration, never into an output or app setting.
param functionAppName string
param relayNamespaceName string

@description('The hybrid connections as relay.bicep outputs them: { name, endpoint, host, port }.')
param hybridConnections array

@description('Authorization rule (Send rights) each hybrid connection has for App Service.')
param sendKeyName string

resource namespace 'Microsoft.Relay/namespaces@2021-11-01' existing = {
  name: relayNamespaceName
}

// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/; App Service wants the suffix
// (.servicebus.windows.net), which differs in sovereign clouds.
var serviceBusEndpoint = namespace.properties.serviceBusEndpoint
var serviceBusSuffix = split(substring(serviceBusEndpoint, indexOf(serviceBusEndpoint, '.servicebus')), ':')[0]

resource links 'Microsoft.Web/sites/hybridConnectionNamespaces/relays@2024-04-01' = [
  for connection in hybridConnections: {
    name: '${functionAppName}/${relayNamespaceName}/${connection.name}'
    properties: {
      serviceBusNamespace: relayNamespaceName
      serviceBusSuffix: serviceBusSuffix
      relayName: connection.name
      relayArmUri: resourceId('Microsoft.Relay/namespaces/hybridConnections', relayNamespaceName, connection.name)
      hostname: connection.host
      port: connection.port
      sendKeyName: sendKeyName
      sendKeyValue: listKeys(
        resourceId(
          'Microsoft.Relay/namespaces/hybridConnections/authorizationRules',
          relayNamespaceName,
          connection.name,
          sendKeyName
        ),
        '2021-11-01'
      ).primaryKey
    }
  }
]
