import { createHash } from 'node:crypto'
import { canonicalTimestamp, jsonExcerpt, MAX_DEPTH, nestedDeeperThan, sanitize, stableStringify, type SanitizeReport } from '../engine/record.js'
import { childrenOnlyOf } from '../engine/filter.js'
import type { ChildSet, Page, QuarantinedItem, RemoteRecord, StreamRef } from '../engine/types.js'
import type postgres from 'postgres'
import type { Tx } from './client.js'

/**
 * Child objects of records (comments, attachments, related items, watchers). A page lists the
 * parents whose children were read; for each such parent the stored set is made equal
 * to what was read: new or changed rows upserted (unchanged skipped by hash), rows no
 * longer present removed. One generic writer serves the four tables.
 */
interface ChildColumn<T> {
  name: string
  type: 'text' | 'timestamptz' | 'bigint' | 'jsonb'
  get: (item: T) => unknown
}

interface ChildSpec<T> {
  table: string
  keyColumn: string
  parent: (item: T) => string
  key: (item: T) => string
  columns: ChildColumn<T>[]
  /** Tables without a content hash are insert-or-keep (their rows never change). */
  hashed: boolean
}

type Item<K extends 'comments' | 'attachments' | 'relations' | 'watchers'> = NonNullable<Page[K]>['items'][number]

const SPECS = {
  comments: {
    table: 'record_comments',
    keyColumn: 'comment_id',
    parent: (c) => c.parentRemoteId,
    key: (c) => c.commentId,
    hashed: true,
    columns: [
      { name: 'body', type: 'text', get: (c) => c.body },
      { name: 'author', type: 'text', get: (c) => c.author },
      { name: 'created_at', type: 'timestamptz', get: (c) => c.createdAt },
      { name: 'origin', type: 'text', get: (c) => c.origin ?? 'native' },
      { name: 'document', type: 'jsonb', get: (c) => c.document },
    ],
  } satisfies ChildSpec<Item<'comments'>>,
  attachments: {
    table: 'record_attachments',
    keyColumn: 'attachment_id',
    parent: (a) => a.parentRemoteId,
    key: (a) => a.attachmentId,
    hashed: true,
    columns: [
      { name: 'filename', type: 'text', get: (a) => a.filename },
      { name: 'media_type', type: 'text', get: (a) => a.mediaType },
      { name: 'size', type: 'bigint', get: (a) => a.size },
      { name: 'created_at', type: 'timestamptz', get: (a) => a.createdAt },
      { name: 'document', type: 'jsonb', get: (a) => a.document },
    ],
  } satisfies ChildSpec<Item<'attachments'>>,
  relations: {
    table: 'record_relations',
    keyColumn: 'related_remote_id',
    parent: (r) => r.parentRemoteId,
    key: (r) => r.relatedRemoteId,
    hashed: false,
    columns: [
      { name: 'related_stream', type: 'text', get: (r) => r.relatedStream },
      { name: 'relation_id', type: 'text', get: (r) => r.relationId },
    ],
  } satisfies ChildSpec<Item<'relations'>>,
  watchers: {
    table: 'record_watchers',
    keyColumn: 'watcher_key',
    parent: (w) => w.parentRemoteId,
    // the email is what crosses systems; a watcher shown without one is kept by its user id
    key: (w) => w.email ?? `id:${w.userId}`,
    hashed: true,
    columns: [
      { name: 'email', type: 'text', get: (w) => w.email },
      { name: 'name', type: 'text', get: (w) => w.name },
      { name: 'user_id', type: 'text', get: (w) => w.userId },
    ],
  } satisfies ChildSpec<Item<'watchers'>>,
}

const cell = (v: unknown, type: ChildColumn<unknown>['type']): string | null => {
  if (v === null || v === undefined) return type === 'jsonb' ? 'null' : null
  if (type === 'jsonb') return JSON.stringify(v)
  if (type === 'timestamptz') return canonicalTimestamp(String(v))
  return String(v)
}

async function writeChildren<T>(tx: Tx, stream: StreamRef, spec: ChildSpec<T>, set: ChildSet<T>, report: SanitizeReport): Promise<void> {
  const items = set.items.map((i) => sanitize(i, report))
  const parents = [...new Set([...set.parents, ...items.map(spec.parent)])]
  if (parents.length === 0) return
  const cols = spec.columns.map((c) => ({ ...c, values: items.map((i) => cell(c.get(i), c.type)) }))
  const hashes = items.map((_, n) =>
    createHash('sha256')
      .update(stableStringify(cols.map((c) => c.values[n])))
      .digest('base64url'),
  )
  const keys = items.map(spec.key)
  const owners = items.map(spec.parent)
  const table = tx(`elsync.${spec.table}`)
  // remove children the parents no longer have
  await tx`delete from ${table} t
    where t.connection = ${stream.connection} and t.stream = ${stream.stream} and t.remote_id = any(${parents}::text[])
      and (t.remote_id, t.${tx(spec.keyColumn)}) not in (select * from unnest(${owners}::text[], ${keys}::text[]))`
  if (items.length === 0) return
  // column names come from SPECS above, never from input
  const names = cols.map((c) => c.name)
  const selectList: Fragment[] = cols.map((c, n) => tx.unsafe(`u.c${n}::${c.type}`))
  const unnestArgs = cols.map((c) => tx`${c.values}::text[]` as Fragment)
  const hashCols = spec.hashed ? tx`, content_hash` : tx``
  const hashVals = spec.hashed ? tx`, u.hash` : tx``
  const onConflict = spec.hashed
    ? tx`do update set ${tx.unsafe(names.map((n) => `${n} = excluded.${n}`).join(', '))}, content_hash = excluded.content_hash
         where ${table}.content_hash is distinct from excluded.content_hash`
    : tx`do nothing`
  await tx`
    insert into ${table} (connection, stream, remote_id, ${tx(spec.keyColumn)}, ${tx.unsafe(names.join(', '))} ${hashCols})
    select ${stream.connection}, ${stream.stream}, u.owner, u.key, ${joinFragments(tx, selectList)} ${hashVals}
    from unnest(${owners}::text[], ${keys}::text[], ${hashes}::text[], ${joinFragments(tx, unnestArgs)})
      as u(owner, key, hash, ${tx.unsafe(cols.map((_, n) => `c${n}`).join(', '))})
    on conflict (connection, stream, remote_id, ${tx(spec.keyColumn)}) ${onConflict}`
}

type Fragment = postgres.PendingQuery<postgres.Row[]>

function joinFragments(tx: Tx, parts: Fragment[]): Fragment {
  return parts.reduce((acc, p) => tx`${acc}, ${p}`)
}

/**
 * The page with what its child sets cannot store taken out: a child nested deeper than
 * `MAX_DEPTH` levels (its document could be neither serialized nor parsed by Postgres) is
 * quarantined under its parent's id, and the parent is treated as if its children had not
 * been read: left out of every set (its stored children stay) and marked stale.
 */
export function screenChildren(page: Page): { page: Page; quarantined: QuarantinedItem[] } {
  const bad = new Map<string, QuarantinedItem>()
  const check = <T>(set: ChildSet<T> | undefined, spec: ChildSpec<T>, what: string) => {
    for (const item of set?.items ?? []) {
      const parent = spec.parent(item)
      if (bad.has(parent) || !nestedDeeperThan(item, MAX_DEPTH)) continue
      bad.set(parent, { remoteId: parent, reason: `${what} ${spec.key(item)}: nested deeper than ${MAX_DEPTH} levels`, excerpt: jsonExcerpt(item) })
    }
  }
  check(page.comments, SPECS.comments, 'comment')
  check(page.attachments, SPECS.attachments, 'attachment')
  check(page.relations, SPECS.relations, 'related item')
  check(page.watchers, SPECS.watchers, 'watcher')
  if (bad.size === 0) return { page, quarantined: [] }
  const out = childrenOnlyOf(page, (parent) => !bad.has(parent))
  return { page: { ...out, staleChildren: [...new Set([...(page.staleChildren ?? []), ...bad.keys()])] }, quarantined: [...bad.values()] }
}

/** Writes every child set of a page; returns how many NUL bytes were stripped. */
export async function applyChildren(tx: Tx, stream: StreamRef, page: Page): Promise<number> {
  const report: SanitizeReport = { nulBytesStripped: 0 }
  if (page.comments) await writeChildren(tx, stream, SPECS.comments, page.comments, report)
  if (page.attachments) await writeChildren(tx, stream, SPECS.attachments, page.attachments, report)
  if (page.relations) await writeChildren(tx, stream, SPECS.relations, page.relations, report)
  if (page.watchers) await writeChildren(tx, stream, SPECS.watchers, page.watchers, report)
  return report.nulBytesStripped
}

/**
 * Persists which records' children could not be read (`records.children_stale_since`): set when
 * a page lists the record in `staleChildren`, cleared when a later page brings its children.
 */
export async function markChildrenStale(tx: Tx, stream: StreamRef, page: Page): Promise<void> {
  const stale = new Set(page.staleChildren ?? [])
  const read = [...new Set([page.comments, page.attachments, page.relations, page.watchers].flatMap((set) => set?.parents ?? []))].filter(
    (id) => !stale.has(id),
  )
  if (stale.size > 0) {
    await tx`update elsync.records r set children_stale_since = now()
      where r.connection = ${stream.connection} and r.stream = ${stream.stream} and r.remote_id = any(${[...stale]}::text[])
        and r.children_stale_since is null`
  }
  // the child round-robin reads the records read longest ago first. Its turn is about the children
  // that cost requests of their own, which every child reader reads: comments (Elean lists a
  // task's attachments in the task itself, free with every page, but reads its comments one by one).
  // The record's time as the mirror now holds it (this page's records are already written) is
  // what `childrenBehind` compares a later read with.
  const turned = (page.comments?.parents ?? []).filter((id) => !stale.has(id))
  if (turned.length > 0) {
    await tx`insert into elsync.child_reads (connection, stream, remote_id, remote_updated_at)
      select ${stream.connection}, ${stream.stream}, k.remote_id,
        (select r.remote_updated_at from elsync.records r
         where r.connection = ${stream.connection} and r.stream = ${stream.stream} and r.remote_id = k.remote_id)
      from unnest(${turned}::text[]) as k(remote_id)
      on conflict (connection, stream, remote_id) do update set read_at = now(), remote_updated_at = excluded.remote_updated_at`
  }
  if (read.length > 0) {
    // the partial index holds only stale records: an index probe however large the stream
    await tx`update elsync.records r set children_stale_since = null
      where r.connection = ${stream.connection} and r.stream = ${stream.stream} and r.remote_id = any(${read}::text[])
        and r.children_stale_since is not null`
  }
}

/**
 * The child round-robin's next records: live ones whose children were never read or were left
 * stale first, then those read longest ago; none read since the run began (its changed records).
 */
export async function childrenDue(sql: Tx, stream: StreamRef, runId: number, limit: number): Promise<string[]> {
  if (limit <= 0) return []
  const rows = await sql<{ remote_id: string }[]>`
    select r.remote_id from elsync.records r
    left join elsync.child_reads c on c.connection = r.connection and c.stream = r.stream and c.remote_id = r.remote_id
    where r.connection = ${stream.connection} and r.stream = ${stream.stream} and r.deleted_at is null
      and (c.read_at is null or c.read_at < (select started_at from elsync.sync_runs where id = ${runId}))
    order by r.children_stale_since is null, c.read_at nulls first, r.id
    limit ${limit}`
  return rows.map((r) => r.remote_id)
}

/**
 * Of records just read, those whose children must be read with their page: the mirror does not
 * hold the record at this `remoteUpdatedAt` (it is new, changed or deleted), or its children were
 * last read when it held another one, or never read since it changed (a change the last reads
 * did not reach), or they were left stale. A record the mirror holds as first seen, whose
 * children were never read, is not among them: that is not a change (a first scan's budget left
 * it), and the child round-robin reads never-read records first. Times compare
 * as "not distinct", so a record without a time counts as changed only while the mirror lacks it.
 * One index probe per record into each of `records` and `child_reads` (their natural keys),
 * however large the stream. The times travel as text: drizzle's driver sends timestamp arrays
 * unserialized.
 */
export async function childrenBehind(sql: Tx, stream: StreamRef, records: readonly Pick<RemoteRecord, 'remoteId' | 'remoteUpdatedAt'>[]): Promise<Set<string>> {
  if (records.length === 0) return new Set()
  const ids = records.map((r) => r.remoteId)
  const ats = records.map((r) => canonicalTimestamp(r.remoteUpdatedAt))
  const rows = await sql<{ remote_id: string }[]>`
    select k.remote_id from unnest(${ids}::text[], ${ats}::text[]) as k(remote_id, at)
    left join elsync.records r on r.connection = ${stream.connection} and r.stream = ${stream.stream} and r.remote_id = k.remote_id
    left join elsync.child_reads c on c.connection = ${stream.connection} and c.stream = ${stream.stream} and c.remote_id = k.remote_id
    where r.id is null or r.deleted_at is not null or r.children_stale_since is not null
      or r.remote_updated_at is distinct from k.at::timestamptz
      or (c.remote_id is not null and c.remote_updated_at is distinct from k.at::timestamptz)
      or (c.remote_id is null and r.version > 1)`
  return new Set(rows.map((r) => r.remote_id))
}
