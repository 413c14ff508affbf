import { createServer, type Server, type Socket, connect } from 'node:net'

/**
 * A TCP proxy in front of Postgres, for database outages in tests: `down()` cuts every
 * open connection and refuses new ones (a failover or restart as the client sees it),
 * `up()` lets connections through again. The proxy's URL is the target's with its port.
 */
export interface PgProxy {
  url: string
  port: number
  /** Connections accepted so far. */
  accepted(): number
  down(): Promise<void>
  up(): Promise<void>
  close(): Promise<void>
}

export async function startPgProxy(targetUrl: string, opts: { startDown?: boolean } = {}): Promise<PgProxy> {
  const target = new URL(targetUrl)
  const sockets = new Set<Socket>()
  let accepted = 0
  let port = 0
  let server: Server | undefined

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        accepted += 1
        const upstream = connect(Number(target.port || 5432), target.hostname)
        for (const sock of [client, upstream]) {
          sockets.add(sock)
          sock.on('close', () => sockets.delete(sock))
          sock.on('error', () => {})
        }
        client.pipe(upstream).pipe(client)
        client.on('close', () => upstream.destroy())
        upstream.on('close', () => client.destroy())
      })
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => {
        port = (s.address() as { port: number }).port
        server = s
        resolve()
      })
    })

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const sock of sockets) sock.destroy()
      sockets.clear()
      if (!server) return resolve()
      server.close(() => resolve())
      server = undefined
    })

  // reserve a port even when starting down, so the URL is known up front
  await listen()
  if (opts.startDown) await stop()
  const url = new URL(targetUrl)
  url.port = String(port)
  return {
    url: url.toString(),
    port,
    accepted: () => accepted,
    down: stop,
    up: async () => {
      if (!server) await listen()
    },
    close: stop,
  }
}
