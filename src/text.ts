/** `1 page`, `2 pages`: a count with its noun, for lines people read (regular plurals only). */
export const plural = (n: number, noun: string): string => `${n} ${n === 1 ? noun : `${noun}s`}`
