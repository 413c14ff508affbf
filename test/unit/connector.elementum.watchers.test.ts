import { describe, expect, it } from 'vitest'
import { toRemoteWatcher } from '../../src/connectors/elementum/elementum.watchers.js'

describe('Elementum watchers, read tolerantly', () => {
  it('takes a user flat or under `user`, with the email lower-cased', () => {
    expect(toRemoteWatcher('TSK-1', { id: 'u1', firstName: 'Grace', lastName: 'Hopper', email: 'Grace.Hopper@Example.com' })).toEqual({
      parentRemoteId: 'TSK-1',
      email: 'grace.hopper@example.com',
      name: 'Grace Hopper',
      userId: 'u1',
    })
    expect(toRemoteWatcher('TSK-1', { user: { userId: 'u2', name: 'Alan', email: 'alan@example.com' } })).toEqual({
      parentRemoteId: 'TSK-1',
      email: 'alan@example.com',
      name: 'Alan',
      userId: 'u2',
    })
  })

  it('keeps a watcher without an email by its id, and drops one with neither', () => {
    expect(toRemoteWatcher('TSK-1', { id: 'u3' })).toEqual({ parentRemoteId: 'TSK-1', email: null, name: null, userId: 'u3' })
    expect(toRemoteWatcher('TSK-1', { firstName: 'Nobody' })).toBeNull()
    expect(toRemoteWatcher('TSK-1', 'someone')).toBeNull()
  })
})
