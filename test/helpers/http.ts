/** A response body as JSON; tests check its shape with assertions, so it is loosely typed. */
// biome-ignore lint/suspicious/noExplicitAny: the assertions that follow are the type check
export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T
}
