import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { startTestServer } from '../helpers/server.js'

describe('GET /metrics', () => {
  it('exposes request durations per route and status, event-loop delay and marquee gauges', async () => {
    const server = await startTestServer()
    try {
      await fetch(`${server.url}/health`)
      await fetch(`${server.url}/health`)
      await fetch(`${server.url}/ready`)
      await fetch(`${server.url}/nowhere`)
      const res = await fetch(`${server.url}/metrics`)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type')!, /^text\/plain/)
      const text = await res.text()
      assert.match(
        text,
        /marquee_http_request_duration_seconds_count\{method="GET",route="\/health",status="200"\} 2/,
      )
      assert.match(
        text,
        /marquee_http_request_duration_seconds_count\{method="GET",route="\/ready",status="503"\} 1/,
      )
      assert.match(
        text,
        /marquee_http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/,
      )
      assert.match(text, /nodejs_eventloop_lag_p99_seconds/)
      assert.match(text, /marquee_query_deadline_expiries_total 0/)
    } finally {
      await server.close()
    }
  })
})
