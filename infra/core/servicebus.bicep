// The hub's Service Bus: work queues the triggers consume and the run-events topic operators
// subscribe to. Local (SAS) auth is off, so senders and receivers need an Entra data role.
param name string
param location string
param tags object

@description('Queues as { name, maxDeliveryCount }: how many failed deliveries a message gets before it is dead-lettered.')
param queues array
param topicName string
param subscriptionName string

// A short lock lets a message whose worker died be delivered again within a minute; while a
// handler is running, the Functions host keeps renewing the lock (host.json
// maxAutoLockRenewalDuration), so long loads are not redelivered.
var lockDuration = 'PT1M'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
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
// serviceBusEndpoint is https://<name>.servicebus.windows.net:443/; the SDK and the Functions
// host want the bare host name, and deriving it keeps sovereign clouds right.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
