import { describe, expect, it } from 'vitest'
import {
  createMarkerFormat,
  DEFAULT_MARKER,
  formatAttribution,
  hasAttribution,
  parseAttribution,
  stripAttribution,
  stripMarker,
} from '../../src/engine/attribution.js'

describe('attribution footer', () => {
  it('formats the original text, a blank line and "— author via system"', () => {
    expect(formatAttribution('Done on our side', 'Jane Smith', 'Elean')).toBe('Done on our side\n\n— Jane Smith via Elean')
  })

  it('round-trips text, author and system, including text with trailing whitespace and blank lines', () => {
    for (const text of ['Done', 'two\nlines', 'trailing spaces   ', 'ends with a newline\n', 'ends with a blank line\n\n', '  indented\n\tand tabbed']) {
      const body = formatAttribution(text, 'Jane Smith', 'Elean')
      expect(parseAttribution(body)).toEqual({ text, author: 'Jane Smith', system: 'Elean' })
      expect(stripAttribution(body)).toBe(text)
    }
  })

  it('reads a footer the vendor stored with CRLF line breaks or trailing whitespace', () => {
    expect(parseAttribution('Done\r\n\r\n— Jane Smith via Elean\r\n')).toEqual({ text: 'Done', author: 'Jane Smith', system: 'Elean' })
    expect(parseAttribution('Done\n \n— Jane Smith via Elean  \n\n')).toEqual({ text: 'Done', author: 'Jane Smith', system: 'Elean' })
    expect(stripAttribution('a\r\nb\r\n\r\n— Jane via Elementum')).toBe('a\r\nb')
  })

  it('takes the system after the last " via ", so an author may contain it', () => {
    expect(parseAttribution(formatAttribution('x', 'Bob via Alice', 'Elean'))).toMatchObject({ author: 'Bob via Alice', system: 'Elean' })
  })

  it('keeps the footer on one line whatever the author name holds', () => {
    const body = formatAttribution('x', 'Jane\nSmith ', 'Elean')
    expect(body).toBe('x\n\n— Jane Smith via Elean')
    expect(formatAttribution('x', null, 'Elean')).toBe('x\n\n— unknown via Elean')
  })

  it('does not take a footer-like line in the middle of a human comment for a footer', () => {
    const human = 'Forwarding this:\n\n— Jane Smith via Elean\n\nand I agree with her.'
    expect(parseAttribution(human)).toBeNull()
    expect(hasAttribution(human)).toBe(false)
    expect(stripAttribution(human)).toBe(human)
  })

  it('needs the blank line before the footer and some text before it', () => {
    expect(hasAttribution('Thanks\n— Jane Smith via Elean')).toBe(false)
    expect(hasAttribution('— Jane Smith via Elean')).toBe(false)
    expect(hasAttribution('Thanks\n\n- Jane Smith via Elean')).toBe(false)
    expect(hasAttribution('Thanks\n\n— Jane Smith')).toBe(false)
    expect(hasAttribution(null)).toBe(false)
    expect(hasAttribution('')).toBe(false)
  })
})

describe('create marker', () => {
  const link = { mapping: 'it-requests', link: '42' }

  it('is the line elsync:<mapping>:<link id> after a blank line at the end of the description', () => {
    expect(DEFAULT_MARKER.line(link)).toBe('elsync:it-requests:42')
    expect(DEFAULT_MARKER.append('Users cannot log in.', link)).toBe('Users cannot log in.\n\nelsync:it-requests:42')
    expect(DEFAULT_MARKER.append(null, link)).toBe('elsync:it-requests:42')
    expect(DEFAULT_MARKER.append('', link)).toBe('elsync:it-requests:42')
  })

  it('round-trips the description, including trailing whitespace, and an empty description as null', () => {
    for (const text of ['Users cannot log in.', 'two\nlines', 'trailing   ', 'newline\n', 'blank line\n\n']) {
      const parsed = DEFAULT_MARKER.parse(DEFAULT_MARKER.append(text, link))
      expect(parsed).toEqual({ ...link, text })
      expect(stripMarker(DEFAULT_MARKER.append(text, link))).toBe(text)
    }
    expect(DEFAULT_MARKER.parse('elsync:it-requests:42')).toEqual({ ...link, text: null })
    expect(stripMarker(DEFAULT_MARKER.append(null, link))).toBeNull()
  })

  it('reads a marker stored with CRLF, trailing whitespace or without the blank line', () => {
    expect(stripMarker('Line one\r\nLine two\r\n\r\nelsync:it-requests:42\r\n')).toBe('Line one\r\nLine two')
    expect(stripMarker('Text\nelsync:it-requests:42  ')).toBe('Text')
  })

  it('leaves a description without a marker, or with one in the middle, unchanged', () => {
    expect(stripMarker('no marker here')).toBe('no marker here')
    expect(stripMarker(null)).toBeNull()
    const middle = 'elsync:it-requests:42\n\nThen a human wrote more.'
    expect(stripMarker(middle)).toBe(middle)
    expect(stripMarker('Text\n\nelsync:Not A Slug:42')).toBe('Text\n\nelsync:Not A Slug:42')
  })

  it('takes a mapping setting as a template with {mapping} and {link}, or as a prefix', () => {
    const template = createMarkerFormat('[synced by acme: {mapping} #{link}]')
    expect(template.line(link)).toBe('[synced by acme: it-requests #42]')
    expect(template.parse('Text\n\n[synced by acme: it-requests #42]')).toEqual({ ...link, text: 'Text' })
    expect(template.parse('Text\n\nelsync:it-requests:42')).toBeNull()

    const prefix = createMarkerFormat('acme')
    expect(prefix.template).toBe('acme:{mapping}:{link}')
    expect(prefix.parse(prefix.append('Text', { mapping: 'm', link: '01J9ZK' }))).toEqual({ mapping: 'm', link: '01J9ZK', text: 'Text' })
    // the formats of several mappings are tried in turn
    expect(stripMarker('Text\n\nacme:m:7', [DEFAULT_MARKER, prefix])).toBe('Text')
    expect(stripMarker('Text\n\nacme:m:7')).toBe('Text\n\nacme:m:7')
  })

  it('requires a placeholder used twice to repeat the same value', () => {
    const twice = createMarkerFormat('{link}/{mapping}/{link}')
    expect(twice.parse('x\n\n7/m/7')).toMatchObject({ link: '7', mapping: 'm' })
    expect(twice.parse('x\n\n7/m/8')).toBeNull()
  })
})
