// The operations workbook admins open first: per-stream runs, rows moved, lag, failures by error
// class, GP postings and API latency, as charts over the chosen time range. Every query reads a
// name the code emits (shared/telemetry/names.py; tests/telemetry fails on any other name).
// Declared here so every environment gets the same view.
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

// The Stream picker's choices: every stream that settled a run in the time range.
var streamChoices = '''
customMetrics
| where name == "hub.sync.runs"
| distinct stream = tostring(customDimensions["hub.stream"])
| order by stream asc
'''

// {Stream} is the picker's selection, quoted and comma-separated; '*' when it is "All".
// {TimeRange:grain} is the bin the chart's time range calls for.
var runsPerStream = '''
customMetrics
| where name == "hub.sync.runs"
| extend stream = tostring(customDimensions["hub.stream"])
| where "*" in ({Stream}) or stream in ({Stream})
| summarize runs = sum(valueSum) by stream, bin(timestamp, {TimeRange:grain})
'''

var runsByOutcome = '''
customMetrics
| where name == "hub.sync.runs"
| extend stream = tostring(customDimensions["hub.stream"]), outcome = tostring(customDimensions["hub.outcome"])
| where "*" in ({Stream}) or stream in ({Stream})
| summarize runs = sum(valueSum) by outcome, bin(timestamp, {TimeRange:grain})
'''

var rowsByStage = '''
customMetrics
| where name == "hub.sync.rows"
| extend stream = tostring(customDimensions["hub.stream"]), row_stage = tostring(customDimensions["hub.row_stage"])
| where "*" in ({Stream}) or stream in ({Stream})
| summarize rows = sum(valueSum) by row_stage, bin(timestamp, {TimeRange:grain})
'''

var rowsPerStream = '''
customMetrics
| where name == "hub.sync.rows"
| extend stream = tostring(customDimensions["hub.stream"]), row_stage = tostring(customDimensions["hub.row_stage"])
| where "*" in ({Stream}) or stream in ({Stream})
| summarize rows = sum(valueSum) by stream, row_stage
| evaluate pivot(row_stage, sum(rows))
| order by stream asc
'''

// The gauge is recorded at each run's settle and every watchdog sweep; the chart shows its
// highest reading per bin, in hours.
var lagPerStream = '''
customMetrics
| where name == "hub.sync.lag"
| extend stream = tostring(customDimensions["hub.stream"])
| where "*" in ({Stream}) or stream in ({Stream})
| summarize lag_hours = round(max(value) / 3600, 2) by stream, bin(timestamp, {TimeRange:grain})
'''

// Whether a run's span is a request or a dependency depends on its kind; both tables are read.
var failuresByErrorClass = '''
union requests, dependencies
| where name in ("sync request", "batch load") and success == false
| extend stream = tostring(customDimensions["hub.stream"]), error_class = tostring(customDimensions["hub.error_class"])
| where "*" in ({Stream}) or stream in ({Stream})
| summarize failures = sum(itemCount) by error_class, bin(timestamp, {TimeRange:grain})
'''

var deadLetteredByHub = '''
customMetrics
| where name == "hub.messages.dead_lettered"
| extend queue = tostring(customDimensions["hub.queue"]), error_class = tostring(customDimensions["hub.error_class"])
| summarize messages = sum(valueSum) by queue, error_class
| order by messages desc
'''

var latestErrorLogs = '''
traces
| where severityLevel >= 3
| extend stream = tostring(customDimensions["hub.stream"]), run_id = tostring(customDimensions["hub.run_id"]), error_class = tostring(customDimensions["hub.error_class"]), correlation_id = tostring(customDimensions["hub.correlation_id"])
| where "*" in ({Stream}) or stream in ({Stream})
| project timestamp, stream, run_id, error_class, message, correlation_id, operation_Id
| order by timestamp desc
| take 50
'''

var latestFailedExecutions = '''
requests
| where success == false
| join kind=leftouter (exceptions | project operation_Id, problemId, outerMessage) on operation_Id
| project timestamp, function = operation_Name, resultCode, problemId, outerMessage, operation_Id
| order by timestamp desc
| take 50
'''

var gpDocumentsByOutcome = '''
customMetrics
| where name == "hub.gp.documents"
| extend outcome = tostring(customDimensions["hub.outcome"])
| summarize documents = sum(valueSum) by outcome, bin(timestamp, {TimeRange:grain})
'''

var gpAmountsByOutcome = '''
customMetrics
| where name in ("hub.gp.documents", "hub.gp.amount")
| extend company = tostring(customDimensions["hub.gp_company"]), outcome = tostring(customDimensions["hub.outcome"])
| summarize documents = sumif(valueSum, name == "hub.gp.documents"), amount_usd = round(sumif(valueSum, name == "hub.gp.amount"), 2) by company, outcome
| order by company asc, outcome asc
'''

var latestGpPostings = '''
union requests, dependencies
| where name == "gp posting"
| project timestamp, gp_request_id = tostring(customDimensions["hub.gp_request_id"]), company = tostring(customDimensions["hub.gp_company"]), documents = toint(customDimensions["hub.documents"]), outcome = tostring(customDimensions["hub.outcome"]), success, operation_Id
| order by timestamp desc
| take 50
'''

// hub.api.duration reaches customMetrics as sum, count, min and max per export, which holds no
// percentiles; the "api call" spans carry each call's duration, so p50 and p95 come from them.
var apiLatencyOverTime = '''
union requests, dependencies
| where name == "api call"
| extend operation = tostring(customDimensions["hub.operation"])
| summarize p95_ms = percentile(duration, 95) by operation, bin(timestamp, {TimeRange:grain})
'''

var apiLatencyByOperation = '''
let calls = customMetrics
    | where name == "hub.api.duration"
    | extend operation = tostring(customDimensions["hub.operation"]), status = toint(customDimensions["http.response.status_code"])
    | summarize calls = sum(valueCount), errors = sumif(valueCount, status >= 500), mean_ms = round(1000 * sum(valueSum) / sum(valueCount), 1), max_ms = round(1000 * max(valueMax), 1) by operation;
let spans = union requests, dependencies
    | where name == "api call"
    | extend operation = tostring(customDimensions["hub.operation"])
    | summarize p50_ms = round(percentile(duration, 50), 1), p95_ms = round(percentile(duration, 95), 1) by operation;
calls
| join kind=leftouter spans on operation
| project operation, calls, errors, p50_ms, p95_ms, mean_ms, max_ms
| order by calls desc
'''

var throttledBySystem = '''
customMetrics
| where name == "hub.http.throttled"
| extend system = tostring(customDimensions["hub.system"])
| summarize throttled = sum(valueSum) by system, bin(timestamp, {TimeRange:grain})
'''

// One entry per chart or table; `width` is the percentage of the row it takes.
var queryItems = [
  {
    name: 'runs-per-stream'
    title: 'Runs per stream'
    query: runsPerStream
    visualization: 'barchart'
    width: '50'
  }
  {
    name: 'runs-by-outcome'
    title: 'Runs by outcome (failed, partially_failed, dead_lettered raise an alert)'
    query: runsByOutcome
    visualization: 'barchart'
    width: '50'
  }
  {
    name: 'rows-by-stage'
    title: 'Rows moved, by stage'
    query: rowsByStage
    visualization: 'barchart'
    width: '50'
  }
  {
    name: 'rows-per-stream'
    title: 'Rows per stream and stage'
    query: rowsPerStream
    visualization: 'table'
    width: '50'
  }
  {
    name: 'lag-per-stream'
    title: 'Lag per stream (hours behind)'
    query: lagPerStream
    visualization: 'linechart'
    width: '100'
  }
  {
    name: 'failures-by-error-class'
    title: 'Failed runs and batch loads, by error class'
    query: failuresByErrorClass
    visualization: 'barchart'
    width: '50'
  }
  {
    name: 'dead-lettered-by-hub'
    title: 'Messages the hub set aside, by queue and error class'
    query: deadLetteredByHub
    visualization: 'table'
    width: '50'
  }
  {
    name: 'latest-error-logs'
    title: 'Latest errors logged (run id and correlation id to search on)'
    query: latestErrorLogs
    visualization: 'table'
    width: '100'
  }
  {
    name: 'gp-documents-by-outcome'
    title: 'GP documents by outcome'
    query: gpDocumentsByOutcome
    visualization: 'barchart'
    width: '50'
  }
  {
    name: 'gp-amounts-by-outcome'
    title: 'GP documents and amounts (USD) by company and outcome'
    query: gpAmountsByOutcome
    visualization: 'table'
    width: '50'
  }
  {
    name: 'latest-gp-postings'
    title: 'Latest GP postings'
    query: latestGpPostings
    visualization: 'table'
    width: '100'
  }
  {
    name: 'api-latency-over-time'
    title: 'API latency, p95 per operation (ms)'
    query: apiLatencyOverTime
    visualization: 'linechart'
    width: '50'
  }
  {
    name: 'api-latency-by-operation'
    title: 'API calls and latency per operation'
    query: apiLatencyByOperation
    visualization: 'table'
    width: '50'
  }
  {
    name: 'throttled-by-system'
    title: 'Requests throttled, by system'
    query: throttledBySystem
    visualization: 'barchart'
    width: '50'
  }
  {
    name: 'latest-failed-executions'
    title: 'Latest failed function executions'
    query: latestFailedExecutions
    visualization: 'table'
    width: '50'
  }
]

var headerItems = [
  {
    type: 1
    name: 'title'
    content: {
      json: '# Towne Park Integration Hub\nRuns, rows and lag per stream, failures by error class, GP postings and API latency. A run id or correlation id from the tables finds its log lines in Logs; an `operation_Id` opens the whole trace (HTTP, Service Bus, extraction, loads) in Transaction search.'
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
        {
          id: guid('hub-workbook', 'Stream')
          version: 'KqlParameterItem/1.0'
          name: 'Stream'
          label: 'Stream'
          type: 2 // drop-down, filled by the query
          multiSelect: true
          quote: '\''
          delimiter: ','
          query: streamChoices
          queryType: 0
          resourceType: 'microsoft.insights/components'
          timeContextFromParameter: 'TimeRange'
          value: [
            'value::all'
          ]
          typeSettings: {
            additionalResourceOptions: [
              'value::all'
            ]
            selectAllValue: '*'
            showDefault: false
          }
        }
      ]
    }
  }
]

var chartItems = [
  for item in queryItems: {
    type: 3
    name: item.name
    customWidth: item.width
    content: {
      version: 'KqlItem/1.0'
      title: item.title
      query: item.query
      size: 0
      queryType: 0
      resourceType: 'microsoft.insights/components'
      timeContextFromParameter: 'TimeRange'
      visualization: item.visualization
    }
  }
]

var serviceBusItems = [
  {
    type: 10
    name: 'dead-letters'
    customWidth: '50'
    content: {
      chartId: guid('hub-workbook', 'dead-letters')
      version: 'MetricsItem/2.0'
      title: 'Messages waiting in each dead-letter queue (Service Bus)'
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
  {
    type: 10
    name: 'service-bus-throttling'
    customWidth: '50'
    content: {
      chartId: guid('hub-workbook', 'service-bus-throttling')
      version: 'MetricsItem/2.0'
      title: 'Service Bus requests throttled'
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
          metric: 'microsoft.servicebus/namespaces--ThrottledRequests'
          aggregation: 1 // total
          splitBy: [
            'EntityName'
          ]
        }
      ]
    }
  }
]

var content = {
  version: 'Notebook/1.0'
  items: concat(headerItems, chartItems, serviceBusItems)
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
