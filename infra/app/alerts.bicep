// What the hub's operators must hear about without watching a dashboard. Each rule reads a
// name the code emits (shared/telemetry/names.py; tests/telemetry fails on any other name)
// and its description says what to do. All go to the operations action group when an
// address is given; each fires once per stream, queue, company or system it names.
param location string
param tags object
param serviceBusNamespaceName string
param queueNames array
param applicationInsightsName string

@description('Address that receives the alerts; empty leaves them visible in the portal only.')
param operationsEmail string

@description('The Function App\'s liveness probe, https://<host>/api/health, which the availability test calls.')
param healthUrl string

// Each scheduled stream's lag threshold in seconds at its default schedule: shared/telemetry/lag.py's
// rule (twice the schedule's longest gap between runs, plus the retry budget). tests/telemetry
// fails when a value here differs from the rule; a schedule changed in the app settings needs its
// stream's threshold changed here too.
var streamLagThresholdSeconds = {
  master_customer_sites: 176400
  user_roles: 176400
  user_sites: 176400
  job_codes: 176400
  job_codes_by_site: 176400
  wage_rates: 32400
  billable_expense_budgets: 176400
  scheduled_hours: 176400
  worked_hours: 176400
  daily_statistics_actuals: 176400
  parking_rates: 176400
  gl_actuals: 176400
  gl_account_actuals: 176400
  gp_invoice_payment_status: 10800
}

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
    description: 'A message is in the dead-letter queue of a hub queue. It will not be retried on its own: list it with GET /api/v1/deadletters/{queue}, read its reason, fix the cause and resubmit it with POST /api/v1/deadletters/{queue}/{messageId}/resubmit.'
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

// Counters arrive as one customMetrics row per export interval holding that interval's sum
// (valueSum); each rule totals them over its window, split by the columns it names.
var failedRunsQuery = '''
customMetrics
| where name == "hub.sync.runs"
| extend stream = tostring(customDimensions["hub.stream"]), outcome = tostring(customDimensions["hub.outcome"])
| where outcome in ("failed", "partially_failed", "dead_lettered")
| project timestamp, stream, outcome, runs = valueSum
'''

var deadLetteredQuery = '''
customMetrics
| where name == "hub.messages.dead_lettered"
| project timestamp, queue = tostring(customDimensions["hub.queue"]), error_class = tostring(customDimensions["hub.error_class"]), messages = valueSum
'''

var gpRefusalsQuery = '''
customMetrics
| where name == "hub.gp.documents"
| extend company = tostring(customDimensions["hub.gp_company"]), outcome = tostring(customDimensions["hub.outcome"])
| where outcome in ("refused", "rejected")
| project timestamp, company, outcome, documents = valueSum
'''

var breakerOpensQuery = '''
customMetrics
| where name == "hub.http.breaker_opens"
| project timestamp, system = tostring(customDimensions["hub.system"]), opens = valueSum
'''

// The gauge is recorded at each run's settle and on every watchdog sweep (every 5 minutes), so
// a window of 15 minutes always holds a stream's latest lag; only that latest reading counts,
// so the alert resolves as soon as a run catches the stream up.
var streamLagQuery = '''
customMetrics
| where name == "hub.sync.lag"
| extend stream = tostring(customDimensions["hub.stream"])
| summarize arg_max(timestamp, value) by stream
| extend threshold_seconds = toreal(thresholds[stream])
| where isnotnull(threshold_seconds)
| project timestamp, stream, hours_over = round((value - threshold_seconds) / 3600, 2)
'''

// Each function execution is recorded as a request; itemCount keeps the count right when sampled.
var failedExecutionsQuery = 'requests | where success == false | project timestamp, operation_Name, failures = itemCount'

var logAlerts = [
  {
    name: 'hub-failed-runs'
    displayName: 'Hub: a sync run failed'
    description: 'A sync run ended failed, partially_failed or dead_lettered; the alert names its stream and outcome. Find it with GET /api/v1/runs?stream={stream}&status={outcome}: its error (and error class) says what to fix, its rejected and quarantined rows say which records were refused and why. A config or auth error needs a setting, secret or role fixed first; then start the stream again with POST /api/v1/syncs/{stream} (a dead-lettered run: resubmit its message from /api/v1/deadletters/{queue}). The workbook\'s "Failures by error class" shows whether other streams fail the same way.'
    severity: 2
    query: failedRunsQuery
    aggregation: 'Total'
    measure: 'runs'
    dimensions: ['stream', 'outcome']
  }
  {
    name: 'hub-dead-lettered-by-hub'
    displayName: 'Hub: a message was set aside for an operator'
    description: 'The hub dead-lettered a message (a failure no retry can fix, or a spent retry budget); the alert names the queue and error class. List it with GET /api/v1/deadletters/{queue}, read its reason, fix the cause (config or auth: a setting, secret or role; bad_record: the source row) and resubmit it with POST /api/v1/deadletters/{queue}/{messageId}/resubmit, or discard it with DELETE when it must not run.'
    severity: 2
    query: deadLetteredQuery
    aggregation: 'Total'
    measure: 'messages'
    dimensions: ['queue', 'error_class']
  }
  {
    name: 'hub-stream-lag'
    displayName: 'Hub: a stream is behind its schedule'
    description: 'A stream\'s target is further behind than twice its schedule\'s longest gap plus the retry budget: two of its scheduled runs in a row did not land, and no alert may have said why (a timer that stopped, a request stuck in a queue, a host that is down). Check GET /api/v1/syncs for the stream\'s last run, watermark and lag and GET /api/health/ready for a dependency or open circuit; start the stream with POST /api/v1/syncs/{stream} once the cause is fixed. hours_over says by how much it is late.'
    severity: 2
    // The thresholds travel with the query as a KQL dynamic object, stream name to seconds.
    query: 'let thresholds = dynamic(${string(streamLagThresholdSeconds)});\n${streamLagQuery}'
    aggregation: 'Maximum'
    measure: 'hours_over'
    dimensions: ['stream']
  }
  {
    name: 'hub-gp-refusals'
    displayName: 'Hub: GP documents were refused or rejected'
    description: 'Documents of a GP posting were refused by the hub (they failed its checks before reaching GP) or rejected by SmartConnect; the alert names the company and outcome. Read each document\'s reason in GET /api/v1/gp/postings/{id} (the workbook lists the latest postings), correct the documents at their source and post them again; documents already posted are reported as duplicate, never posted twice.'
    severity: 2
    query: gpRefusalsQuery
    aggregation: 'Total'
    measure: 'documents'
    dimensions: ['company', 'outcome']
  }
  {
    name: 'hub-breaker-open'
    displayName: 'Hub: calls to a system are being refused (circuit open)'
    description: 'After repeated failures the hub opened its circuit breaker for a system and fails calls to it at once until it half-opens; the alert names the system. Check the system itself (for the EDW or GP: the Hybrid Connection Manager and the server; for Dataverse: its service health and the app user). GET /api/health/ready shows each circuit; runs that failed meanwhile retry on their own within the retry budget, the rest raise the failed-run alert.'
    severity: 2
    query: breakerOpensQuery
    aggregation: 'Total'
    measure: 'opens'
    dimensions: ['system']
  }
  {
    name: 'hub-failed-function-executions'
    displayName: 'Hub: failed function executions'
    description: 'A hub function execution failed; the alert names the function. Open the failed request in Application Insights (Failures) and follow its operation id through HTTP, Service Bus and load to the span that failed.'
    severity: 3
    query: failedExecutionsQuery
    aggregation: 'Total'
    measure: 'failures'
    dimensions: ['operation_Name']
  }
]

resource logAlertRules 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = [
  for alert in logAlerts: {
    name: alert.name
    location: location
    tags: tags
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        applicationInsights.id
      ]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT15M'
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: alert.aggregation
            metricMeasureColumn: alert.measure
            dimensions: [
              for dimension in alert.dimensions: {
                name: dimension
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
]

// The hub seen from outside: /api/health is liveness (it calls no dependency), so this test fails
// when the Function App itself does not answer. Readiness (/api/health/ready, each dependency and
// circuit) needs a function key, so no anonymous test calls it; a dependency that is down shows in
// the failed-run, failed-execution and breaker alerts.
resource healthTest 'Microsoft.Insights/webtests@2022-06-15' = {
  name: 'hub-health'
  location: location
  // The portal lists a web test under the component its hidden-link tag names.
  tags: union(tags, {
    'hidden-link:${applicationInsights.id}': 'Resource'
  })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: 'hub-health'
    Name: 'Hub health (/api/health)'
    Description: 'GET /api/health from five US locations every 5 minutes; 200 expected.'
    Enabled: true
    Frequency: 300
    Timeout: 30
    Kind: 'standard'
    RetryEnabled: true
    Locations: [
      { Id: 'us-va-ash-azr' } // East US
      { Id: 'us-tx-sn1-azr' } // South Central US
      { Id: 'us-il-ch1-azr' } // North Central US
      { Id: 'us-ca-sjc-azr' } // West US
      { Id: 'us-fl-mia-edge' } // Central US
    ]
    Request: {
      RequestUrl: healthUrl
      HttpVerb: 'GET'
      ParseDependentRequests: false
    }
    ValidationRules: {
      ExpectedHttpStatusCode: 200
      SSLCheck: true
      SSLCertRemainingLifetimeCheck: 7
    }
  }
}

resource healthAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'hub-health-unavailable'
  location: 'global'
  tags: union(tags, {
    'hidden-link:${applicationInsights.id}': 'Resource'
    'hidden-link:${healthTest.id}': 'Resource'
  })
  properties: {
    description: 'GET /api/health failed from two or more locations: the Function App does not answer (stopped, failing to start, or unreachable). Check the Function App\'s Diagnose and solve problems page and its log stream; once it answers, GET /api/health/ready with a function key shows each dependency and circuit.'
    severity: 1
    enabled: true
    scopes: [
      healthTest.id
      applicationInsights.id
    ]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: healthTest.id
      componentId: applicationInsights.id
      failedLocationCount: 2
    }
    autoMitigate: true
    actions: metricAlertActions
  }
}
