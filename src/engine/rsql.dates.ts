/**
 * Dates in RSQL filters: which selectors are date fields and which values are dates.
 *
 * A selector is a date field when the caller names it (the Elementum simulator passes the
 * fields it stores as dates; config load passes a stream's cursorField) or when its name reads
 * as one: a last word `on`, `at` or `date` (`Created on`, `Updated on`, `Due Date`, `due_at`,
 * `remote_updated_at`) or a camelCase `…On`, `…At`, `…Date` (`updatedAt`, `dueDate`). On a date
 * field every value except an `=lk=` pattern must be a date, so `Created on=gt=garbage` is
 * refused instead of comparing as text and matching nothing.
 */

export const DATE_HINT = 'YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.SSSZ'
export const INSTANT_HINT = 'YYYY-MM-DDTHH:MM:SS.SSSZ'

/** A calendar date, or an instant with a zone (`Z` or `±HH:MM`); seconds and fraction optional. */
export const DATE_VALUE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):?(\d{2})))?$/
/** The documented `=bt=` bound: a UTC instant to the second (the fraction may be omitted or longer). */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/
/** An ISO instant at the head of a colon-separated list (`from:to`, `a:b:c`), offsets included. */
export const ISO_HEAD = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})/

const DATE_NAME = /(?:^|[\s_])(?:[Oo]n|[Aa]t|[Dd]ate)$|[a-z](?:On|At|Date)$/

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Regexes take the shape; this takes the calendar (no 2026-13-45, no 2023-02-29, no 25:00). */
function onCalendar(m: RegExpExecArray): boolean {
  const [y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0] = m.slice(1).map((g) => (g === undefined ? undefined : Number(g)))
  if (y === undefined || mo === undefined || d === undefined) return false
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59) return false
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
  return d <= (mo === 2 && leap ? 29 : (DAYS[mo - 1] as number))
}

export function isDateValue(text: string): boolean {
  const m = DATE_VALUE.exec(text)
  return m !== null && onCalendar(m)
}

export function isInstant(text: string): boolean {
  const m = INSTANT.exec(text)
  return m !== null && onCalendar(m)
}

/** Ordered comparisons with a value that starts like a date (`2026-…`) are checked on any field. */
export function looksLikeDate(text: string): boolean {
  return /^\d{4}-/.test(text)
}

export function dateFieldTest(named: Iterable<string> = []): (selector: string) => boolean {
  const set = new Set(named)
  return (selector) => set.has(selector) || DATE_NAME.test(selector)
}
