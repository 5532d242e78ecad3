// Platform telemetry into the same Log Analytics workspace as Application Insights, so one Logs
// query joins the hub's own telemetry with what Service Bus and the Functions host report.
//
// Service Bus: OperationalLogs (namespace and entity management operations) and AllMetrics.
// RuntimeAuditLogs and ApplicationMetricsLogs exist for Premium namespaces only, and
// VNetAndIPFilteringLogs only with network rules; this namespace is Standard with neither.
// Azure Monitor exports some Service Bus metrics through diagnostic settings (incoming, outgoing,
// completed and abandoned messages, send latency) but not DeadletteredMessages or
// ThrottledRequests: those are read from the platform metrics themselves, by the dead-letter
// alert (alerts.bicep) and the workbook's Service Bus charts.
//
// Function App: FunctionAppLogs, the host's own log (start-up, trigger listeners, execution
// results, including what happens before the Python worker runs), and AllMetrics.
param workspaceId string
param serviceBusNamespaceName string
param functionAppName string

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource serviceBusDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'hub-to-log-analytics'
  scope: serviceBus
  properties: {
    workspaceId: workspaceId
    // Resource-specific tables (AZMSOperationalLogs) rather than the shared AzureDiagnostics.
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'OperationalLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

resource functionAppDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'hub-to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'FunctionAppLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}
