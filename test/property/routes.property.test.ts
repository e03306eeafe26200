import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import {
  type ApiHarness,
  assertWellFormed,
  exampleOf,
  type JsonSchema,
  type Operation,
  type Parameter,
  type RawResponse,
  startApiHarness,
  validValue,
} from './api.js'

/**
 * Properties of the HTTP API over arbitrary input, generated from the OpenAPI document (so a new
 * route or parameter is covered as soon as it exists): every documented parameter gets valid,
 * out-of-range and arbitrary values (repeated, empty, unicode, bad escapes), plus random extra
 * parameters, Accept and If-None-Match headers, arbitrary JSON bodies, and random paths and
 * methods. Whatever comes in: no 5xx other than a deliberate 503, a well-formed answer (JSON, or
 * problem+json carrying the request id), and an answer within the per-request deadline.
 * FC_RUNS and FC_SEED widen or replay a run.
 */

const RUNS = Number(process.env.FC_RUNS ?? 100)
const SEED = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
const REQUEST_TIMEOUT_MS = 10_000

/** 503s the server sends on purpose (load shedding, deadlines, no dataset yet), never a failure. */
const DELIBERATE_503 = new Set([
  'POOL_BUSY',
  'QUERY_TIMEOUT',
  'OVERLOADED',
  'NO_DATASET',
  'QUERY_WORKER_CRASHED',
  'REQUEST_ABORTED',
  'USERS_BUSY',
])

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD, as a browser sends them). */
function enc(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b)
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    '',
    ' ',
    '%',
    '\u0000',
    'null',
    'true',
    '[]',
    '{}',
    '-1',
    '-0',
    '1e309',
    'NaN',
    'Infinity',
    '0x10',
    '9007199254740993',
    'tt0068646',
    'nm0000338',
    'tt9999999999',
    '\\N',
    "' OR 1=1 --",
    '"*"',
    'AND OR NOT NEAR',
    '__proto__',
    'a'.repeat(300),
    'é'.repeat(150),
    'credits,akas,episodes',
    'genre,type,decade',
  ),
)

/** Values shaped by the parameter's schema: in range, just outside it, or from its enum. */
function schemaValue(s: JsonSchema): fc.Arbitrary<string> {
  const item = s.type === 'array' && s.items ? s.items : s
  const picks: fc.Arbitrary<string>[] = [fc.constant(String(exampleOf(item)))]
  if (item.enum) picks.push(fc.constantFrom(...item.enum.map(String)))
  if (item.type === 'integer' || item.type === 'number') {
    const min = item.minimum ?? -1e6
    const max = item.maximum ?? 1e9
    picks.push(
      fc.integer({ min: Math.max(-(2 ** 31), min - 2), max: Math.min(2 ** 31, max + 2) }).map(String),
    )
  }
  if (item.type === 'boolean') picks.push(fc.constantFrom('true', 'false', '1', '0', 'yes'))
  return fc.oneof(...picks)
}

/** One query parameter's occurrences: absent, once, or repeated. */
function occurrences(p: Parameter): fc.Arbitrary<string[]> {
  const value = fc.oneof({ weight: 2, arbitrary: schemaValue(p.schema) }, anyString)
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<string[]>([]) },
    { weight: 3, arbitrary: value.map((v) => [v]) },
    fc.array(value, { minLength: 2, maxLength: 5 }),
  )
}

const RAW_QUERY = [
  '',
  '',
  '',
  '&%ff=1',
  '&a=%',
  '&%zz',
  '&x=%ed%a0%80',
  '&&&',
  '&=',
  '&a[b]=1',
  '&__proto__=1',
]
const ACCEPT = [
  undefined,
  '*/*',
  'application/json',
  'text/csv',
  'application/x-ndjson',
  'application/xml',
  '%%',
]

interface Generated {
  method: string
  path: string
  body?: string
  headers: Record<string, string>
}

function requestFor(op: Operation): fc.Arbitrary<Generated> {
  const query = op.parameters.filter((p) => p.in === 'query')
  const pathParams = op.parameters.filter((p) => p.in === 'path')
  return fc
    .record({
      path: fc.tuple(
        ...pathParams.map((p) => fc.oneof({ weight: 3, arbitrary: fc.constant(validValue(p)) }, anyString)),
      ),
      query: fc.tuple(...query.map(occurrences)),
      extra: fc.array(fc.tuple(anyString, anyString), { maxLength: 2 }),
      raw: fc.constantFrom(...RAW_QUERY),
      accept: fc.constantFrom(...ACCEPT),
      ifNoneMatch: fc.option(fc.constantFrom('*', '"x"', 'W/"y"', ''), { nil: undefined }),
      body: op.body
        ? fc.oneof(
            fc.constant(JSON.stringify(exampleOf(op.body))),
            fc.json({ maxDepth: 3 }),
            anyString,
            fc
              .dictionary(anyString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
              .map((extra) => JSON.stringify({ ...(exampleOf(op.body!) as object), ...extra })),
          )
        : fc.constant(undefined),
    })
    .map((g) => {
      let path = op.template
      pathParams.forEach((p, i) => {
        path = path.replace(`{${p.name}}`, enc(g.path[i]))
      })
      const pairs: string[] = []
      query.forEach((p, i) => {
        for (const v of g.query[i]) pairs.push(`${enc(p.name)}=${enc(v)}`)
      })
      for (const [k, v] of g.extra) pairs.push(`${enc(k)}=${enc(v)}`)
      const qs = pairs.join('&') + g.raw
      const headers: Record<string, string> = {}
      if (g.accept) headers.accept = g.accept
      if (g.ifNoneMatch !== undefined) headers['if-none-match'] = g.ifNoneMatch
      return { method: op.method, path: qs ? `${path}?${qs}` : path, body: g.body, headers }
    })
}

const SEGMENTS = [
  'titles',
  'names',
  'search',
  'me',
  'watchlist',
  'ratings',
  'import',
  'batch',
  'credits',
  'akas',
  'episodes',
  'datasets',
  'rows',
  'title.basics',
  'docs',
  'openapi.json',
  'health',
  'ready',
  'metrics',
  'tt0068646',
  'nm0000338',
  '..',
  '.',
  '%2e%2e',
  '%',
  '%zz',
  '%ff',
  '%00',
  '%2F',
  '',
]

const randomRequest: fc.Arbitrary<Generated> = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
    segments: fc.array(fc.oneof(fc.constantFrom(...SEGMENTS), anyString.map(enc)), { maxLength: 5 }),
    query: fc.array(fc.tuple(anyString, anyString), { maxLength: 3 }),
    raw: fc.constantFrom(...RAW_QUERY),
    body: fc.option(fc.oneof(fc.json({ maxDepth: 2 }), anyString), { nil: undefined }),
  })
  .map((g) => {
    const qs = g.query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&') + g.raw
    const path = `/${g.segments.join('/')}${qs ? `?${qs}` : ''}`
    return {
      method: g.method,
      path,
      body: g.method === 'GET' || g.method === 'HEAD' ? undefined : g.body,
      headers: {},
    }
  })

/** The invariants of every answer. */
function check(g: Generated, res: RawResponse & { requestId: string }): void {
  const what = `${g.method} ${g.path}`
  if (res.status >= 500) {
    assert.equal(res.status, 503, `${what}: ${res.status} ${res.body.slice(0, 300)}`)
    const code = (JSON.parse(res.body) as { code: string }).code
    assert.ok(DELIBERATE_503.has(code), `${what}: 503 ${code} is not a deliberate one`)
  }
  if (g.method === 'HEAD') {
    assert.equal(res.headers['x-request-id'], res.requestId, `${what}: X-Request-Id`)
    return
  }
  assertWellFormed(res, res.requestId, what)
}

describe('API properties', () => {
  let api: ApiHarness
  before(async () => {
    api = await startApiHarness()
  })
  after(() => api.close())

  const send = (g: Generated) =>
    api.send(g.method, g.path, { body: g.body, headers: g.headers, timeoutMs: REQUEST_TIMEOUT_MS })

  it('every documented operation answers arbitrary parameters, headers and bodies well-formed, without a 5xx', async () => {
    const request = fc.constantFrom(...api.operations).chain(requestFor)
    await fc.assert(
      fc.asyncProperty(request, async (g) => check(g, await send(g))),
      { numRuns: RUNS * 3, seed: SEED },
    )
  })

  it('random paths and methods get a well-formed answer, without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(randomRequest, async (g) => check(g, await send(g))),
      { numRuns: RUNS, seed: SEED },
    )
  })

  it('a path the router refuses (bad escape, overlong parameter) gets problem+json with the request id', async () => {
    for (const path of ['/titles/%zz', `/titles/${'a'.repeat(101)}`]) {
      const res = await api.send('GET', path)
      assert.ok(res.status === 400 || res.status === 414, `${path}: ${res.status}`)
      assertWellFormed(res, res.requestId, `GET ${path}`)
    }
  })

  it('the server still answers after all that', async () => {
    const res = await api.send('GET', '/titles/tt0068646')
    assert.equal(res.status, 200)
    assert.equal(api.server.app.dataset.stats().handlesOpen, 0, 'every dataset handle was released')
  })
})
