import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { after, before, type TestContext } from 'node:test'
import { promisify } from 'node:util'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { generateSample } from '../../src/datasets/sample/generator.js'
import { ingest } from '../../src/ingest/index.js'
import { ROOT } from './cli.js'
import { startTestServer, type TestServer, tempDir, writeKeysFile } from './server.js'

/**
 * A real headless Chromium (Debian's package, driven by playwright-core) against a real server over
 * a generated 2,000-title sample, for the web e2e tests (test/web/*.e2e.test.ts). The browser is
 * installed by scripts/ensure-chromium.sh when missing and possible (root with apt-get); otherwise
 * every test of the file is skipped with the reason. Screenshots land in test-artifacts/web/.
 */

// What the function given to waitForFunction() uses in the browser.
declare const document: {
  documentElement: { dataset: Record<string, string | undefined> }
  querySelector(selector: string): unknown
}

export const ARTIFACTS = path.join(ROOT, 'test-artifacts/web')
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Runs scripts/ensure-chromium.sh: the browser's path, or why there is none. */
async function ensureChromium(): Promise<{ path: string } | { skip: string }> {
  try {
    const { stdout } = await promisify(execFile)('bash', [path.join(ROOT, 'scripts/ensure-chromium.sh')], {
      timeout: 15 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    })
    const found = stdout.trim().split('\n').at(-1)
    return found ? { path: found } : { skip: 'scripts/ensure-chromium.sh printed no browser path' }
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    const why = e.stderr?.trim().split('\n').at(-1) || e.message
    return { skip: `no headless Chromium for the web e2e tests: ${why}` }
  }
}

export interface WebFixture {
  readonly browser: Browser
  readonly context: BrowserContext
  readonly page: Page
  readonly server: TestServer
  /** Script errors and console errors the pages logged (4xx resource loads excepted). */
  readonly errors: string[]
  /** Skips the test when there is no browser; returns the page otherwise. */
  ready(t: TestContext): Page | null
  /** Waits until the page's app says it rendered and nothing is busy. */
  rendered(p: Page): Promise<unknown>
  /** A screenshot into test-artifacts/web/<name>.png. */
  shot(p: Page, name: string, fullPage?: boolean): Promise<unknown>
  /** GET of the API, parsed. */
  api(path: string): Promise<unknown>
}

export interface WebFixtureOptions {
  /**
   * Keys of an --api-keys file for the server (none by default). Such keys cannot keep lists (the
   * /me routes answer 403): a test that needs a user's lists makes a store key through
   * `server.app.users.store({ create: true })`.
   */
  apiKeys?: Parameters<typeof writeKeysFile>[1]
}

/**
 * Registers before/after hooks in the calling describe() that start the server and the browser,
 * and returns the fixture they fill in (read its fields inside tests, not at describe time).
 */
export function useWebFixture(options: WebFixtureOptions = {}): WebFixture {
  let skip: string | null = null
  const errors: string[] = []
  let dataDir: { dir: string; cleanup: () => Promise<void> } | undefined
  const fixture = {
    errors,
    ready(t: TestContext) {
      if (skip) {
        t.skip(skip)
        return null
      }
      return fixture.page
    },
    rendered: (p: Page) =>
      p.waitForFunction(
        () => document.documentElement.dataset.rendered && !document.querySelector('main[aria-busy]'),
      ),
    shot: (p: Page, name: string, fullPage = false) =>
      p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage }),
    api: async (p: string) => (await fetch(`${fixture.server.url}${p}`)).json(),
  } as WebFixture & { browser: Browser; context: BrowserContext; page: Page; server: TestServer }

  before(
    async () => {
      const found = await ensureChromium()
      if ('skip' in found) {
        skip = found.skip
        console.log(`# web e2e skipped: ${skip}`)
        return
      }
      dataDir = await tempDir('marquee-web-e2e-')
      const imdb = path.join(dataDir.dir, 'imdb')
      const dbPath = path.join(dataDir.dir, 'dataset.db')
      await generateSample({ titles: 2000, out: imdb })
      await ingest({ dataDir: imdb, dbPath })
      const apiKeysFile = options.apiKeys ? await writeKeysFile(dataDir.dir, options.apiKeys) : undefined
      fixture.server = await startTestServer({ dbPath, maxEventLoopDelayMs: 0, apiKeysFile })
      await mkdir(ARTIFACTS, { recursive: true })
      // launch() starts the browser on a fresh temporary user-data-dir of its own, removed on close.
      fixture.browser = await chromium.launch({
        executablePath: found.path,
        args: LAUNCH_ARGS,
        headless: true,
        timeout: 60_000,
      })
      fixture.context = await fixture.browser.newContext({
        viewport: { width: 1280, height: 900 },
        colorScheme: 'light',
      })
      const page = await fixture.context.newPage()
      page.setDefaultTimeout(10_000)
      page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`))
      page.on('console', (msg) => {
        // Chromium logs every 4xx answer; the tests ask for some on purpose (a missing title).
        if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text()))
          errors.push(`console: ${msg.text()}`)
      })
      fixture.page = page
    },
    { timeout: 20 * 60_000 },
  )

  after(async () => {
    await fixture.context?.close()
    await fixture.browser?.close()
    await fixture.server?.close()
    await dataDir?.cleanup()
  })

  return fixture
}
