// The Azure Relay namespace behind App Service Hybrid Connections: one hybrid connection per
// on-premises host:port (the EDW SQL Server, the GP SmartConnect service, ...). The Hybrid
// Connection Manager installed on-premises listens on each one; the Function App sends.
//
// Hybrid Connections carry TCP to one fixed host and port, with no UDP: a named SQL Server
// instance such as EDW-NODE-01\TP_EDW01 must listen on a static port (1433 here), because the
// SQL Browser lookup on UDP 1434 cannot cross.
param name string
param location string
param tags object

@description('On-premises endpoints as host:port, exactly as the Function App will address them.')
param endpoints array

// App Service authenticates to a hybrid connection with a Send key; the Hybrid Connection
// Manager uses a Listen key. Separate rules let either be rotated alone.
var sendKeyName = 'defaultSender'
var listenKeyName = 'defaultListener'

var hybridConnections = [
  for endpoint in endpoints: {
    name: toLower(replace(endpoint, ':', '-'))
    endpoint: endpoint
    host: split(endpoint, ':')[0]
    port: int(split(endpoint, ':')[1])
  }
]

resource namespace 'Microsoft.Relay/namespaces@2021-11-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
}

resource connections 'Microsoft.Relay/namespaces/hybridConnections@2021-11-01' = [
  for connection in hybridConnections: {
    parent: namespace
    name: connection.name
    properties: {
      requiresClientAuthorization: true
      // App Service and the Hybrid Connection Manager read the target host:port from here.
      userMetadata: string([
        {
          key: 'endpoint'
          value: connection.endpoint
        }
      ])
    }
  }
]

resource sendRules 'Microsoft.Relay/namespaces/hybridConnections/authorizationRules@2021-11-01' = [
  for index in range(0, length(hybridConnections)): {
    parent: connections[index]
    name: sendKeyName
    properties: {
      rights: [
        'Send'
      ]
    }
  }
]

resource listenRules 'Microsoft.Relay/namespaces/hybridConnections/authorizationRules@2021-11-01' = [
  for index in range(0, length(hybridConnections)): {
    parent: connections[index]
    name: listenKeyName
    properties: {
      rights: [
        'Listen'
      ]
    }
  }
]

output name string = namespace.name
output sendKeyName string = sendKeyName
@description('Each hybrid connection as { name, endpoint, host, port }.')
output hybridConnections array = hybridConnections
