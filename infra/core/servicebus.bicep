// The hub's Service Bus: work queues the triggers consume and the run-events topic operators
// subscribe to. The hub signs in with its managed identity (an Entra data role). Dataverse's
// service endpoint cannot: it authenticates to Service Bus with a SAS key, token or connection
// string only (the serviceendpoint table's AuthType), so unless dataverseSasSender is false,
// local auth stays on and one Send-only rule is declared on the events queue for it.
param name string
param location string
param tags object

@description('Queues as { name, maxDeliveryCount }: how many failed deliveries a message gets before it is dead-lettered.')
param queues array
param topicName string
param subscriptionName string

@description('The queue Dataverse\'s service endpoint posts its execution contexts to.')
param dataverseEventsQueue string

@description('Declare the events queue\'s Send-only SAS rule for Dataverse (this keeps local auth on for the namespace).')
param dataverseSasSender bool = true

@description('Premium tier, which private endpoints need. Public network access then goes off too, unless Dataverse must still post events (dataverseSasSender): Dataverse sends from Microsoft\'s cloud, not from the VNet.')
param premium bool = false

// A short lock lets a message whose worker died be delivered again within a minute; while a
// handler is running, the Functions host keeps renewing the lock (host.json
// maxAutoLockRenewalDuration), so long loads are not redelivered.
var lockDuration = 'PT1M'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: premium ? 'Premium' : 'Standard'
    tier: premium ? 'Premium' : 'Standard'
    capacity: premium ? 1 : null
  }
  properties: {
    disableLocalAuth: !dataverseSasSender
    minimumTlsVersion: '1.2'
    publicNetworkAccess: premium && !dataverseSasSender ? 'Disabled' : 'Enabled'
  }
}

resource workQueues 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = [
  for queue in queues: {
    parent: namespace
    name: queue.name
    properties: {
      lockDuration: lockDuration
      maxDeliveryCount: queue.maxDeliveryCount
      deadLetteringOnMessageExpiration: true
    }
  }
]

// What the admin pastes into the Plugin Registration Tool's service endpoint (infra/README.md):
// send only, to this queue only, so the key can neither read the hub's work nor post to other queues.
resource eventsQueue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: namespace
  name: dataverseEventsQueue
}

resource dataverseSender 'Microsoft.ServiceBus/namespaces/queues/authorizationRules@2024-01-01' = if (dataverseSasSender) {
  parent: eventsQueue
  name: 'dataverse-send'
  properties: {
    rights: [
      'Send'
    ]
  }
  dependsOn: [
    workQueues
  ]
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2024-01-01' = {
  parent: namespace
  name: topicName
}

resource subscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2024-01-01' = {
  parent: topic
  name: subscriptionName
  properties: {
    lockDuration: lockDuration
    deadLetteringOnMessageExpiration: true
  }
}

output name string = namespace.name
output id string = namespace.id
// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/; the SDK and the Functions
// host want the bare host name, and deriving it keeps sovereign clouds right.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
