export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `work` over `items` with at most `limit` in flight; the first failure is thrown once all have settled. */
export async function parallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = Array.from({length: items.length})
  const errors: unknown[] = []
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      try {
        results[i] = await work(items[i])
      } catch (error) {
        errors.push(error)
      }
    }
  }

  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  if (errors.length > 0) throw errors[0]
  return results
}

/** Like `parallel`, but every item settles on its own: one failure never hides the others' results. */
export async function settleAll<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  return parallel(items, limit, (item) =>
    work(item).then(
      (value): PromiseSettledResult<R> => ({status: 'fulfilled', value}),
      (reason: unknown): PromiseSettledResult<R> => ({reason, status: 'rejected'}),
    ),
  )
}
