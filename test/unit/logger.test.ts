import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { SyncError } from '../../src/engine/errors.js'
import { chooseLogFormat, createLogger, createRedactor, type LoggerOptions } from '../../src/logger.js'

class UnauthorizedError extends SyncError {
  override readonly code = 'unauthorized'
}

function logTo(opts: Omit<LoggerOptions, 'destination'>) {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk))
      cb()
    },
  })
  return { logger: createLogger({ ...opts, destination }), text: () => lines.join('') }
}

describe('log format', () => {
  it('is pretty on a terminal and JSON otherwise, unless LOG_FORMAT says', () => {
    expect(chooseLogFormat(undefined, true)).toBe('pretty')
    expect(chooseLogFormat(undefined, false)).toBe('json')
    expect(chooseLogFormat('json', true)).toBe('json')
    expect(chooseLogFormat('pretty', false)).toBe('pretty')
  })

  it('prints an expected failure on a terminal as one readable line without a stack', () => {
    const { logger, text } = logTo({ isTTY: true })
    logger.child({ component: 'elean' }).warn({ stream: 'web', err: new UnauthorizedError('GET /{project}/tasks answered 401') }, 'stream read failed')
    const out = text()
    expect(out.trimEnd().split('\n')).toHaveLength(1)
    expect(out).toMatch(/WARN.*elean: stream read failed: unauthorized: GET \/\{project\}\/tasks answered 401/)
    expect(out).toContain('"stream":"web"')
    expect(out).not.toMatch(/\bat .*\.ts:\d+/)
    expect(out).not.toMatch(/^\{"level"/)
  })

  it('keeps the stack of an unexpected error, even on a terminal', () => {
    const { logger, text } = logTo({ isTTY: true, format: 'pretty' })
    logger.error({ err: new TypeError('cannot read x of undefined') }, 'scheduled run failed')
    expect(text()).toMatch(/scheduled run failed: TypeError: cannot read x of undefined/)
    expect(text()).toMatch(/\n\s+at /)
  })

  it('writes JSON when asked, logging an expected failure as its code and message only', () => {
    const { logger, text } = logTo({ isTTY: true, format: 'json' })
    logger.warn({ err: new UnauthorizedError('answered 401') }, 'stream read failed')
    logger.error({ err: new Error('boom') }, 'unexpected')
    const [expected, unexpected] = text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(expected.err).toEqual({ code: 'unauthorized', message: 'answered 401' })
    expect(unexpected.err).toMatchObject({ type: 'Error', message: 'boom', stack: expect.stringContaining('at ') })
  })

  it('scrubs secrets from pretty lines too', () => {
    const { logger, text } = logTo({ isTTY: true, redactor: createRedactor(['el_secret-key-value']) })
    logger.warn({ err: new UnauthorizedError('key el_secret-key-value refused'), headers: { authorization: 'Bearer x' } }, 'stream read failed')
    expect(text()).not.toContain('el_secret-key-value')
    expect(text()).not.toContain('Bearer x')
    expect(text()).toContain('[REDACTED]')
  })
})
