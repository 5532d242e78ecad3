// The two conditions an operator must hear about without watching a dashboard: a message that
// ended in a dead-letter queue (it will never be retried on its own) and a failed function
// execution. Both go to the operations action group when an address is given.
param location string
param tags object
param serviceBusNamespaceName string
param queueNames array
param applicationInsightsName string

@description('Address that receives the alerts; empty leaves them visible in the portal only.')
param operationsEmail string

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource operations 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(operationsEmail)) {
  name: 'ag-hub-operations'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'hub-ops'
    enabled: true
    emailReceivers: [
      {
        name: 'operations'
        emailAddress: operationsEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var metricAlertActions = empty(operationsEmail) ? [] : [{ actionGroupId: operations.id }]

resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'hub-dead-lettered-messages'
  location: 'global'
  tags: tags
  properties: {
    description: 'A message is in the dead-letter queue of a hub queue. It will not be retried on its own: read its dead-letter reason, fix the cause and resubmit it through the hub API.'
    severity: 2
    enabled: true
    scopes: [
      serviceBus.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'DeadLetteredMessages'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          // Splitting by queue makes one alert per queue, naming the queue that needs attention.
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: queueNames
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    autoMitigate: true
    actions: metricAlertActions
  }
}

resource failedExecutions 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = {
  name: 'hub-failed-function-executions'
  location: location
  tags: tags
  properties: {
    displayName: 'Hub: failed function executions'
    description: 'A hub function execution failed. Open the failed request in Application Insights and follow its operation id through HTTP, Service Bus and load.'
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          // Each function execution is recorded as a request; one alert per failing function.
          query: 'requests | where success == false | project operation_Name'
          timeAggregation: 'Count'
          dimensions: [
            {
              name: 'operation_Name'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: empty(operationsEmail) ? [] : [operations.id]
    }
  }
}
