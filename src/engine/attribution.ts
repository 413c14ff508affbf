/**
 * The two marks a push leaves in text it writes (DESIGN.md §3), so that a later read
 * recognises its own work:
 * - the attribution footer of a copied comment: the original text, a blank line, then
 *   `— <author> via <system>`; a comment carrying it is never copied back;
 * - the create marker: a last line `elsync:<mapping>:<link id>` in the description of a
 *   record a push created, found again after a crash between the create and its
 *   bookkeeping, and stripped before field comparison and from the mirror's `description`.
 * Both are recognised only on the text's last non-blank line: the same words in the middle
 * of a human's text are the human's. Line breaks may come back as CRLF.
 */

export interface Attribution {
  /** The original text, exactly as it was before the footer was added. */
  text: string
  author: string
  system: string
}

/** Splits off the last non-blank line: the text before it (without the line break that ends it) and the line. */
function lastLine(s: string): { before: string | null; line: string } {
  const end = s.trimEnd()
  const nl = end.lastIndexOf('\n')
  if (nl < 0) return { before: null, line: end.trim() }
  return { before: end.slice(0, nl).replace(/\r$/, ''), line: end.slice(nl + 1).trim() }
}

/** Removes one trailing line break (the blank line our format puts before its last line), keeping any other whitespace. */
const dropOneLineBreak = (s: string): string => s.replace(/\r?\n[ \t]*$/, '')

/** A footer part is one line of single spaces, so the footer stays one parseable line. */
function oneLine(s: string, fallback: string): string {
  const t = s.replace(/\s+/g, ' ').trim()
  return t === '' ? fallback : t
}

const FOOTER = /^— (.+) via (.+)$/u

/** The copied comment's text: the original, a blank line, `— <author> via <system>`. */
export function formatAttribution(text: string, author: string | null, system: string): string {
  return `${text}\n\n— ${oneLine(author ?? '', 'unknown')} via ${oneLine(system, 'unknown')}`
}

/**
 * The footer of a comment we copied, or null. It must be the last non-blank line and follow
 * a blank line; the author is everything up to the last ` via `.
 */
export function parseAttribution(body: string | null | undefined): Attribution | null {
  if (!body) return null
  const { before, line } = lastLine(body)
  const m = FOOTER.exec(line)
  if (!m || before === null || !/(^|\n)[ \t]*$/.test(before)) return null
  return { text: dropOneLineBreak(before), author: m[1] as string, system: m[2] as string }
}

export function hasAttribution(body: string | null | undefined): boolean {
  return parseAttribution(body) !== null
}

/** The comment without our footer (unchanged when it has none). */
export function stripAttribution(body: string): string {
  return parseAttribution(body)?.text ?? body
}

// ---------------------------------------------------------------- create marker

export const DEFAULT_MARKER_TEMPLATE = 'elsync:{mapping}:{link}'

export interface MarkerFields {
  mapping: string
  link: string
}

export interface ParsedMarker extends MarkerFields {
  /** The description without the marker line; null when the marker was all it held. */
  text: string | null
}

/** One marker format, from a mapping's `marker` setting. */
export interface MarkerFormat {
  readonly template: string
  /** The marker line for one link. */
  line(fields: MarkerFields): string
  /** The description with the marker as its last line, after a blank line. */
  append(description: string | null, fields: MarkerFields): string
  /** The marker at the end of a description, or null. */
  parse(description: string | null | undefined): ParsedMarker | null
}

const MAPPING_PART = '(?<mapping>[a-z0-9][a-z0-9_-]{0,62})'
const LINK_PART = '(?<link>[A-Za-z0-9][A-Za-z0-9_.-]*)'
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * A marker format. `setting` is a mapping's `marker`: a template with `{mapping}` and
 * `{link}` placeholders, or a bare prefix that replaces `elsync` (`acme` → `acme:{mapping}:{link}`).
 * A template without `{link}` could not tell two created records apart, so it is taken as a prefix.
 */
export function createMarkerFormat(setting: string = DEFAULT_MARKER_TEMPLATE): MarkerFormat {
  const template = setting.includes('{link}') ? setting : `${setting}:{mapping}:{link}`
  const seen = new Set<string>()
  const source = template
    .split(/\{(mapping|link)\}/)
    .map((part, i) => {
      if (i % 2 === 0) return escapeRegExp(part)
      // a placeholder used twice must repeat the same value
      if (seen.has(part)) return `\\k<${part}>`
      seen.add(part)
      return part === 'mapping' ? MAPPING_PART : LINK_PART
    })
    .join('')
  const pattern = new RegExp(`^${source}$`)
  const line = (f: MarkerFields): string => template.replaceAll('{mapping}', f.mapping).replaceAll('{link}', f.link)
  return {
    template,
    line,
    append: (description, f) => (description === null || description === '' ? line(f) : `${description}\n\n${line(f)}`),
    parse(description) {
      if (!description) return null
      const { before, line: last } = lastLine(description)
      const m = pattern.exec(last)
      if (!m?.groups) return null
      const text = before === null ? '' : dropOneLineBreak(before)
      return { mapping: m.groups.mapping as string, link: m.groups.link as string, text: text === '' ? null : text }
    },
  }
}

export const DEFAULT_MARKER: MarkerFormat = createMarkerFormat()

/** The description without a create marker of any of these formats (unchanged when it has none). */
export function stripMarker(description: string | null, formats: readonly MarkerFormat[] = [DEFAULT_MARKER]): string | null {
  for (const f of formats) {
    const m = f.parse(description)
    if (m) return m.text
  }
  return description
}
