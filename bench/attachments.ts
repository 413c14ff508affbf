import { runScript, spawnSim } from './support.js'

/**
 * RSS growth while one attachment of `sizeMb` is copied Elementum → Elementum by the push
 * (issue 13, goal < 64 MB at 250 MB): the simulator in one process, the copy in another
 * (bench/attachment-probe.ts), so that neither the simulator's store nor the rest of the
 * benchmark counts. The copy must also arrive byte-identical, or there is no figure.
 */
interface AttachmentProbe {
  sent: number
  dead: number
  state: string | null
  size: number
  peakMb: number
  seconds: number
  sha256: string | null
}

export async function attachmentStreamingRss(dbUrl: string, sizeMb: number): Promise<object> {
  const sim = await spawnSim('elementum-attachment', sizeMb)
  try {
    const probe = await runScript<AttachmentProbe>('attachment-probe.ts', [dbUrl, JSON.stringify({ baseUrl: sim.baseUrl, credentials: sim.credentials })])
    if (probe.state !== 'copied' || probe.sha256 !== sim.sha256) throw new Error(`attachment probe: the copy did not arrive intact: ${JSON.stringify(probe)}`)
    return {
      figure: 'attachment_streaming_rss',
      size_mb: sizeMb,
      rss_growth_mb: probe.peakMb,
      goal_mb: 64,
      seconds: +probe.seconds.toFixed(1),
      mb_per_s: +(sizeMb / probe.seconds).toFixed(1),
      byte_identical: true,
    }
  } finally {
    sim.stop()
  }
}
