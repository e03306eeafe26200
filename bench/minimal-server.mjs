/**
 * The stack's limit, for `bench:api` to measure marquee against: bare Fastify 5 (no plugins, no
 * logger) with `GET /health` and `GET /titles/:tconst` answered by a better-sqlite3 primary-key
 * `get()` on the main thread, over the same database file. Plain JavaScript so that nothing (tsx,
 * source maps) sits between it and Node.
 *
 *   node bench/minimal-server.mjs <db> <port>
 */
// The same better-sqlite3 major marquee runs on this Node (bench:api builds dist/ first).

import Fastify from 'fastify'
import Database from '../dist/src/db/sqlite/driver.js'

const [dbPath, port] = process.argv.slice(2)
const db = new Database(dbPath, { readonly: true })
const byId = db.prepare('SELECT * FROM titles WHERE id = ?')

const app = Fastify()
app.get('/health', async () => 'OK')
app.get('/titles/:tconst', async (request, reply) => {
  const row = byId.get(Number(request.params.tconst.slice(2)))
  if (!row) return reply.code(404).send({ error: 'not found' })
  return row
})
await app.listen({ host: '127.0.0.1', port: Number(port) })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
