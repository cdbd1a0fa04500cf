'use strict'
// An OTLP/HTTP receiver for specs: what an OpenTelemetry Collector's otlphttp receiver is to a
// service, on loopback. It accepts the JSON encoding that the SDK's `-otlp-http` exporters send
// (POST /v1/logs, /v1/metrics), answers 200 as a collector does, and decodes what arrived into
// plain objects: log records with their attributes as `{ key: value }`, metric data points by
// metric name. Anything else (another path, protobuf, a body that is not OTLP JSON) fails the
// request and is recorded in `errors`, so a spec can assert there was none.

const http = require('node:http')

/** Starts a receiver on 127.0.0.1 (a free port). */
async function startOtlpReceiver() {
  const logs = [] // decoded log records, in arrival order
  const metrics = [] // decoded metrics of every export, in arrival order
  const errors = []
  const server = http.createServer((request, response) => {
    const chunks = []
    request.on('data', (chunk) => chunks.push(chunk))
    request.on('end', () => {
      try {
        if (request.method !== 'POST') throw new Error(`${request.method} ${request.url}`)
        const type = request.headers['content-type'] ?? ''
        if (!type.startsWith('application/json')) throw new Error(`content-type ${type} (the -http exporters send JSON)`)
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        if (request.url === '/v1/logs') logs.push(...decodeLogs(body))
        else if (request.url === '/v1/metrics') metrics.push(...decodeMetrics(body))
        else throw new Error(`unknown path ${request.url}`)
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch (error) {
        errors.push(error)
        response.writeHead(400, { 'content-type': 'text/plain' }).end(String(error))
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  return {
    logsUrl: `${url}/v1/logs`,
    metricsUrl: `${url}/v1/metrics`,
    logs,
    metrics,
    errors,
    /** The data points of metric `name` in the most recent export that had it. */
    latest(name) {
      for (let i = metrics.length - 1; i >= 0; i--) if (metrics[i].name === name) return metrics[i]
      return undefined
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

/** OTLP JSON ExportLogsServiceRequest -> `[{ resource, scope, eventName, severityNumber, ..., attributes }]`. */
function decodeLogs(body) {
  const records = []
  for (const resourceLogs of body.resourceLogs) {
    const resource = decodeAttributes(resourceLogs.resource?.attributes)
    for (const scopeLogs of resourceLogs.scopeLogs) {
      for (const record of scopeLogs.logRecords) {
        records.push({
          resource,
          scope: { name: scopeLogs.scope?.name, version: scopeLogs.scope?.version },
          eventName: record.eventName,
          timeUnixNano: BigInt(record.timeUnixNano ?? 0),
          severityNumber: record.severityNumber,
          severityText: record.severityText,
          body: decodeValue(record.body),
          attributes: decodeAttributes(record.attributes),
        })
      }
    }
  }
  return records
}

/** OTLP JSON ExportMetricsServiceRequest -> `[{ name, unit, type, isMonotonic, points: [{ attributes, value }] }]`. */
function decodeMetrics(body) {
  const decoded = []
  for (const resourceMetrics of body.resourceMetrics) {
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      for (const metric of scopeMetrics.metrics) {
        const type = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'].find((key) => metric[key] !== undefined)
        const data = metric[type]
        decoded.push({
          scope: scopeMetrics.scope?.name,
          name: metric.name,
          unit: metric.unit,
          type,
          isMonotonic: data.isMonotonic,
          points: data.dataPoints.map((point) => ({
            attributes: decodeAttributes(point.attributes),
            value: point.asInt !== undefined ? Number(point.asInt) : point.asDouble,
            isInt: point.asInt !== undefined,
          })),
        })
      }
    }
  }
  return decoded
}

function decodeAttributes(list = []) {
  const attributes = {}
  for (const { key, value } of list) attributes[key] = decodeValue(value)
  return attributes
}

/** An OTLP AnyValue; 64-bit integers arrive as JSON numbers or strings. */
function decodeValue(value) {
  if (value === undefined || value === null) return undefined
  if ('stringValue' in value) return value.stringValue
  if ('intValue' in value) return Number(value.intValue)
  if ('doubleValue' in value) return Number(value.doubleValue)
  if ('boolValue' in value) return value.boolValue
  if ('arrayValue' in value) return (value.arrayValue.values ?? []).map(decodeValue)
  if ('kvlistValue' in value) return decodeAttributes(value.kvlistValue.values)
  if ('bytesValue' in value) return Buffer.from(value.bytesValue, 'base64')
  throw new Error(`not an OTLP AnyValue: ${JSON.stringify(value)}`)
}

module.exports = { startOtlpReceiver }
