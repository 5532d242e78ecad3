// The operations workbook admins open first: runs per connector, what failed, and what sits in
// the dead-letter queues. Declared here so every environment gets the same view.
param location string
param tags object
param applicationInsightsName string
param serviceBusNamespaceName string

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

var day = 86400000

// Runs are grouped by the `connector` dimension the hub puts on its run telemetry; a function
// execution without one (health checks, API calls) is grouped by its function name.
var runsPerConnector = '''
requests
| extend connector = tostring(customDimensions["connector"])
| extend connector = iff(isempty(connector), operation_Name, connector)
| summarize runs = count(), failed = countif(success == false), p95_seconds = round(percentile(duration, 95) / 1000, 1) by connector
| order by runs desc
'''

var failuresOverTime = '''
requests
| where success == false
| summarize failures = count() by operation_Name, bin(timestamp, 1h)
| render timechart
'''

var latestFailures = '''
requests
| where success == false
| join kind=leftouter (exceptions | project operation_Id, problemId, outerMessage) on operation_Id
| project timestamp, function = operation_Name, resultCode, problemId, outerMessage, operation_Id
| order by timestamp desc
| take 50
'''

var content = {
  version: 'Notebook/1.0'
  items: [
    {
      type: 1
      name: 'title'
      content: {
        json: '# Towne Park Integration Hub\nRuns per connector, failures and dead-lettered messages. A failed run\'s `operation_Id` opens its whole trace (HTTP, Service Bus, load) in Transaction search.'
      }
    }
    {
      type: 9
      name: 'parameters'
      content: {
        version: 'KqlParameterItem/1.0'
        style: 'pills'
        queryType: 0
        resourceType: 'microsoft.insights/components'
        parameters: [
          {
            id: guid('hub-workbook', 'TimeRange')
            version: 'KqlParameterItem/1.0'
            name: 'TimeRange'
            label: 'Time range'
            type: 4
            isRequired: true
            value: {
              durationMs: day
            }
            typeSettings: {
              selectableValues: [
                {
                  durationMs: 3600000
                }
                {
                  durationMs: day
                }
                {
                  durationMs: 7 * day
                }
                {
                  durationMs: 30 * day
                }
              ]
            }
          }
        ]
      }
    }
    {
      type: 3
      name: 'runs-per-connector'
      content: {
        version: 'KqlItem/1.0'
        title: 'Runs per connector'
        query: runsPerConnector
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      }
    }
    {
      type: 3
      name: 'failures-over-time'
      content: {
        version: 'KqlItem/1.0'
        title: 'Failed executions per function'
        query: failuresOverTime
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContextFromParameter: 'TimeRange'
        visualization: 'timechart'
      }
    }
    {
      type: 3
      name: 'latest-failures'
      content: {
        version: 'KqlItem/1.0'
        title: 'Latest failures'
        query: latestFailures
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        timeContextFromParameter: 'TimeRange'
        visualization: 'table'
      }
    }
    {
      type: 10
      name: 'dead-letters'
      content: {
        chartId: guid('hub-workbook', 'dead-letters')
        version: 'MetricsItem/2.0'
        title: 'Dead-lettered messages per queue'
        size: 0
        chartType: 2
        resourceType: 'microsoft.servicebus/namespaces'
        metricScope: 0
        resourceIds: [
          serviceBus.id
        ]
        timeContextFromParameter: 'TimeRange'
        timeContext: {
          durationMs: day
        }
        metrics: [
          {
            namespace: 'microsoft.servicebus/namespaces'
            metric: 'microsoft.servicebus/namespaces--DeadletteredMessages'
            aggregation: 3 // maximum: the metric is a count of messages waiting, not of events
            splitBy: [
              'EntityName'
            ]
          }
        ]
      }
    }
  ]
  fallbackResourceIds: [
    applicationInsights.id
  ]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; deriving it keeps redeploys updating the same one.
  name: guid(resourceGroup().id, 'hub-operations-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Towne Park Integration Hub operations'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(content)
  }
}
