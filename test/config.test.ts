import assert from 'node:assert/strict'
import path from 'node:path'
import { describe, it } from 'node:test'
import { type ConfigError, DEFAULTS, loadConfig } from '../src/config.js'

describe('loadConfig', () => {
  it('uses defaults when nothing is set', () => {
    const c = loadConfig({}, {})
    assert.equal(c.host, '127.0.0.1')
    assert.equal(c.port, 8000)
    assert.equal(c.dbPath, path.resolve(DEFAULTS.dbPath))
    assert.equal(c.requireApiKey, false)
    assert.equal(c.dataDirExplicit, false)
    assert.ok(Object.isFrozen(c))
  })

  it('takes MARQUEE_* variables over defaults, and flags over variables', () => {
    const env = {
      MARQUEE_PORT: '9000',
      MARQUEE_HOST: '0.0.0.0',
      MARQUEE_REQUIRE_API_KEY: 'true',
      MARQUEE_DATA: 'x',
    }
    const fromEnv = loadConfig({}, env)
    assert.equal(fromEnv.port, 9000)
    assert.equal(fromEnv.host, '0.0.0.0')
    assert.equal(fromEnv.requireApiKey, true)
    assert.equal(fromEnv.dataDirExplicit, true)
    assert.equal(loadConfig({ port: '9100' }, env).port, 9100)
  })

  it('names the setting in every error, as the user wrote it', () => {
    assert.throws(
      () => loadConfig({ port: 'abc' }, {}),
      (e: ConfigError) => e.setting === '--port' && /whole number/.test(e.message),
    )
    assert.throws(() => loadConfig({}, { MARQUEE_PORT: '70000' }), /MARQUEE_PORT: must be at most 65535/)
    assert.throws(
      () => loadConfig({}, { MARQUEE_REQUIRE_API_KEY: 'maybe' }),
      /MARQUEE_REQUIRE_API_KEY: expected true or false/,
    )
    assert.throws(() => loadConfig({ logLevel: 'loud' }, {}), /--log-level: expected one of/)
    assert.throws(() => loadConfig({ queryTimeoutMs: '0' }, {}), /--query-timeout: must be at least 1/)
    assert.throws(() => loadConfig({ dbPath: ' ' }, {}), /--db: must not be empty/)
  })
})
