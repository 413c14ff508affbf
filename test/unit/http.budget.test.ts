import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { createRateBudget } from '../../src/http/budget.js'

describe('rate budget pause', () => {
  it('holds a task already waiting out a pause when a later Retry-After extends the pause', async () => {
    // The budget's clock is injected and stands still while real timers run, so the task the
    // queue lets go when the first pause's timer fires finds the pause not yet over by that
    // clock and waits inside the budget: the case of a task dequeued at the edge of a pause.
    let clock = 0
    const budget = createRateBudget({ concurrency: 1, now: () => clock })
    budget.pauseFor(200) // until 200 on the budget's clock; the queue resumes after 200 real ms
    const startedAt: number[] = []
    const task = budget.schedule(async () => void startedAt.push(clock), { priority: 'read' })

    await sleep(300) // the queue has resumed; the task waits (its first wait ends at ~400 real ms)
    expect(startedAt).toEqual([])
    budget.pauseFor(500) // a second 429: now until 500 on the budget's clock
    await sleep(300) // ~600 real ms: the first wait is over, the extended pause is not
    expect(startedAt, 'the waiting task ignored the extended pause').toEqual([])
    clock = 500
    await task
    expect(startedAt).toEqual([500])
  })
})
