// porsager/postgres#1223 and #1192: a backend terminated while the driver fetches array types at
// connection start-up. Unpatched, the first query fails with the dead backend's 57P01 and the
// same error escapes as an unhandled rejection (the process dies). Prints one JSON line.
import { createServer, connect } from 'node:net'
import postgres from 'postgres'

const url = new URL(process.argv[2])
const admin = postgres(url.toString(), { max: 1, onnotice() {} })
let armed = true
const proxy = createServer((client) => {
  const upstream = connect(Number(url.port || 5432), url.hostname)
  client.on('error', () => {})
  upstream.on('error', () => {})
  upstream.pipe(client)
  client.on('close', () => upstream.destroy())
  upstream.on('close', () => client.destroy())
  client.on('data', async (chunk) => {
    // the first array-type query: its backend is terminated before the query reaches it
    if (armed && chunk.includes('typarray')) {
      armed = false
      client.pause()
      await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'startup-victim'`
      await new Promise((r) => setTimeout(r, 200))
      client.resume()
    }
    upstream.write(chunk)
  })
})
await new Promise((r) => proxy.listen(0, '127.0.0.1', r))
const target = new URL(url)
target.port = String(proxy.address().port)
const victim = postgres(target.toString(), { max: 1, onnotice() {}, connection: { application_name: 'startup-victim' } })
const first = await victim`select 1 as n`.then(
  (rows) => `ok ${rows[0].n}`,
  (e) => e.code ?? e.message,
)
const second = await victim`select 2 as n`.then(
  (rows) => `ok ${rows[0].n}`,
  (e) => e.code ?? e.message,
)
// an unhandled rejection, if any, fires before this
await new Promise((r) => setTimeout(r, 200))
await Promise.all([victim.end({ timeout: 1 }), admin.end({ timeout: 1 })])
proxy.close()
console.log(JSON.stringify({ first, second }))
