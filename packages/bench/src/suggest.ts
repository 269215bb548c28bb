/** "Did you mean …?" for misspelt keys, flags, designs and commands. */

/** Levenshtein distance (insertions, deletions, substitutions; an adjacent swap counts 1). */
export function editDistance(a: string, b: string): number {
  const m = a.length
  const n = b.length
  const d: number[][] = Array.from({ length: m + 1 }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= m; i++)
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  return d[m]![n]!
}

/** The closest candidate within a third of the word's length (rounded up; case ignored), or undefined. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestD = Math.max(1, Math.ceil(word.length / 3)) + 1
  for (const c of candidates) {
    if (c === word) continue
    const dist = editDistance(w, c.toLowerCase())
    if (dist < bestD) {
      bestD = dist
      best = c
    }
  }
  return best
}
