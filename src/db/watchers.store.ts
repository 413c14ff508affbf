import type { WatcherCandidate, WatcherStore, WatcherTx } from '../engine/children.watchers.js'
import type { StreamRef } from '../engine/types.js'
import type { Side } from '../engine/write.types.js'
import type { Sql, Tx } from './client.js'
import { insertOutbox, transactionOf } from './reconcile.store.js'

/** Watcher copies (engine/children.watchers.ts) over Postgres: the mirror's `record_watchers` against `watcher_copies`. */

const LINK_COLUMN = { left: 'left_remote_id', right: 'right_remote_id' } as const

function watcherTx(tx: Tx): WatcherTx {
  return {
    async candidates(mappingId: string, streams: Record<Side, StreamRef>, from: Side): Promise<WatcherCandidate[]> {
      const to: Side = from === 'left' ? 'right' : 'left'
      const src = streams[from]
      const dst = streams[to]
      const rows = await tx<{ link_id: string; target_remote_id: string; email: string }[]>`
        select l.id as link_id, l.${tx(LINK_COLUMN[to])} as target_remote_id, w.email
        from elsync.record_links l
        join elsync.record_watchers w on w.connection = ${src.connection} and w.stream = ${src.stream}
          and w.remote_id = l.${tx(LINK_COLUMN[from])} and w.email is not null
        join elsync.records t on t.connection = ${dst.connection} and t.stream = ${dst.stream}
          and t.remote_id = l.${tx(LINK_COLUMN[to])} and t.deleted_at is null
        where l.mapping_id = ${mappingId} and l.state = 'linked'
          and not exists (select 1 from elsync.record_watchers x where x.connection = ${dst.connection} and x.stream = ${dst.stream}
                            and x.remote_id = t.remote_id and x.watcher_key = w.email)
          and not exists (select 1 from elsync.watcher_copies c where c.link_id = l.id and c.target = ${to} and c.email = w.email)
        order by l.id, w.email`
      return rows.map((r) => ({ linkId: Number(r.link_id), targetRemoteId: r.target_remote_id, email: r.email }))
    },

    async record(c) {
      await tx`
        insert into elsync.watcher_copies (mapping_id, link_id, target, email, outbox_id)
        values (${c.mappingId}, ${c.linkId}, ${c.target}, ${c.email}, ${c.outboxId})
        on conflict (link_id, target, email) do nothing`
    },

    enqueue: (req) => insertOutbox(tx, req),
  }
}

export function createPgWatcherStore(sql: Sql): WatcherStore {
  return { transaction: (fn, opts) => transactionOf(sql, watcherTx, fn, opts) }
}
