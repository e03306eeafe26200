import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type ApiHarness,
  assertWellFormed,
  exampleOf,
  fillPath,
  type JsonSchema,
  type Operation,
  type Parameter,
  requiredQuery,
  startApiHarness,
  validValue,
} from '../property/api.js'

/**
 * Input limits, one table over every operation of GET /openapi.json (a new route is covered as
 * soon as it is registered): unknown query parameters, numbers outside their range, strings past
 * their length or pattern, arrays past their size, tampered cursors, bad path ids, unknown body
 * fields, oversized batches and bodies. Each must be a 4xx problem+json that names the parameter,
 * never a 2xx that ignored it and never a 5xx.
 */

interface Case {
  label: string
  method: string
  path: string
  body?: string
  headers?: Record<string, string>
  /** The status expected (any of them); -1: any 4xx. */
  status: number | number[]
  /** The parameter the problem's `errors` must name. */
  names?: string
}

const UNKNOWN = 'zz_not_a_parameter'
const CURSOR_TAMPERINGS = ['abc.def', 'x', 'eyJ4IjoxfQ', '.AAAA', 'W10.W10', '%E2%82%AC.AA']

function url(path: string, qs: URLSearchParams): string {
  const s = qs.toString()
  return s ? `${path}?${s}` : path
}

/** Values a query parameter must refuse, by its schema. */
function badQueryValues(p: Parameter): string[][] {
  const s = p.schema
  const out: string[][] = []
  if (s.type === 'array') {
    const item = s.items ?? {}
    if (s.maxItems !== undefined) out.push(Array(s.maxItems + 1).fill(validValue(p)))
    if (item.enum || item.pattern) out.push(['not-a-valid-item!'])
    return out
  }
  if (s.type === 'integer' || s.type === 'number') {
    out.push(['abc'])
    if (s.maximum !== undefined) out.push([String(s.maximum + 1)])
    if (s.minimum !== undefined) out.push([String(s.minimum - 1)])
    if (s.type === 'integer') out.push(['1.5'])
    return out
  }
  if (s.type === 'boolean') return [['maybe']]
  if (s.enum) return [['not-a-valid-value']]
  if (s.maxLength !== undefined) out.push(['a'.repeat(s.maxLength + 1)])
  if (s.pattern && !new RegExp(s.pattern).test('!!')) out.push(['!!'])
  if (p.name === 'cursor') for (const t of CURSOR_TAMPERINGS) out.push([decodeURIComponent(t)])
  return out
}

/** Values a path parameter must refuse. */
function badPathValues(p: Parameter): string[] {
  const s = p.schema
  if (s.enum) return ['not.a.valid.value']
  const out = ['!!', '']
  const valid = validValue(p)
  // A valid prefix made too long: ids with more digits than any id can have.
  out.push(`${valid.slice(0, 2)}${'1'.repeat(Math.max(s.maxLength ?? 0, 40))}`)
  return out
}

function casesFor(op: Operation): Case[] {
  const cases: Case[] = []
  const path = fillPath(op)
  const base = requiredQuery(op)
  const body = op.body ? JSON.stringify(exampleOf(op.body)) : undefined
  const at = `${op.method} ${op.template}`

  const unknown = new URLSearchParams(base)
  unknown.append(UNKNOWN, '1')
  cases.push({
    label: `${at}: unknown query parameter`,
    method: op.method,
    path: url(path, unknown),
    body,
    status: 400,
    names: UNKNOWN,
  })

  for (const p of op.parameters) {
    if (p.in === 'query') {
      for (const values of badQueryValues(p)) {
        const qs = new URLSearchParams(base)
        qs.delete(p.name)
        for (const v of values) qs.append(p.name, v)
        const shown =
          values.length > 1 ? `${values.length} x ${values[0]}` : JSON.stringify(values[0]).slice(0, 40)
        cases.push({
          label: `${at}: ${p.name}=${shown}`,
          method: op.method,
          path: url(path, qs),
          body,
          status: 400,
          names: p.name,
        })
      }
    } else if (p.in === 'path') {
      for (const v of badPathValues(p)) {
        cases.push({
          label: `${at}: path ${p.name}=${JSON.stringify(v).slice(0, 40)}`,
          method: op.method,
          path: url(fillPath(op, { [p.name]: v }), base),
          body,
          // An empty segment may not match the route at all.
          status: v === '' ? -1 : 400,
          names: v === '' ? undefined : p.name,
        })
      }
    }
  }

  if (op.body) {
    const target = url(path, base)
    const example = exampleOf(op.body) as Record<string, unknown>
    if (op.body.additionalProperties === false) {
      cases.push({
        label: `${at}: unknown body field`,
        method: op.method,
        path: target,
        body: JSON.stringify({ ...example, [UNKNOWN]: 1 }),
        status: 400,
        names: UNKNOWN,
      })
    }
    for (const [name, prop] of Object.entries(op.body.properties ?? {}) as [string, JsonSchema][]) {
      if (prop.type === 'array' && prop.maxItems !== undefined) {
        cases.push({
          label: `${at}: ${prop.maxItems + 1} items in ${name}`,
          method: op.method,
          path: target,
          body: JSON.stringify({
            ...example,
            [name]: Array(prop.maxItems + 1).fill(exampleOf(prop.items ?? {})),
          }),
          status: 400,
          names: name,
        })
      }
    }
    cases.push({ label: `${at}: malformed JSON`, method: op.method, path: target, body: '{"', status: 400 })
    cases.push({
      label: `${at}: not JSON`,
      method: op.method,
      path: target,
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
      status: [400, 415],
    })
    cases.push({
      label: `${at}: a 16 MiB body`,
      method: op.method,
      path: target,
      body: `{"x":"${'a'.repeat(16 * 1024 * 1024)}"}`,
      status: 413,
    })
  }
  return cases
}

describe('input limits on every route of the OpenAPI document', () => {
  let api: ApiHarness
  before(async () => {
    api = await startApiHarness()
  })
  after(() => api.close())

  it('the document lists the API, and every list route bounds its limit', () => {
    const routes = api.operations.map((op) => `${op.method} ${op.template}`)
    for (const r of [
      'GET /titles',
      'GET /titles/{tconst}',
      'POST /titles/batch',
      'GET /search',
      'POST /me/import',
    ])
      assert.ok(routes.includes(r), `${r} is documented`)
    for (const op of api.operations) {
      const limit = op.parameters.find((p) => p.in === 'query' && p.name === 'limit')
      if (limit)
        assert.ok(limit.schema.maximum !== undefined, `${op.method} ${op.template}: limit has a maximum`)
    }
  })

  it('refuses out-of-bounds input with a 4xx problem naming the parameter, on every route', async (t) => {
    const failures: string[] = []
    let count = 0
    for (const op of api.operations.filter((o) => !o.public)) {
      // The valid request first: a check is only meaningful when the request is otherwise accepted.
      const baseline = await api.send(op.method, url(fillPath(op), requiredQuery(op)), {
        body: op.body ? JSON.stringify(exampleOf(op.body)) : undefined,
      })
      if (baseline.status === 400 || baseline.status >= 500) {
        failures.push(
          `${op.method} ${op.template}: the valid request got ${baseline.status}: ${baseline.body.slice(0, 200)}`,
        )
        continue
      }
      for (const c of casesFor(op)) {
        count++
        const res = await api.send(c.method, c.path, { body: c.body, headers: c.headers })
        try {
          const problem = assertWellFormed(res, res.requestId, c.label) as {
            errors?: { parameter: string }[]
          } | null
          if (c.status === -1) {
            assert.ok(res.status >= 400 && res.status < 500, `${c.label}: got ${res.status}`)
            continue
          }
          assert.ok(
            [c.status].flat().includes(res.status),
            `${c.label}: got ${res.status}: ${res.body.slice(0, 200)}`,
          )
          if (c.names) {
            const named = (problem?.errors ?? []).map((e) => e.parameter)
            assert.ok(
              named.some((n) => n === c.names || n.startsWith(`${c.names}.`)),
              `${c.label}: the problem names ${c.names} (it names ${named.join(', ') || 'nothing'})`,
            )
          }
        } catch (err) {
          failures.push((err as Error).message.split('\n')[0])
        }
      }
    }
    t.diagnostic(`${count} refusals checked over ${api.operations.length} operations`)
    assert.deepEqual(failures, [])
  })

  it('refuses a real cursor that was altered, or reused with another query', async () => {
    for (const list of ['/titles?limit=2', '/names?limit=2', `/names/nm0000338/credits?limit=1`]) {
      const first = await api.send('GET', list)
      assert.equal(first.status, 200, list)
      const next = (JSON.parse(first.body) as { next: string | null }).next
      assert.ok(next, `${list} has a next page`)
      const cursor = new URL(next, 'http://x').searchParams.get('cursor')!
      const flipped = cursor.slice(0, 3) + (cursor[3] === 'A' ? 'B' : 'A') + cursor.slice(4)
      for (const bad of [flipped, cursor.slice(0, -2), `${cursor}x`]) {
        const res = await api.send('GET', `${list}&cursor=${encodeURIComponent(bad)}`)
        assert.equal(res.status, 400, `${list} with an altered cursor`)
        assert.equal(
          (assertWellFormed(res, res.requestId, list) as { errors: { parameter: string }[] }).errors[0]
            .parameter,
          'cursor',
        )
      }
      const other = await api.send('GET', `${list}&order=asc&cursor=${encodeURIComponent(cursor)}`)
      assert.equal(other.status, 400, `${list}: a cursor of another query`)
    }
  })

  it('names every unknown or bad parameter at once, and the values an enum allows', async () => {
    const res = await api.send('GET', '/titles?colour=red&size=big&limit=500&type=film')
    assert.equal(res.status, 400)
    const problem = assertWellFormed(res, res.requestId, '/titles') as {
      detail: string
      errors: { parameter: string; reason: string }[]
    }
    const byParameter = new Map(problem.errors.map((e) => [e.parameter, e.reason]))
    assert.equal(byParameter.get('colour'), 'is not a known parameter')
    assert.equal(byParameter.get('size'), 'is not a known parameter')
    assert.match(byParameter.get('limit') ?? '', /100/)
    assert.match(byParameter.get('type.0') ?? '', /^must be one of: movie, short, tvSeries/)
    assert.equal(problem.errors.length, 4, problem.detail)
    for (const name of ['colour', 'size', 'limit', 'type'])
      assert.ok(problem.detail.includes(name), problem.detail)
  })
})
