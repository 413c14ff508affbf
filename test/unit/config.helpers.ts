/** Temp config directories for the config tests (under os.tmpdir(), removed after each test). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'

const created: string[] = []

afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

/** Writes `files` (name → text) into a fresh directory and returns its path. */
export async function writeConfigDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'elsync-config-'))
  created.push(dir)
  await Promise.all(Object.entries(files).map(([name, text]) => writeFile(join(dir, name), text)))
  return dir
}

export const ENV = {
  ELEMENTUM_CLIENT_ID: 'elementum-client',
  ELEMENTUM_CLIENT_SECRET: 'elementum-secret-8f3a9c',
  ELEAN_API_KEY: 'el_0123456789abcdef0123456789abcdef01234567',
} as const

export const CONNECTIONS = `
connections:
  elementum:
    kind: elementum
    baseUrl: https://api.elementum.io/v1
    auth: { mode: oauth2-client-credentials, clientId: "\${ELEMENTUM_CLIENT_ID}", clientSecret: "\${ELEMENTUM_CLIENT_SECRET}" }
    poll: "*/1 * * * *"
    streams:
      it-requests: { recordType: tasks, alias: it-requests }
  elean:
    kind: elean
    baseUrl: https://api.elean.app/v1/public
    auth: { mode: bearer, token: "\${ELEAN_API_KEY}" }
    rateLimit: { perMinute: 60 }
    streams:
      web: { project: web }
`

export const MAPPING = `
id: it-requests
left:  { connection: elementum, stream: it-requests, filter: "Status!=Cancelled" }
right: { connection: elean, stream: web }
create: both
fields:
  - { left: Title, right: title }
  - { left: Status, right: status, values: { Open: To Do, "In Progress": In Progress, Closed: Done } }
  - { left: Priority, right: priority, direction: left-to-right, values: { P1: urgent, P2: high, P3: urgent } }
comments: both
attachments: both
`

/** connections.yaml with `extra` appended under `connections.elean` (indented 4 spaces). */
export function connectionsWithElean(extra: string): string {
  return CONNECTIONS.replace('    rateLimit: { perMinute: 60 }\n', `    rateLimit: { perMinute: 60 }\n${extra}`)
}
