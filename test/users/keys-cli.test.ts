import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from '../../src/db/sqlite/driver.js'
import { hashApiKey } from '../../src/users/api-keys.js'
import { tempDir } from '../helpers/server.js'
import { cli } from './cli.js'

describe('marquee keys', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let db: string
  before(async () => {
    ;({ dir, cleanup } = await tempDir())
    db = path.join(dir, 'nested', 'users.db')
  })
  after(() => cleanup())

  it('create prints the key once and stores only its hash; list shows it; revoke revokes it', async () => {
    const created = await cli(['keys', 'create', '--name', 'alice', '--role', 'analyst', '--users-db', db])
    assert.equal(created.code, 0, created.stderr)
    const key = created.stdout.trim()
    assert.match(key, /^mq_[A-Za-z0-9_-]{32}$/)
    assert.match(created.stderr, /Created key 1 for "alice" \(role analyst\)/)
    assert.match(created.stderr, /only time the key is shown/)
    const file = new Database(db, { readonly: true })
    assert.deepEqual(file.prepare('SELECT name, role, key_hash FROM users').all(), [
      { name: 'alice', role: 'analyst', key_hash: hashApiKey(key) },
    ])
    file.close()

    const [revoked, unknown, badRole] = await Promise.all([
      cli(['keys', 'revoke', '1', '--users-db', db]),
      cli(['keys', 'revoke', '42', '--users-db', db]),
      cli(['keys', 'create', '--name', 'x', '--role', 'root', '--users-db', db]),
    ])
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.match(revoked.stderr, /Revoked key 1 \("alice"\)/)
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /there is no key 42/)
    assert.equal(badRole.code, 2)
    assert.match(badRole.stderr, /Allowed choices are user, analyst, admin/)

    const listed = await cli(['keys', 'list', '--users-db', db])
    assert.equal(listed.code, 0)
    const lines = listed.stdout.trim().split('\n')
    assert.equal(lines.length, 2, 'the rejected create added nothing')
    assert.match(lines[0], /^ID\s+NAME\s+ROLE\s+CREATED\s+REVOKED$/)
    assert.match(lines[1], /^1\s+alice\s+analyst\s+\S+Z\s+\S+Z$/)
    assert.equal(listed.stdout.includes(key), false, 'the key is never shown again')
  })
})
