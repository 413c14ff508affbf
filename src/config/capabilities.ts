/**
 * What each connection kind can do, as far as config validation needs to know (section 1 of
 * DESIGN.md). A mapping that asks for something a side lacks is refused at load time rather
 * than failing on every push.
 */
import type { ConnectionKind } from './schema.js'

export interface KindCapabilities {
  /** Records can be created and updated (a generic `rest` connection only mirrors). */
  readonly write: boolean
  readonly comments: boolean
  readonly attachments: boolean
  readonly related: boolean
  /** `oauth2-client-credentials` may omit `tokenUrl`: the kind implies its token endpoint. */
  readonly impliedTokenUrl: boolean
}

export const CAPABILITIES: { readonly [K in ConnectionKind]: KindCapabilities } = {
  elementum: { write: true, comments: true, attachments: true, related: true, impliedTokenUrl: true },
  elean: { write: true, comments: true, attachments: true, related: false, impliedTokenUrl: false },
  avepoint: { write: true, comments: false, attachments: false, related: false, impliedTokenUrl: true },
  elasticio: { write: true, comments: false, attachments: false, related: false, impliedTokenUrl: false },
  rest: { write: false, comments: false, attachments: false, related: false, impliedTokenUrl: false },
}

export type Capability = 'comments' | 'attachments' | 'related'

/** Kinds that have a capability, for error messages. */
export function kindsWith(capability: Capability | 'write' | 'impliedTokenUrl'): ConnectionKind[] {
  return (Object.keys(CAPABILITIES) as ConnectionKind[]).filter((k) => CAPABILITIES[k][capability])
}
