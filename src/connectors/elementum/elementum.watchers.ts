import type { ElementumStream } from './elementum.config.js'
import type { WatcherWriter } from '../../engine/ports.js'
import type { RemoteWatcher } from '../../engine/types.js'
import type { HttpClient } from '../../http/client.js'
import { extractList, firstStr, isObject, str, type Json } from '../shared/tolerant.js'
import { NotFoundError, translateWriteError } from '../shared/write.js'
import { paths, type Namespace } from './elementum.client.js'

/**
 * Watchers of a record (`GET/POST/DELETE …/{id}/watchers`). The documentation names the
 * endpoints only: the list is read tolerantly (a bare array of users, or wrapped; a user
 * flat or under `user`), and a watcher is added by `{email}`. A POST that answers 404 (or
 * 400/422) is either a record that is gone or a user the workspace does not have: the
 * watcher list tells which.
 */

export const watchersPath = (ns: Namespace, id: string): string => `${paths.record(ns, id)}/watchers`

export function toRemoteWatcher(parentRemoteId: string, item: unknown): RemoteWatcher | null {
  if (!isObject(item)) return null
  const u: Json = isObject(item.user) ? { ...item, ...item.user } : item
  const email = str(u.email)?.trim().toLowerCase() || null
  const userId = firstStr(u, ['id', 'userId'])
  if (email === null && userId === null) return null
  const name = [str(u.firstName), str(u.lastName)].filter((s) => s !== null && s.trim() !== '').join(' ') || firstStr(u, ['name', 'displayName'])
  return { parentRemoteId, email, name, userId }
}

/** The record's watchers; null when the record is gone (404). */
export async function listWatchers(http: HttpClient, ns: Namespace, id: string, signal?: AbortSignal): Promise<RemoteWatcher[] | null> {
  const res = await http.request({ path: watchersPath(ns, id), route: 'GET /{recordType}/{alias}/{id}/watchers', signal, allowStatus: [404] })
  if (res.status === 404) return null
  return extractList(res.body, ['items', 'data', 'watchers'], `watchers of ${id}`)
    .map((w) => toRemoteWatcher(id, w))
    .filter((w): w is RemoteWatcher => w !== null)
}

export function createWatcherWriter(http: HttpClient, streamConfig: (stream: string) => ElementumStream): WatcherWriter {
  return {
    list: (stream, parentRemoteId, signal) => listWatchers(http, streamConfig(stream), parentRemoteId, signal),

    async add(stream, parentRemoteId, email, signal) {
      const s = streamConfig(stream)
      const what = `watcher ${email} on ${s.recordType}/${s.alias}/${parentRemoteId}`
      const res = await http
        .request({
          method: 'POST',
          path: watchersPath(s, parentRemoteId),
          route: 'POST /{recordType}/{alias}/{id}/watchers',
          json: { email },
          signal,
          expect: 'text',
          allowStatus: [404, 422],
        })
        .catch((err: unknown) => translateWriteError(err, what, { fields: ['email'], post: true }))
      if (res.status < 300) return 'added'
      // refused: the record may be gone, or the user unknown to this workspace
      const listed = await listWatchers(http, s, parentRemoteId, signal)
      if (listed === null) throw new NotFoundError(`${what}: the record is gone`)
      return 'unknown_user'
    },
  }
}
