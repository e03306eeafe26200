import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { PROBLEMS, type ProblemCode } from '../../src/errors.js'
import { hashApiKey, newApiKey } from '../../src/users/api-keys.js'
import { buildTestDataset, FIXTURE } from '../helpers/dataset.js'
import { startTestServer, type TestServer, tempDir } from '../helpers/server.js'

/**
 * The API as its OpenAPI document describes it, for tests that must cover every route, present and
 * future: a server over the shared test dataset with an admin key from the user store, the list of
 * operations read from GET /openapi.json, valid values for their parameters, and a raw HTTP client
 * with a deadline per request.
 */

export interface JsonSchema {
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  minProperties?: number
  items?: JsonSchema
  properties?: Record<string, JsonSchema>
  required?: string[]
  additionalProperties?: boolean | JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  default?: unknown
  examples?: unknown[]
}

export interface Parameter {
  name: string
  in: 'query' | 'path' | 'header' | 'cookie'
  required: boolean
  schema: JsonSchema
  example?: unknown
}

export interface Operation {
  method: string
  /** The OpenAPI path template, e.g. `/titles/{tconst}`. */
  template: string
  parameters: Parameter[]
  /** The JSON request body's schema, when the operation takes one. */
  body: JsonSchema | null
  /** `security: []`: liveness and docs, which take whatever they are sent. */
  public: boolean
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface ApiHarness {
  server: TestServer
  /** An admin key from the user store (every route, /me included, is reachable with it). */
  key: string
  operations: Operation[]
  /** One request with the key, `x-request-id` and a deadline; rejects on a hang or a broken connection. */
  send(
    method: string,
    path: string,
    opts?: { body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number },
  ): Promise<RawResponse & { requestId: string }>
  close(): Promise<void>
}

export async function startApiHarness(): Promise<ApiHarness> {
  const tmp = await tempDir('marquee-api-')
  const { dbPath } = await buildTestDataset(tmp.dir)
  const server = await startTestServer({ dbPath })
  const store = await server.app.users.store({ create: true })
  assert.ok(store)
  const key = newApiKey()
  await store.createKey({
    name: 'harness',
    role: 'admin',
    keyHash: hashApiKey(key),
    at: new Date().toISOString(),
  })
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument
  const { port } = new URL(server.url)
  let n = 0
  return {
    server,
    key,
    operations: operationsOf(doc),
    async send(method, path, opts = {}) {
      const requestId = `req-${++n}`
      const res = await rawRequest(Number(port), method, path, {
        headers: { authorization: `Bearer ${key}`, 'x-request-id': requestId, ...opts.headers },
        body: opts.body,
        timeoutMs: opts.timeoutMs ?? 10_000,
      })
      return { ...res, requestId }
    },
    async close() {
      await server.close()
      await tmp.cleanup()
    },
  }
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Parameter[]
        security?: unknown[]
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
      }
    >
  >
}

function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = []
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      out.push({
        method: method.toUpperCase(),
        template,
        parameters: (op.parameters ?? []).map((p) => ({ ...p, schema: p.schema ?? {} })),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
        public: Array.isArray(op.security) && op.security.length === 0,
      })
    }
  }
  return out
}

/** A value the parameter accepts (as it goes in a URL), known to the test dataset where it matters. */
export function validValue(p: Parameter): string {
  if (p.example !== undefined) return String(p.example)
  if (p.name === 'q') return 'godfather'
  const s = p.schema.type === 'array' && p.schema.items ? p.schema.items : p.schema
  return String(exampleOf(s))
}

/** A JSON value the schema accepts: every property filled in (which also meets minProperties). */
export function exampleOf(s: JsonSchema): unknown {
  if (s.default !== undefined) return s.default
  if (s.const !== undefined) return s.const
  if (s.enum) return s.enum[0]
  if (s.examples?.length) return s.examples[0]
  if (s.anyOf) return exampleOf(s.anyOf[0])
  if (s.oneOf) return exampleOf(s.oneOf[0])
  const type = Array.isArray(s.type) ? s.type[0] : s.type
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, exampleOf(v)]))
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => exampleOf(s.items ?? {}))
    case 'integer':
    case 'number':
      return s.minimum ?? Math.min(1, s.maximum ?? 1)
    case 'boolean':
      return true
    case 'null':
      return null
    default:
      if (s.pattern?.startsWith('^tt')) return FIXTURE.godfather
      if (s.pattern?.startsWith('^nm')) return FIXTURE.coppola
      if (s.pattern === '^[a-z_]{1,40}$') return 'actor'
      return 'a'.repeat(Math.max(1, s.minLength ?? 1))
  }
}

/** The path with every path parameter filled in (`values` first, else a valid value). */
export function fillPath(op: Operation, values: Record<string, string> = {}): string {
  let path = op.template
  for (const p of op.parameters) {
    if (p.in === 'path')
      path = path.replace(`{${p.name}}`, encodeURIComponent(values[p.name] ?? validValue(p)))
  }
  return path
}

/** The query parameters a request needs at least: required ones without a default. */
export function requiredQuery(op: Operation): URLSearchParams {
  const qs = new URLSearchParams()
  for (const p of op.parameters) {
    if (p.in === 'query' && p.required && p.schema.default === undefined) qs.append(p.name, validValue(p))
  }
  return qs
}

/** A request over node:http: the path goes out exactly as given (bad escapes included). */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs: number },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json'
      headers['content-length'] = String(Buffer.byteLength(opts.body))
    }
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, headers, agent: false, timeout: opts.timeoutMs },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('timeout', () =>
      req.destroy(new Error(`no answer to ${method} ${path} within ${opts.timeoutMs} ms`)),
    )
    req.on('error', reject)
    req.end(opts.body)
  })
}

const JSON_TYPE = /^application\/(problem\+)?json\b/

/**
 * A well-formed answer: problem+json carrying the request id for every error, JSON (or the
 * representation the route documents: CSV, NDJSON, text) otherwise. Returns the parsed body when
 * it is JSON.
 */
export function assertWellFormed(res: RawResponse, requestId: string, what: string): unknown {
  const type = String(res.headers['content-type'] ?? '')
  assert.equal(res.headers['x-request-id'], requestId, `${what}: X-Request-Id`)
  if (res.status === 204 || res.status === 304) return null
  if (res.status >= 400) {
    assert.match(type, /^application\/problem\+json/, `${what}: ${res.status} is problem+json`)
    const problem = JSON.parse(res.body) as { status: number; instance: string; code: string; title: string }
    assert.equal(problem.status, res.status, `${what}: problem status`)
    assert.equal(problem.instance, requestId, `${what}: problem instance is the request id`)
    assert.ok(Object.hasOwn(PROBLEMS, problem.code), `${what}: ${problem.code} is in the catalogue`)
    assert.equal(
      PROBLEMS[problem.code as ProblemCode].status,
      res.status,
      `${what}: ${problem.code}'s status`,
    )
    return problem
  }
  if (JSON_TYPE.test(type)) return JSON.parse(res.body)
  assert.match(type, /^(text\/(plain|csv|html)|application\/x-ndjson)\b/, `${what}: content type ${type}`)
  return null
}
