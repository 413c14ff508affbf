import type { FieldCatalog } from './catalog.js'
import { scalar } from './filter.js'
import type { Snapshot } from './record.js'
import { compileNode, parseRsql, type RsqlNode } from './rsql.js'

/**
 * A mapping side's `filter`: which mirrored records take part in the mapping. The filter
 * names the source's own fields (`Status`, `dueDate`) as the stream filter does, read from
 * the mirrored snapshot with the side's field catalog; the normalized columns (`title`,
 * `status_category`, …) and the `fields` of the snapshot are there as well.
 */
export type ScopeTest = (snapshot: Snapshot) => boolean

function selectors(node: RsqlNode, out: Set<string> = new Set()): Set<string> {
  if (node.kind === 'cmp') out.add(node.selector)
  else for (const c of node.children) selectors(c, out)
  return out
}

/** Everything in scope when there is no filter; throws RsqlSyntaxError on a bad one (the config loader has refused those). */
export function createScope(filter: string | undefined, catalog: FieldCatalog): ScopeTest {
  if (filter === undefined || filter.trim() === '') return () => true
  const tree = parseRsql(filter)
  const matches = compileNode(tree)
  const names = [...selectors(tree)]
  return (snapshot) => {
    const view: Record<string, string> = {}
    const put = (k: string, v: unknown) => {
      const s = scalar(v)
      if (s !== undefined) view[k] = s
    }
    for (const [k, v] of Object.entries(snapshot.fields)) put(k, v)
    for (const [k, v] of Object.entries(snapshot)) if (k !== 'fields') put(k, v)
    for (const name of names) put(name, catalog.read(snapshot, name))
    return matches(view)
  }
}
