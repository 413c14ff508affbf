/**
 * The vendors elsync knows, one line each. The config schema's union of connection kinds,
 * the checks of what a mapping may ask of a kind, and `createConnector` are all built from
 * this list: adding a vendor is its folder (exporting a `ConnectorModule`) plus one line here.
 */
import type { z } from 'zod'
import { SyncError } from '../engine/errors.js'
import type { Connector, PortName } from '../engine/ports.js'
import { avepointModule } from './avepoint/index.js'
import { elasticioModule } from './elasticio/index.js'
import { eleanModule } from './elean/index.js'
import { elementumModule } from './elementum/index.js'
import { restModule } from './rest/index.js'
import type { ChildKind, ConnectorDeps, ConnectorModule } from './types.js'

/** In the order error messages list the kinds. */
export const CONNECTOR_MODULES = [elementumModule, eleanModule, avepointModule, elasticioModule, restModule] as const

type Registered = (typeof CONNECTOR_MODULES)[number]

export type ConnectionKind = Registered['kind']
/** One validated connection of any kind. */
export type ConnectionConfig = z.output<Registered['connectionSchema']>

export const CONNECTION_KINDS: readonly ConnectionKind[] = CONNECTOR_MODULES.map((m) => m.kind)

/** A registered module, its factory taking a connection of any kind. */
export type AnyConnectorModule = Omit<ConnectorModule, 'create'> & { create(deps: ConnectorDeps<ConnectionConfig>): Connector }

const BY_KIND = new Map<string, AnyConnectorModule>(
  // sound: a connection is only ever handed to the module its own `kind` names
  CONNECTOR_MODULES.map((m) => [m.kind, m as unknown as AnyConnectorModule]),
)

/** The module of a kind that config validation accepted. */
export function connectorModule(kind: ConnectionKind): AnyConnectorModule {
  const found = BY_KIND.get(kind)
  if (!found) throw new SyncError(`kind ${kind} is not registered`)
  return found
}

/** Kinds whose module implements every one of these ports and mirrors every one of these children, for error messages. */
export function kindsWith(ports: readonly PortName[], children: readonly ChildKind[] = []): ConnectionKind[] {
  return CONNECTOR_MODULES.filter((m) => ports.every((p) => m.ports.includes(p)) && children.every((c) => m.children.includes(c))).map((m) => m.kind)
}
